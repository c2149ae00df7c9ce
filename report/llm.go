package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/energy"
	"github.com/sparsesim/sparsesim/inference"
	"github.com/sparsesim/sparsesim/inference/ops"
	"github.com/sparsesim/sparsesim/internal/plotx"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// LLMReport is the documented output of an LLM run (docs/report.md, LLM
// runs; docs/llm.md).
type LLMReport struct {
	SchemaVersion int             `json:"schema_version"`
	Config        *configs.Config `json:"config"`
	Model         llm.Model       `json:"model"`
	LLM           LLMSummary      `json:"llm"`
	Phases        []LLMPhase      `json:"phases"`
	Steps         []LLMStep       `json:"steps"`
	// MoE is the routing block of MoE models (report/moe.go).
	MoE *MoESummary `json:"moe,omitempty"`
	// KVSparsity is set for runs with a kv_sparsity.method (report/kvsparse.go).
	KVSparsity *KVSparsity `json:"kv_sparsity,omitempty"`
	Sim        LLMSim      `json:"sim"`
}

// LLMSummary is the `llm` block: latency, throughput, traffic, footprint.
type LLMSummary struct {
	Phase           string  `json:"phase"`
	Prompt          int     `json:"prompt"`
	Gen             int     `json:"gen"`
	Batch           int     `json:"batch"`
	TTFTSeconds     float64 `json:"ttft_seconds"`
	TPOTSeconds     float64 `json:"tpot_seconds"`
	TPOTP50Seconds  float64 `json:"tpot_p50_seconds"`
	TPOTP99Seconds  float64 `json:"tpot_p99_seconds"`
	TokensPerSecond float64 `json:"tokens_per_second"`
	DecodeSteps     int     `json:"decode_steps"`
	// PrefillDRAMBytes and DecodeDRAMBytes total reads and writes over the
	// phase, split by what moved.
	PrefillDRAMBytes     inference.Bytes `json:"prefill_dram_bytes"`
	DecodeDRAMBytes      inference.Bytes `json:"decode_dram_bytes"`
	KVDType              string          `json:"kv_dtype"`
	KVBytesPerTokenLayer int64           `json:"kv_bytes_per_token_layer"`
	WeightBytes          int64           `json:"weight_bytes"`
	KVCacheBytes         int64           `json:"kv_cache_bytes"`
	ActivationBytes      int64           `json:"activation_bytes"`
	CapacityBytes        int64           `json:"capacity_bytes"`
	// Tokens is what TokensPerSecond counts: the prompt's tokens of a
	// prefill run, the generated tokens of decode and generate runs, over
	// the batch.
	Tokens int `json:"tokens"`
	// EnergyPJ is the run's energy (the phases' sum), EnergyPerTokenPJ it
	// over Tokens and AveragePowerW it over the run's time. The vector
	// unit's arithmetic is not priced (energy/ has no per-operation
	// energy for it): UnpricedVectorOps counts what is left out.
	EnergyPJ          float64 `json:"energy_pj"`
	EnergyPerTokenPJ  float64 `json:"energy_per_token_pj"`
	AveragePowerW     float64 `json:"average_power_w"`
	UnpricedVectorOps int64   `json:"energy_unpriced_vector_ops"`
}

// LLMPhase is one phase split by operator class.
type LLMPhase struct {
	Name      string          `json:"name"`
	Steps     int             `json:"steps"`
	Cycles    int64           `json:"cycles"`
	Seconds   float64         `json:"seconds"`
	DRAMBytes inference.Bytes `json:"dram_bytes"`
	// Attention is how the phase's attention ran: "fused" (scores on
	// chip, attention.fused), "unfused", "unfused: no fused tile fits the
	// buffers", "attention engine" or a KV-sparsity lowering;
	// AttentionFused is whether it was fused.
	Attention      string     `json:"attention"`
	AttentionFused bool       `json:"attention_fused"`
	Classes        []LLMClass `json:"classes"`
	// Tokens is what the phase processes: the prompt's tokens (prefill)
	// or one generated token a step (decode), over the batch.
	Tokens int `json:"tokens"`
	// Energy is the phase's energy by component and class
	// (inference.PhaseStats.Energy: GEMMs and DRAM traffic priced with
	// energy.Estimate's tables, leakage over the phase's time, vector
	// arithmetic not priced); EnergyPerTokenPJ is its total over Tokens.
	Energy           *energy.Breakdown `json:"energy"`
	EnergyPerTokenPJ float64           `json:"energy_per_token_pj"`
}

// LLMClass is one operator class over a phase, with its roofline.
type LLMClass struct {
	Class         string          `json:"class"`
	Ops           int64           `json:"ops"`
	Cycles        int64           `json:"cycles"`
	Seconds       float64         `json:"seconds"`
	Share         float64         `json:"share"`
	ComputeCycles int64           `json:"compute_cycles"`
	Work          int64           `json:"work"`
	DRAMBytes     inference.Bytes `json:"dram_bytes"`
	// ArithmeticIntensity is 2·work per DRAM byte (FLOP/B); 0 when the
	// class moves no DRAM bytes.
	ArithmeticIntensity float64 `json:"arithmetic_intensity"`
	// RooflineBound names the longest of three bounds: "compute" (the
	// work at peak MACs), "memory" (the DRAM bytes at peak bandwidth) and
	// "array_load" (the weight and KV elements through the arrays' edges,
	// ArrayLoadCycles).
	RooflineBound string `json:"roofline_bound"`
	// ArrayLoadCycles is the weight and KV operand bytes over what the
	// arrays take in a cycle: units × max(rows, cols) operand words (one
	// element per edge PE a cycle, whichever edge the dataflow loads
	// through); 0 for the vector class.
	ArrayLoadCycles    int64   `json:"array_load_cycles"`
	RooflineCycles     int64   `json:"roofline_cycles"`
	RooflineEfficiency float64 `json:"roofline_efficiency"`
	// EnergyPJ is the class's own priced energy (its GEMMs and DRAM
	// traffic; no leakage, which is the phase's; 0 for the vector class,
	// whose arithmetic is not priced and which moves no DRAM bytes).
	EnergyPJ float64 `json:"energy_pj"`
}

// LLMStep is one decode step.
type LLMStep struct {
	Step      int             `json:"step"`
	Context   int             `json:"context"`
	Cycles    int64           `json:"cycles"`
	Seconds   float64         `json:"seconds"`
	DRAMBytes inference.Bytes `json:"dram_bytes"`
}

// LLMSim is about the simulator run; the only block that differs between
// runs of the same input (and between memoized and unmemoized runs).
type LLMSim struct {
	Memoized    bool    `json:"memoized"`
	Simulated   int64   `json:"simulated"`
	Reused      int64   `json:"reused"`
	Events      int64   `json:"events"`
	WallSeconds float64 `json:"wall_seconds"`
	// KernelSeconds is the host time of a technique's reference kernels
	// (kv_sparsity); like every host timing it is kept in this block.
	KernelSeconds float64 `json:"kernel_seconds,omitempty"`
}

// NewLLM derives the report from an LLM result.
func NewLLM(r *inference.LLMResult) *LLMReport {
	cfg, o := r.Config, r.Options
	hz := cfg.ClockMHz * 1e6
	sec := func(c int64) float64 { return float64(c) / hz }
	bits := configs.KVDTypeBits[cfg.KVCache.DType]
	// The model as the run used it: a head_dim the config.json left out
	// is hidden_size / num_attention_heads, not 0.
	m := r.Model
	m.HeadDim = m.HeadSize()
	rep := &LLMReport{SchemaVersion: SchemaVersion, Config: Effective(cfg), Model: m, Steps: []LLMStep{},
		LLM: LLMSummary{Phase: o.Phase, Prompt: o.Prompt, Gen: o.Gen, Batch: o.Batch, DecodeSteps: len(r.Steps),
			KVDType: cfg.KVCache.DType, KVBytesPerTokenLayer: r.Model.KVBytesPerTokenLayer(bits),
			WeightBytes: r.Footprint.Weights, KVCacheBytes: r.Footprint.KV, ActivationBytes: r.Footprint.Activations,
			CapacityBytes: int64(cfg.DRAM.CapacityGB * 1e9)},
		Sim: LLMSim{Memoized: r.Memoized, Simulated: r.Simulated, Reused: r.Reused, Events: r.Events, WallSeconds: r.WallSeconds}}
	rep.MoE = newMoESummary(r)
	s := &rep.LLM
	if p := r.Prefill; p != nil {
		s.TTFTSeconds = sec(p.Cycles)
		s.PrefillDRAMBytes = p.Bytes
		rep.Phases = append(rep.Phases, phaseOf(cfg, inference.PhasePrefill, p, o.Batch*o.Prompt))
	}
	var decodeCycles int64
	if d := r.Decode; d != nil {
		s.DecodeDRAMBytes = d.Bytes
		decodeCycles = d.Cycles
		rep.Phases = append(rep.Phases, phaseOf(cfg, inference.PhaseDecode, d, o.Batch*len(r.Steps)))
	}
	var runCycles int64
	for _, p := range []*inference.PhaseStats{r.Prefill, r.Decode} {
		if p != nil {
			runCycles += p.Cycles
			s.UnpricedVectorOps += p.Classes[vectorClass].MACs
		}
	}
	for _, p := range rep.Phases {
		if p.Energy != nil {
			s.EnergyPJ += p.Energy.TotalPJ
		}
	}
	if runCycles > 0 {
		s.AveragePowerW = s.EnergyPJ * 1e-12 / sec(runCycles)
	}
	cycles := make([]int64, len(r.Steps))
	for i, st := range r.Steps {
		cycles[i] = st.Cycles
		rep.Steps = append(rep.Steps, LLMStep{Step: i + 1, Context: st.Context, Cycles: st.Cycles, Seconds: sec(st.Cycles), DRAMBytes: st.Bytes})
	}
	if n := len(cycles); n > 0 {
		s.TPOTSeconds = sec(decodeCycles) / float64(n)
		slices.Sort(cycles)
		s.TPOTP50Seconds = sec(nearestRank(cycles, 50))
		s.TPOTP99Seconds = sec(nearestRank(cycles, 99))
	}
	switch o.Phase {
	case inference.PhasePrefill:
		s.Tokens = o.Batch * o.Prompt
		if s.TTFTSeconds > 0 {
			s.TokensPerSecond = float64(s.Tokens) / s.TTFTSeconds
		}
	case inference.PhaseDecode:
		s.Tokens = o.Batch * len(r.Steps)
		if decodeCycles > 0 {
			s.TokensPerSecond = float64(s.Tokens) / sec(decodeCycles)
		}
	default:
		s.Tokens = o.Batch * o.Gen
		if t := s.TTFTSeconds + sec(decodeCycles); t > 0 {
			s.TokensPerSecond = float64(s.Tokens) / t
		}
	}
	if s.Tokens > 0 {
		s.EnergyPerTokenPJ = s.EnergyPJ / float64(s.Tokens)
	}
	return rep
}

// nearestRank is the p-th percentile of sorted values by the nearest-rank
// rule: the smallest value with at least p% of the values at or below it.
func nearestRank(sorted []int64, p int) int64 {
	i := (p*len(sorted) + 99) / 100
	return sorted[max(i, 1)-1]
}

// vectorClass is the vector class's index in ops.Classes.
var vectorClass = slices.Index(ops.Classes, ops.ClassVector)

func phaseOf(cfg *configs.Config, name string, p *inference.PhaseStats, tokens int) LLMPhase {
	hz := cfg.ClockMHz * 1e6
	out := LLMPhase{Name: name, Steps: p.Steps, Cycles: p.Cycles, Seconds: float64(p.Cycles) / hz, DRAMBytes: p.Bytes,
		Attention: p.Attention, AttentionFused: p.AttentionFused, Tokens: tokens, Energy: p.Energy}
	if p.Energy != nil && tokens > 0 {
		out.EnergyPerTokenPJ = p.Energy.TotalPJ / float64(tokens)
	}
	macsPerCycle := float64(cfg.PEs())
	loadPerCycle := float64(cfg.PEArray.Units*max(cfg.PEArray.Rows, cfg.PEArray.Cols)) * float64(cfg.WordBytes())
	vecPerCycle := float64(cfg.Vector.Lanes * cfg.Vector.OpsPerCycle)
	bytesPerCycle := cfg.BytesPerCycle() * float64(cfg.DRAM.Channels)
	for i, c := range p.Classes {
		if c.Ops == 0 {
			continue
		}
		cl := LLMClass{Class: ops.Classes[i], Ops: c.Ops, Cycles: c.Cycles, Seconds: float64(c.Cycles) / hz,
			ComputeCycles: c.ComputeCycles, Work: c.MACs, DRAMBytes: c.Bytes, EnergyPJ: c.EnergyPJ}
		if p.Cycles > 0 {
			cl.Share = float64(c.Cycles) / float64(p.Cycles)
		}
		per := macsPerCycle
		if cl.Class == ops.ClassVector {
			per = vecPerCycle
		}
		compute := float64(c.MACs) / per
		memory := 0.0
		if b := c.Bytes.Total(); b > 0 {
			cl.ArithmeticIntensity = 2 * float64(c.MACs) / float64(b)
			if cfg.DRAM.Model != configs.DRAMIdeal {
				memory = float64(b) / bytesPerCycle
			}
		}
		load := 0.0
		// Work on the array only: the vector unit's, and attention run on
		// the attention engine (decode_on_engine), load nothing into it.
		if cl.Class != ops.ClassVector && !(cl.Class == ops.ClassAttention && cfg.Attention.DecodeOnEngine && name == "decode") {
			load = float64(c.Bytes.Weights+c.Bytes.KV) / loadPerCycle
			cl.ArrayLoadCycles = int64(load + 0.5)
		}
		cl.RooflineBound = "compute"
		switch {
		case load > compute && load > memory:
			cl.RooflineBound = "array_load"
		case memory > compute:
			cl.RooflineBound = "memory"
		}
		cl.RooflineCycles = int64(max(memory, compute, load) + 0.5)
		// Vector work hidden behind the array (a fused attention's online
		// softmax) is busy longer than the time it adds: its efficiency is
		// over the busy time.
		if busy := max(c.Cycles, c.ComputeCycles); busy > 0 {
			cl.RooflineEfficiency = float64(cl.RooflineCycles) / float64(busy)
		}
		out.Classes = append(out.Classes, cl)
	}
	return out
}

// Render writes the report in format.
func (r *LLMReport) Render(w io.Writer, format string) error {
	switch format {
	case "json":
		return writeJSON(w, r)
	case "csv":
		return r.CSV(w)
	case "table", "":
		return r.Table(w)
	}
	return fmt.Errorf("unknown format %q (allowed: %s)", format, strings.Join(Formats, ", "))
}

// CSV writes one table: a row per phase and operator class, then a
// "total" row per phase (its time, traffic, tokens and energy with
// leakage), then the run's row (phase "run", class "total") with the
// summary's latencies, throughput and energy. A cell that does not apply
// to its row (a class's tokens, a decode run's TTFT) is empty, never 0.
func (r *LLMReport) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"phase", "class", "ops", "cycles", "seconds", "share", "compute_cycles", "work",
		"dram_weights_bytes", "dram_kv_bytes", "dram_activations_bytes", "arithmetic_intensity", "roofline_bound", "roofline_efficiency",
		"attention_fused", "tokens", "energy_pj", "energy_per_token_pj", "ttft_seconds", "tpot_seconds", "tokens_per_second"})
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 10, 64) }
	var run struct {
		cycles  int64
		seconds float64
		bytes   inference.Bytes
	}
	for _, p := range r.Phases {
		var ops, compute, work int64
		for _, c := range p.Classes {
			ops, compute, work = ops+c.Ops, compute+c.ComputeCycles, work+c.Work
			_ = cw.Write([]string{p.Name, c.Class, i(c.Ops), i(c.Cycles), f(c.Seconds), f(c.Share), i(c.ComputeCycles), i(c.Work),
				i(c.DRAMBytes.Weights), i(c.DRAMBytes.KV), i(c.DRAMBytes.Activations), f(c.ArithmeticIntensity), c.RooflineBound, f(c.RooflineEfficiency),
				strconv.FormatBool(p.AttentionFused), "", f(c.EnergyPJ), "", "", "", ""})
		}
		energy, perToken := "", ""
		if p.Energy != nil {
			energy, perToken = f(p.Energy.TotalPJ), f(p.EnergyPerTokenPJ)
		}
		_ = cw.Write([]string{p.Name, "total", i(ops), i(p.Cycles), f(p.Seconds), f(1), i(compute), i(work),
			i(p.DRAMBytes.Weights), i(p.DRAMBytes.KV), i(p.DRAMBytes.Activations), "", "", "",
			strconv.FormatBool(p.AttentionFused), strconv.Itoa(p.Tokens), energy, perToken, "", "", ""})
		run.cycles += p.Cycles
		run.seconds += p.Seconds
		run.bytes.Weights += p.DRAMBytes.Weights
		run.bytes.KV += p.DRAMBytes.KV
		run.bytes.Activations += p.DRAMBytes.Activations
	}
	s := r.LLM
	opt := func(v float64, applies bool) string {
		if !applies {
			return ""
		}
		return f(v)
	}
	_ = cw.Write([]string{"run", "total", "", i(run.cycles), f(run.seconds), "", "", "",
		i(run.bytes.Weights), i(run.bytes.KV), i(run.bytes.Activations), "", "", "", "",
		strconv.Itoa(s.Tokens), f(s.EnergyPJ), f(s.EnergyPerTokenPJ),
		opt(s.TTFTSeconds, s.Phase != inference.PhaseDecode), opt(s.TPOTSeconds, s.DecodeSteps > 0), f(s.TokensPerSecond)})
	cw.Flush()
	return cw.Error()
}

// Table writes the summary and one table per phase, within 80 columns.
func (r *LLMReport) Table(w io.Writer) error {
	c, s := r.Config, r.LLM
	fmt.Fprintf(w, "sparsesim: %s %s on %s\n", r.Model.Name, s.Phase, c.Name)
	fmt.Fprintf(w, "array %s %s at %.0f MHz; DRAM %s %.1f GB/s\n", c.ArrayLine(),
		c.Dataflow, c.ClockMHz, c.DRAM.Model, c.DRAM.BandwidthGBps*float64(c.DRAM.Channels))
	if p := c.Pattern(); !p.Dense() {
		// The pattern changes the GEMMs' work and energy: say so up front.
		runs := ""
		if x := c.Executable(p); x != p {
			runs = fmt.Sprintf(", run as %s", x)
		}
		fmt.Fprintf(w, "weights N:M %s (sparsity.nm%s) on GEMMs with a weight operand\n", p, runs)
	}
	fmt.Fprintf(w, "model: %s\n", r.Model.Describe())
	fmt.Fprintf(w, "prompt %d, gen %d, batch %d; KV cache %s, %s per token per layer\n", s.Prompt, s.Gen, s.Batch, s.KVDType, HumanBytes(s.KVBytesPerTokenLayer))
	capacity := "unchecked"
	if s.CapacityBytes > 0 {
		capacity = fmt.Sprintf("%.4g GB", float64(s.CapacityBytes)/1e9)
	}
	fmt.Fprintf(w, "memory: weights %.4g GB + KV %.4g GB + activations %.4g GB of %s\n",
		float64(s.WeightBytes)/1e9, float64(s.KVCacheBytes)/1e9, float64(s.ActivationBytes)/1e9, capacity)
	if s.Phase != inference.PhaseDecode {
		fmt.Fprintf(w, "TTFT %s; ", humanSeconds(s.TTFTSeconds))
	}
	fmt.Fprintf(w, "%.4g tokens/s\n", s.TokensPerSecond)
	if s.DecodeSteps > 0 {
		fmt.Fprintf(w, "TPOT mean %s, p50 %s, p99 %s over %d steps\n", humanSeconds(s.TPOTSeconds),
			humanSeconds(s.TPOTP50Seconds), humanSeconds(s.TPOTP99Seconds), s.DecodeSteps)
	}
	fmt.Fprintf(w, "energy %s, %s/token, %.3g W average\n", HumanPJ(s.EnergyPJ), HumanPJ(s.EnergyPerTokenPJ), s.AveragePowerW)
	for _, p := range r.Phases {
		fmt.Fprintf(w, "\n%s: %s over %d step(s); DRAM weights %s, KV %s, activations %s\n", p.Name, humanSeconds(p.Seconds), p.Steps,
			compactBytes(p.DRAMBytes.Weights), compactBytes(p.DRAMBytes.KV), compactBytes(p.DRAMBytes.Activations))
		fmt.Fprintf(w, "attention: %s\n", p.Attention)
		if e := p.Energy; e != nil {
			fmt.Fprintf(w, "energy %s (%s/token): compute %s, SRAM %s,\n  DRAM %s, other %s\n", compactPJ(e.TotalPJ), compactPJ(p.EnergyPerTokenPJ),
				compactPJ(e.ByClass["compute"]), compactPJ(e.ByClass["sram"]), compactPJ(e.ByClass["dram"]), compactPJ(e.ByClass["other"]))
		}
		tb := NewTable(w)
		tb.Header("class", "time", "%", "weights", "KV", "activ.", "FLOP/B", "roofline")
		for _, cl := range p.Classes {
			bound := map[string]string{"compute": "cmp", "memory": "mem", "array_load": "load"}[cl.RooflineBound]
			_ = tb.Append(cl.Class, compactSeconds(cl.Seconds), fmt.Sprintf("%.1f", 100*cl.Share),
				compactBytes(cl.DRAMBytes.Weights), compactBytes(cl.DRAMBytes.KV), compactBytes(cl.DRAMBytes.Activations),
				fmt.Sprintf("%.3g", cl.ArithmeticIntensity), fmt.Sprintf("%s %.0f%%", bound, 100*cl.RooflineEfficiency))
		}
		if err := tb.Render(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "bytes are DRAM reads + writes (decimal units); roofline: the bound that applies")
	fmt.Fprintln(w, "(mem: DRAM, cmp: MACs, load: weights into the arrays) and the share of it")
	fmt.Fprintln(w, "reached (docs/report.md)")
	if s.UnpricedVectorOps > 0 {
		fmt.Fprintf(w, "energy leaves out the vector unit's %d operations (no per-op\nenergy in energy/); their DRAM traffic is priced\n", s.UnpricedVectorOps)
	}
	if r.MoE != nil {
		if err := r.MoE.Table(w); err != nil {
			return err
		}
	}
	if r.KVSparsity != nil {
		if err := r.KVSparsity.table(w); err != nil {
			return err
		}
	}
	memo := "memoized"
	if !r.Sim.Memoized {
		memo = "one engine, not memoized"
	}
	fmt.Fprintf(w, "simulated in %.3f s (%d events; %s: %d simulations, %d reused)\n", r.Sim.WallSeconds, r.Sim.Events, memo, r.Sim.Simulated, r.Sim.Reused)
	return nil
}

// compactBytes prints a byte count in at most five characters, decimal
// units (1.5T, 575G, 12.3M).
func compactBytes(b int64) string {
	if b < 1000 {
		return fmt.Sprintf("%dB", b)
	}
	v := float64(b)
	for _, u := range []string{"K", "M", "G", "T", "P"} {
		v /= 1000
		if v < 999.5 {
			return fmt.Sprintf("%.3g%s", v, u)
		}
	}
	return fmt.Sprintf("%.3gE", v/1000)
}

// compactPJ prints an energy in at most nine characters.
func compactPJ(pj float64) string {
	for _, u := range []struct {
		div  float64
		unit string
	}{{1e12, "J"}, {1e9, "mJ"}, {1e6, "uJ"}, {1e3, "nJ"}} {
		if pj >= u.div {
			return fmt.Sprintf("%.3g %s", pj/u.div, u.unit)
		}
	}
	return fmt.Sprintf("%.3g pJ", pj)
}

// compactSeconds prints a duration in at most six characters.
func compactSeconds(s float64) string {
	switch {
	case s >= 1:
		return fmt.Sprintf("%.3gs", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.3gms", s*1e3)
	}
	return fmt.Sprintf("%.3gus", s*1e6)
}

func humanSeconds(s float64) string {
	switch {
	case s >= 1:
		return fmt.Sprintf("%.3f s", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.3f ms", s*1e3)
	}
	return fmt.Sprintf("%.3f us", s*1e6)
}

// WriteStepPlot draws decode step time against context position as a PNG
// or SVG, written atomically.
func (r *LLMReport) WriteStepPlot(path string) error {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".png" && ext != ".svg" {
		return usererr.New("--step-plot %s: use a .png or .svg file", path)
	}
	if len(r.Steps) == 0 {
		return usererr.New("--step-plot %s: the run has no decode steps (use --phase decode or generate with --gen 2 or more)", path)
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s on %s: decode step time, batch %d", r.Model.Name, r.Config.Name, r.LLM.Batch)
	p.X.Label.Text = "context position (tokens attended to)"
	p.Y.Label.Text = "step time (ms)"
	pts := make(plotter.XYs, len(r.Steps))
	for i, s := range r.Steps {
		pts[i] = plotter.XY{X: float64(s.Context), Y: s.Seconds * 1e3}
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.Width = vg.Points(1.5)
	p.Add(l, plotter.NewGrid())
	if len(pts) == 1 {
		// A line through one point draws nothing: mark it.
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		sc.GlyphStyle.Radius = vg.Points(4)
		p.Add(sc)
	}
	// sparsesim's ticks: as many digits as tell the step times apart
	// (gonum's labelled 28.9595 twice).
	p.X.Tick.Marker, p.Y.Tick.Marker = plotx.Ticks{}, plotx.Ticks{}
	plotx.Pad(&p.X, true)
	plotx.Pad(&p.Y, true)
	return writePlot(p, 7*vg.Inch, 4*vg.Inch, path, ext, "--step-plot")
}
