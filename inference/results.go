package inference

import (
	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/energy"
	"github.com/sparsesim/sparsesim/inference/ops"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// Bytes splits DRAM traffic (reads and writes) by what moves.
type Bytes struct {
	Weights     int64 `json:"weights"`
	KV          int64 `json:"kv"`
	Activations int64 `json:"activations"`
}

// Total sums the split.
func (b Bytes) Total() int64 { return b.Weights + b.KV + b.Activations }

func (b *Bytes) add(o Bytes) {
	b.Weights += o.Weights
	b.KV += o.KV
	b.Activations += o.Activations
}

// ClassStats is one operator class over a phase.
type ClassStats struct {
	Ops           int64
	Cycles        int64 // elapsed, the operators run one after another
	ComputeCycles int64 // array (or vector unit, top-k engine) busy
	MACs          int64 // array MACs; vector operations for the vector class
	Bytes         Bytes
	// EnergyPJ is the class's own priced energy (energy.Meter): its GEMMs'
	// MACs, registers, SRAM and DRAM, and the DRAM of its gathers and
	// engine attention. Leakage is the phase's, not a class's; vector
	// arithmetic is not priced (PhaseStats.Energy).
	EnergyPJ float64
	// tally counts what EnergyPJ prices, in integers (energy.Tally): the
	// class is priced once when its phase closes, so memoized and
	// one-engine runs add up to the same bits.
	tally energy.Tally
}

// PhaseStats sums a phase (prefill, or every decode step).
type PhaseStats struct {
	Steps   int
	Cycles  int64
	Bytes   Bytes
	Gather  GatherTotals // the gather DMA's share of Bytes
	Classes []ClassStats // indexed like ops.Classes
	// Attention says how the phase's attention ran (attentionLowering);
	// AttentionFused is whether a fused attention operator ran.
	Attention      string
	AttentionFused bool
	// Energy is the phase's energy with energy.Estimate's tables: every
	// GEMM as a measured layer (times its repeats), gathers' and engine
	// attention's DRAM traffic, and leakage over the phase's cycles. The
	// tables have no energy per vector-unit operation, so the vector
	// class's work (its MACs: elementwise, norm and softmax operations),
	// top-k selection and the attention engine's on-chip work are left
	// out; their DRAM traffic is priced.
	Energy *energy.Breakdown
	meter  *energy.Meter
}

// StepStats is one decode step.
type StepStats struct {
	Context int // tokens attended to per sequence (after the window)
	Cycles  int64
	Bytes   Bytes
	Gather  GatherTotals
}

// OpRecord is one operator instance (LLMOptions.RecordOps).
type OpRecord struct {
	Step   int // -1 for prefill
	Name   string
	Class  string
	Cycles int64
	Bytes  Bytes
	Stats  arch.LayerStats // GEMM operators
	Gather arch.GatherSummary
}

// LLMResult is an LLM run's measurements.
type LLMResult struct {
	Config    *configs.Config
	Model     llm.Model
	Options   LLMOptions
	Footprint llm.Footprint
	Prefill   *PhaseStats
	Decode    *PhaseStats
	Steps     []StepStats
	// Memoized runs count distinct simulations and reuses.
	Memoized          bool
	Simulated, Reused int64
	Events            int64
	WallSeconds       float64
	Ops               []OpRecord
	// MoE is the routing's statistics (nil for a dense model; arch/moe.go).
	MoE *MoEStats
}

func newPhase(cfg *configs.Config) (*PhaseStats, error) {
	m, err := energy.NewMeter(cfg, false)
	if err != nil {
		return nil, err
	}
	return &PhaseStats{Classes: make([]ClassStats, len(ops.Classes)), meter: m}, nil
}

// finish prices the classes and closes the phase's energy account over
// its cycles.
func (p *PhaseStats) finish() {
	var all energy.Tally
	for i := range p.Classes {
		c := &p.Classes[i]
		c.EnergyPJ = p.meter.Price(c.tally)
		all.Add(c.tally)
	}
	p.meter.Charge(all)
	p.Energy = p.meter.Finish(p.Cycles)
	p.meter = nil
}

func classIndex(c string) int {
	for i, x := range ops.Classes {
		if x == c {
			return i
		}
	}
	panic("unknown operator class " + c)
}
