package report

import (
	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/arch/attention"
	"github.com/sparsesim/sparsesim/compare"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/energy"
)

// SchemaVersion changes when a key is renamed or removed (adding is free).
const SchemaVersion = 1

// Report is the documented output of one run.
type Report struct {
	SchemaVersion int             `json:"schema_version"`
	Config        *configs.Config `json:"config"`
	Workload      WorkloadInfo    `json:"workload"`
	Layers        []Layer         `json:"layers"`
	Total         Total           `json:"total"`
	// Attention is present for attention-engine runs.
	Attention *Attention `json:"attention,omitempty"`
	// Energy prices the run's actions (docs/energy.md).
	Energy *energy.Breakdown `json:"energy"`
	// FPGA is present for configs with an FPGA target.
	FPGA *energy.FPGAReport `json:"fpga,omitempty"`
	// Functional is present with `run --functional`.
	Functional *compare.Summary `json:"functional,omitempty"`
	Sim        SimInfo          `json:"sim"`
}

// Attention summarises a sparse attention engine run (docs/report.md).
type Attention struct {
	Rows             int64            `json:"rows"`
	Queries          int64            `json:"queries"`
	RequantRows      int64            `json:"requant_rows"`
	RequantQueries   int64            `json:"requant_queries"`
	KeysFetched      int64            `json:"keys_fetched"`
	ValuesFetched    int64            `json:"values_fetched"`
	QBytes           int64            `json:"q_bytes"`
	KMSBBytes        int64            `json:"k_msb_bytes"`
	KLSBBytes        int64            `json:"k_lsb_bytes"`
	VBytes           int64            `json:"v_bytes"`
	UnitBusyCycles   map[string]int64 `json:"unit_busy_cycles"`
	TopKLocalVCycles int64            `json:"topk_local_v_cycles"`
	TopKTokenCycles  int64            `json:"topk_token_cycles"`
	TopKHeadCycles   int64            `json:"topk_head_cycles"`
	Requests         int64            `json:"requests"`
	FusedPairs       int64            `json:"fused_pairs"`
	OutBytes         int64            `json:"out_bytes"`
	DRAMRequests     int64            `json:"dram_requests"`
	TransferredBytes int64            `json:"transferred_bytes"`
	KChunks          int64            `json:"k_chunked_requests"`
	VChunks          int64            `json:"v_chunked_requests"`
	TopKRounds       int64            `json:"topk_rounds"`
	ImportanceAdds   int64            `json:"importance_adds"`
	EffectiveTFLOPS  float64          `json:"effective_tflops"`
	ExecutedTFLOPS   float64          `json:"executed_tflops"`
}

// WorkloadInfo names what ran.
type WorkloadInfo struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	Layers int    `json:"layers"`
}

// PerBuffer is a count for each operand buffer.
type PerBuffer struct {
	Ifmap  int64 `json:"ifmap"`
	Filter int64 `json:"filter"`
	Ofmap  int64 `json:"ofmap"`
}

func perBuffer(v [3]int64) PerBuffer { return PerBuffer{v[0], v[1], v[2]} }

// Layer is one layer's row.
type Layer struct {
	Name                  string    `json:"name"`
	Kind                  string    `json:"kind"`
	Phase                 string    `json:"phase,omitempty"`
	Dataflow              string    `json:"dataflow"`
	NM                    string    `json:"nm"`
	M                     int       `json:"m"`
	N                     int       `json:"n"`
	K                     int       `json:"k"`
	Groups                int       `json:"groups"`
	Folds                 int       `json:"folds"`
	MACs                  int64     `json:"macs"`
	DenseMACs             int64     `json:"dense_macs"`
	Cycles                int64     `json:"cycles"`
	ComputeCycles         int64     `json:"compute_cycles"`
	StallCycles           int64     `json:"stall_cycles"`
	Utilization           float64   `json:"utilization"`
	MappingEfficiency     float64   `json:"mapping_efficiency"`
	SRAMReads             PerBuffer `json:"sram_reads"`
	SRAMWrites            PerBuffer `json:"sram_writes"`
	DRAMReadBytes         int64     `json:"dram_read_bytes"`
	DRAMWriteBytes        int64     `json:"dram_write_bytes"`
	MetadataBytes         int64     `json:"metadata_bytes"`
	MaskGenCycles         int64     `json:"mask_gen_cycles"`
	AchievedBandwidthGBps float64   `json:"achieved_bandwidth_gbps"`
	Seconds               float64   `json:"seconds"`
	EnergyPJ              float64   `json:"energy_pj"`
	// SpeedupVsDense is the dense run's cycles over this run's, when the
	// run had a dense baseline (sparse configs).
	SpeedupVsDense float64 `json:"speedup_vs_dense,omitempty"`
	// WindowMACs (attention runs) are the MACs done within the layer's
	// cycles, whichever layer's work they were: utilization's numerator
	// there, since a layer's own MACs partly run in a neighbour's cycles.
	WindowMACs *int64 `json:"window_macs,omitempty"`
	// Memory is the layer's DRAM traffic by tensor, beside the compulsory
	// traffic, and what bounds the layer (docs/memory.md).
	Memory *LayerMemory `json:"memory,omitempty"`
	// Mapping is the temporal mapping the layer ran and why the mapper
	// chose it (docs/mapping.md); absent for engines without a mapper.
	Mapping *arch.MappingChoice `json:"mapping,omitempty"`
	// Units is each matrix unit's share (pe_array.units above 1).
	Units []UnitReport `json:"units,omitempty"`
}

// LayerMemory is one layer's traffic as the memory model booked it.
type LayerMemory struct {
	// ReadBytes and WriteBytes by tensor kind: ifmap, filter, metadata,
	// ofmap (final outputs), psum (partial sums spilled and read back at
	// the accumulator width), extra (an update's compressed copies).
	ReadBytes  map[string]int64 `json:"read_bytes"`
	WriteBytes map[string]int64 `json:"write_bytes"`
	// TransferredBytes is what the bus moved: DRAM requests × request size
	// (≥ the useful bytes: runs shorter than a request waste the rest).
	TransferredBytes int64 `json:"transferred_bytes"`
	// CompulsoryReadBytes / CompulsoryWriteBytes: every tensor once (the
	// input unless it stayed on chip, weights with metadata; the output).
	CompulsoryReadBytes  int64 `json:"compulsory_read_bytes"`
	CompulsoryWriteBytes int64 `json:"compulsory_write_bytes"`
	// Input is "dram" or "on-chip" (the previous layer's output stayed).
	Input string `json:"input"`
	// Bound is what limits the layer: "compute" (the array's cycles are
	// the longest), "bandwidth" (even the compulsory bytes at peak take
	// longer than compute), "capacity" (the compulsory bytes would not,
	// but the refetches a small buffer causes do) or "burst" (the useful
	// bytes would not either, but the whole DRAM requests that carry rows
	// shorter than a request do).
	Bound string `json:"bound"`
}

// Total sums the layers.
type Total struct {
	Cycles                int64   `json:"cycles"`
	StallCycles           int64   `json:"stall_cycles"`
	MACs                  int64   `json:"macs"`
	DenseMACs             int64   `json:"dense_macs"`
	Utilization           float64 `json:"utilization"`
	DRAMReadBytes         int64   `json:"dram_read_bytes"`
	DRAMWriteBytes        int64   `json:"dram_write_bytes"`
	AchievedBandwidthGBps float64 `json:"achieved_bandwidth_gbps"`
	PeakBandwidthGBps     float64 `json:"peak_bandwidth_gbps"`
	MetadataBytes         int64   `json:"metadata_bytes"`
	MaskGenCycles         int64   `json:"mask_gen_cycles"`
	Seconds               float64 `json:"seconds"`
	EnergyPJ              float64 `json:"energy_pj"`
	// GOPS counts 2 operations per dense-equivalent MAC (what the
	// workload needs) per second; GOPSPerW divides by average power.
	GOPS     float64 `json:"gops"`
	GOPSPerW float64 `json:"gops_per_w"`
	// DenseCycles and SpeedupVsDense come from the dense baseline run.
	DenseCycles    int64   `json:"dense_cycles,omitempty"`
	SpeedupVsDense float64 `json:"speedup_vs_dense,omitempty"`
	// Phases splits cycles by training phase (fwd, bwd_data, bwd_weight,
	// update) when the workload is a training step.
	Phases map[string]int64 `json:"phase_cycles,omitempty"`
}

// SimInfo is about the simulator run itself; the only block that differs
// between two runs of the same input.
type SimInfo struct {
	Events          int64   `json:"events"`
	WallSeconds     float64 `json:"wall_seconds"`
	EventsPerSecond float64 `json:"events_per_second"`
	CyclesPerSecond float64 `json:"simulated_cycles_per_second"`
}

// Effective is the config as reports show it: widths left at 0 ("the
// default") replaced by the widths the run used, so a report never says
// 0 bits.
func Effective(cfg *configs.Config) *configs.Config {
	c := *cfg
	c.Memory.AccumulatorBits, c.Memory.OutputBits = cfg.AccBits(), cfg.OutBits()
	return &c
}

// scaleSimCompute is a layer's array time in the convention of its cycles
// (LayerStats.Cycles): SCALE-Sim counts to the last busy cycle, so a layer
// that never stalls has compute_cycles = cycles, and compute + stall +
// mask generation = cycles.
func scaleSimCompute(s arch.LayerStats) int64 {
	if s.ComputeCycles <= 0 || s.RunShare {
		return s.ComputeCycles
	}
	return s.ComputeCycles + s.Cycles() - s.Elapsed
}

// UnitReport is one matrix unit's part of a layer.
type UnitReport struct {
	MACs          int64   `json:"macs"`
	ComputeCycles int64   `json:"compute_cycles"`
	Utilization   float64 `json:"utilization"` // MACs over the layer's cycles × the unit's PEs
	// InterconnectBytes crossed the unit's crossbar port (operands in,
	// outputs out).
	InterconnectBytes int64 `json:"interconnect_bytes"`
}

// New derives the report from a result; base, if not nil, is the same run
// with dense weights, for the speedup columns.
func New(r *arch.Result, base *arch.Result) (*Report, error) {
	cfg := r.Config
	pes := float64(cfg.PEs())
	if r.Attention != nil {
		// The attention engine's multipliers are its Q×K and prob×V
		// modules' (the shipped configs also set pe_array to their sum);
		// a pe_array set apart from them must not move utilization.
		pes = float64(cfg.Attention.QKMultipliers + cfg.Attention.PVMultipliers)
	}
	hz := cfg.ClockMHz * 1e6
	rep := &Report{SchemaVersion: SchemaVersion, Config: Effective(cfg),
		Workload: WorkloadInfo{Name: r.Workload.Name, Source: r.Workload.Source, Layers: len(r.Workload.Layers)}}
	var elapsed int64
	for _, s := range r.Layers {
		// A share of a partitioned run (attention) is utilised by the
		// MACs done within it, whoever's: its own MACs partly ran in a
		// neighbour's share (docs/report.md).
		work := s.MACs
		if s.RunShare {
			work = s.WindowMACs
		}
		l := Layer{
			Name: s.Layer.Name, Kind: s.Layer.Kind, Phase: s.Layer.Phase, Dataflow: s.Dataflow, NM: s.Pattern,
			MaskGenCycles: s.MaskGenCycles, M: s.Layer.M, N: s.Layer.N, K: s.Layer.K, Groups: s.Layer.Groups,
			Folds: s.Folds, MACs: s.MACs, DenseMACs: s.DenseMACs,
			Cycles: s.Cycles(), ComputeCycles: scaleSimCompute(s), StallCycles: s.StallCycles(),
			Utilization:       utilization(work, s.Cycles(), pes),
			MappingEfficiency: s.MappingEfficiency,
			SRAMReads:         perBuffer(s.SRAMReads), SRAMWrites: perBuffer(s.SRAMWrites),
			DRAMReadBytes: s.DRAMReadBytes, DRAMWriteBytes: s.DRAMWriteBytes, MetadataBytes: s.MetadataBytes,
			Seconds: float64(s.Cycles()) / hz,
		}
		if s.RunShare {
			wm := s.WindowMACs
			l.WindowMACs = &wm
		}
		if s.Mapping.Search != "" {
			mc := s.Mapping
			l.Mapping = &mc
		}
		for _, u := range s.Units {
			l.Units = append(l.Units, UnitReport{MACs: u.MACs, ComputeCycles: u.ComputeCycles,
				Utilization:       utilization(u.MACs, s.Cycles(), float64(cfg.PEArray.Rows*cfg.PEArray.Cols)),
				InterconnectBytes: u.InterconnectBytes})
		}
		l.AchievedBandwidthGBps = gbps(s.DRAMReadBytes+s.DRAMWriteBytes, float64(s.Elapsed)/hz)
		// The attention engine's layers too: its compulsory bytes are the
		// elements its rows touch (arch/attention), not its traffic.
		l.Memory = layerMemory(cfg, s)
		t := &rep.Total
		if base != nil {
			b := base.Layers[len(rep.Layers)].Cycles()
			l.SpeedupVsDense = float64(b) / float64(l.Cycles)
			t.DenseCycles += b
		}
		if l.Phase != "" {
			if t.Phases == nil {
				t.Phases = map[string]int64{}
			}
			t.Phases[l.Phase] += l.Cycles
		}
		rep.Layers = append(rep.Layers, l)
		t.MetadataBytes += l.MetadataBytes
		t.MaskGenCycles += l.MaskGenCycles
		t.Cycles += l.Cycles
		t.StallCycles += l.StallCycles
		t.MACs += l.MACs
		t.DenseMACs += l.DenseMACs
		t.DRAMReadBytes += l.DRAMReadBytes
		t.DRAMWriteBytes += l.DRAMWriteBytes
		elapsed += s.Elapsed
	}
	t := &rep.Total
	if len(r.Layers) > 0 && r.Span == nil {
		// Layers ran back to back: the run's last busy cycle, SCALE-Sim's
		// convention taken once for the whole run (each layer's cycles
		// take it for the layer: they sum to layers − 1 less).
		t.Cycles = elapsed - 1
	}
	if sp := r.Span; sp != nil {
		// Layers overlapped in time: the run's own span, not their sum.
		elapsed, t.Cycles, t.StallCycles = sp.Elapsed, sp.Elapsed-1, sp.Stalls()
	}
	if rep.Workload.Layers == 0 && r.Attention != nil {
		rep.Workload.Layers = len(r.Layers)
	}
	if base != nil && t.Cycles > 0 {
		t.SpeedupVsDense = float64(t.DenseCycles) / float64(t.Cycles)
	}
	t.Seconds = float64(t.Cycles) / hz
	t.Utilization = utilization(t.MACs, t.Cycles, pes)
	t.AchievedBandwidthGBps = gbps(t.DRAMReadBytes+t.DRAMWriteBytes, float64(elapsed)/hz)
	if cfg.DRAM.Model != configs.DRAMIdeal {
		t.PeakBandwidthGBps = cfg.DRAM.BandwidthGBps * float64(cfg.DRAM.Channels)
	}
	if a := r.Attention; a != nil {
		rep.Attention = &Attention{Rows: a.Rows, Queries: a.Queries, RequantRows: a.RequantRows, RequantQueries: a.RequantQueries,
			KeysFetched: a.KeysFetched, ValuesFetched: a.ValuesFetched, QBytes: a.QBytes,
			KMSBBytes: a.KMSBBytes, KLSBBytes: a.KLSBBytes, VBytes: a.VBytes,
			UnitBusyCycles:   map[string]int64{},
			TopKLocalVCycles: a.TopKLocalVCycles, TopKTokenCycles: a.TopKTokenCycles, TopKHeadCycles: a.TopKHeadCycles,
			Requests: a.Requests, FusedPairs: a.FusedPairs, OutBytes: a.OutBytes, KChunks: a.KChunks, VChunks: a.VChunks,
			DRAMRequests: a.DRAMRequests, TransferredBytes: a.TransferredBytes,
			TopKRounds: a.TopKRounds, ImportanceAdds: a.ImportanceAdds,
			EffectiveTFLOPS: a.EffectiveTFLOPS(elapsed, cfg.ClockMHz)}
		if elapsed > 0 {
			rep.Attention.ExecutedTFLOPS = 2 * float64(a.MACs) / (float64(elapsed) / hz) / 1e12
		}
		for i, n := range attention.UnitNames() {
			rep.Attention.UnitBusyCycles[n] = a.UnitBusy[i]
		}
	}
	e, err := energy.Estimate(cfg, r)
	if err != nil {
		return nil, err
	}
	rep.Energy = e
	t.EnergyPJ = e.TotalPJ
	for i := range rep.Layers {
		rep.Layers[i].EnergyPJ = e.LayerPJ[i]
	}
	if secs := float64(elapsed) / hz; secs > 0 {
		t.GOPS = 2 * float64(t.DenseMACs) / secs / 1e9
		if e.AveragePowerW > 0 {
			t.GOPSPerW = t.GOPS / e.AveragePowerW
		}
	}
	if cfg.FPGA.Device != "" {
		if rep.FPGA, err = energy.FPGA(cfg); err != nil {
			return nil, err
		}
	}
	rep.Sim = SimInfo{Events: r.Events, WallSeconds: r.WallSeconds}
	if r.WallSeconds > 0 {
		rep.Sim.EventsPerSecond = float64(r.Events) / r.WallSeconds
		rep.Sim.CyclesPerSecond = float64(elapsed) / r.WallSeconds
	}
	return rep, nil
}

// utilization is macs over what pes multipliers could do in cycles; 0
// for a layer charged no cycles (a share of an overlapped run can be
// empty), not NaN.
func utilization(macs, cycles int64, pes float64) float64 {
	if cycles <= 0 || pes <= 0 {
		return 0
	}
	return float64(macs) / (float64(cycles) * pes)
}

func gbps(bytes int64, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(bytes) / seconds / 1e9
}

// layerMemory reads a layer's traffic out of its stats.
func layerMemory(cfg *configs.Config, s arch.LayerStats) *LayerMemory {
	m := &LayerMemory{ReadBytes: map[string]int64{}, WriteBytes: map[string]int64{},
		CompulsoryReadBytes: s.CompulsoryReadBytes, CompulsoryWriteBytes: s.CompulsoryWriteBytes, Input: s.Input}
	var requests int64
	for k, t := range s.Traffic {
		name := arch.TensorKindNames[k]
		m.ReadBytes[name] = t.ReadBytes
		m.WriteBytes[name] = t.WriteBytes
		requests += t.Requests
	}
	m.TransferredBytes = requests * int64(cfg.DRAM.RequestBytes)
	m.Bound = "compute"
	if cfg.DRAM.Model != configs.DRAMIdeal {
		peak := cfg.BytesPerCycle() * float64(cfg.DRAM.Channels)
		compute := float64(s.ComputeCycles + s.MaskGenCycles)
		switch {
		case float64(s.CompulsoryReadBytes+s.CompulsoryWriteBytes)/peak > compute:
			m.Bound = "bandwidth"
		case float64(s.DRAMReadBytes+s.DRAMWriteBytes)/peak > compute:
			m.Bound = "capacity"
		case float64(m.TransferredBytes)/peak > compute:
			m.Bound = "burst"
		}
	}
	return m
}
