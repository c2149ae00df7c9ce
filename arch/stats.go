package arch

import (
	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/workloads"
)

// Tensor kinds of a layer, in the order stats report them.
const (
	TensorIfmap = iota
	TensorFilter
	TensorMeta
	TensorOfmap
	TensorPsum
	TensorExtra // pre-generated compressed weights written by an update
	NumTensorKinds
)

// TensorKindNames names the kinds in reports.
var TensorKindNames = [NumTensorKinds]string{"ifmap", "filter", "metadata", "ofmap", "psum", "extra"}

// Where a layer's input came from.
const (
	InputFromDRAM   = "dram"
	InputFromOnChip = "on-chip"
)

// LayerStats is what one layer did on the accelerator.
type LayerStats struct {
	Layer             workloads.Layer
	Folds             int
	Steps             int
	StartCycle        int64
	Elapsed           int64 // cycles from the previous layer's end to this layer's last write
	ComputeCycles     int64 // cycles the PE array was busy
	MACs              int64 // useful MACs done
	DenseMACs         int64 // MACs the dense layer needs
	MappingEfficiency float64
	SRAMReads         [3]int64 // words, per buffer (ifmap, filter, ofmap)
	SRAMWrites        [3]int64
	DRAMReadBytes     int64 // including metadata and partial sums read back
	DRAMWriteBytes    int64 // outputs and partial sums spilled
	// DRAMReadByOperand splits DRAMReadBytes by buffer (ifmap, filter
	// with its metadata, ofmap: partial sums read back).
	DRAMReadByOperand [3]int64
	MetadataBytes     int64 // N:M index bytes fetched (part of DRAMReadBytes)
	// Traffic is the DRAM traffic by tensor kind (TensorKindNames), from
	// the memory model's ledger.
	Traffic [NumTensorKinds]memory.Traffic
	// CompulsoryReadBytes and CompulsoryWriteBytes are each tensor once:
	// the input and the weights (with metadata) read, the output written.
	CompulsoryReadBytes  int64
	CompulsoryWriteBytes int64
	// Input says where the layer's input came from (InputFromDRAM, or
	// InputFromOnChip when the previous layer's output stayed on chip).
	Input string
	// FilterHeld: the layer asked for its K×N operand on chip
	// (Layer.FilterOnChip) and it fitted the filter buffer, so it was
	// not read from DRAM.
	FilterHeld bool
	// RunShare marks a layer whose Elapsed is its share of one run that
	// layers overlapping in time partition (the attention engine). The
	// run has one last busy cycle, so SCALE-Sim's −1 is taken once, from
	// the share that holds the run's cycle 0 (RunStart): the layers'
	// cycles then add up to the run's.
	RunShare, RunStart bool
	// WindowMACs (RunShare layers) are the MACs done within the layer's
	// share, whichever layer's work they were: utilization's numerator,
	// beside cycles that are time shares, not the layer's own span.
	WindowMACs    int64
	MaskGenCycles int64 // mask-generation unit time before the first fold
	MaskGroups    int64 // groups of MaskM weights the mask unit sorted
	MaskM         int
	Dataflow      string
	Pattern       string // the N:M pattern executed, or dense
	// Mapping is the temporal mapping the layer ran and how it was chosen.
	Mapping MappingChoice
	// Units is each matrix unit's share (several units only);
	// ComputeCycles is then the busiest unit's.
	Units []UnitStats
}

// UnitStats is what one matrix unit did in a layer.
type UnitStats struct {
	MACs          int64
	ComputeCycles int64 // cycles with a step in the unit's array
	// InterconnectBytes crossed the unit's crossbar port: operands in,
	// outputs out.
	InterconnectBytes int64
}

// MappingChoice is a layer's temporal mapping and the search that chose
// it (arch/systolic's mapper).
type MappingChoice struct {
	Search    string `json:"search"`
	Objective string `json:"objective"`
	// Order is the fold loops outermost first (R row folds, C column
	// folds, T time tiles); Loops says it in GEMM dimensions.
	Order     string `json:"order"`
	Loops     string `json:"loops"`
	TimeTile  int    `json:"time_tile"`
	TimeTiles int    `json:"time_tiles"`
	// PsumsOnChip: every partial sum stays in the accumulator until final.
	PsumsOnChip bool `json:"psums_on_chip"`
	// Considered candidates were ranked analytically; Simulated of them
	// ran on the memory model; Value is the winner's simulated objective.
	Considered int     `json:"considered"`
	Simulated  int     `json:"simulated"`
	Value      float64 `json:"value,omitempty"`
	// RunnerUp is the second-best simulated candidate's objective.
	RunnerUp      float64 `json:"runner_up,omitempty"`
	RunnerUpOrder string  `json:"runner_up_order,omitempty"`
	RunnerUpTile  int     `json:"runner_up_time_tile,omitempty"`
	Why           string  `json:"why"`
}

// Cycles is SCALE-Sim's convention: the index of the last busy cycle,
// counting from 0, i.e. elapsed − 1. A share of a partitioned run
// (RunShare) other than the first counts from the previous share's last
// busy cycle: its elapsed time.
func (l LayerStats) Cycles() int64 {
	if l.RunShare && !l.RunStart {
		return l.Elapsed
	}
	return l.Elapsed - 1
}

// StallCycles are cycles the PE array waited for data or for write-back.
func (l LayerStats) StallCycles() int64 { return max(0, l.Elapsed-l.ComputeCycles-l.MaskGenCycles) }

// The attention engine's compute units (arch/attention), in
// AttnStats.UnitBusy order.
const NumAttnUnits = 5

// AttnUnitNames names AttnStats.UnitBusy entries.
var AttnUnitNames = [NumAttnUnits]string{"QK", "Softmax", "TopK", "PV", "Importance"}

// AttnStats is what the attention engine did, for the report.
type AttnStats struct {
	Rows, RequantRows int64
	RequantQueries    int64
	Queries           int64
	// Requests are what the RTL receives: a row, or a fused pair of 6-bit
	// rows; FusedPairs counts the pairs.
	Requests, FusedPairs int64
	// KeysFetched and ValuesFetched count vectors after the RTL's rounding
	// to multiples of 8 (a fused pair fetches its first row's count).
	KeysFetched, ValuesFetched int64
	// Requested bytes by kind; their sum is what the buffers moved in.
	QBytes, KMSBBytes, KLSBBytes int64
	VBytes                       int64
	OutBytes                     int64 // outputs drained to DRAM
	// DRAMRequests are the DRAM requests the regions above took
	// (memory.Tensor.Runs); TransferredBytes = DRAMRequests ×
	// request_bytes is what the bus moved. It exceeds the bytes above
	// when rows are not whole requests or kept tokens are not contiguous.
	DRAMRequests, TransferredBytes int64
	// KChunks and VChunks count requests whose K or V did not fit the SRAM
	// and streamed through it in chunks.
	KChunks, VChunks                  int64
	UnitBusy                          [NumAttnUnits]int64
	TopKLocalVCycles, TopKTokenCycles int64
	TopKHeadCycles                    int64
	TopKRounds                        int64
	TopKCompares                      int64 // Σ candidates over all rounds
	SoftmaxElems                      int64
	// ImportanceAdds are the token-importance accumulations (one per
	// probability of a row that accumulates).
	ImportanceAdds  int64
	DenseMACs, MACs int64
}

// EffectiveTFLOPS is the dense attention work (2 FLOPs per MAC of
// Q·Kᵀ and P·V over the whole context) per second of simulated time.
func (s *AttnStats) EffectiveTFLOPS(cycles int64, clockMHz float64) float64 {
	if cycles <= 0 {
		return 0
	}
	return 2 * float64(s.DenseMACs) / (float64(cycles) / (clockMHz * 1e6)) / 1e12
}

// RunSpan is a run whose layers overlap in time: its elapsed cycles (from
// the first action to the last completion) and the busiest unit's cycles.
// Per-layer spans then add up to more than the run.
type RunSpan struct {
	Elapsed, Compute int64
}

// Stalls are the cycles the busiest unit waited.
func (s *RunSpan) Stalls() int64 { return s.Elapsed - s.Compute }
