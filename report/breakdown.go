package report

import (
	"fmt"
	"io"

	"github.com/sparsesim/sparsesim/arch/engines"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
)

// BreakdownStep is one cumulative step of the technique breakdown.
type BreakdownStep struct {
	Technique string  `json:"technique"`
	Cycles    int64   `json:"cycles"`
	DRAMBytes int64   `json:"dram_bytes"`
	CycleGain float64 `json:"cycle_reduction"` // over the previous step
	DRAMGain  float64 `json:"dram_reduction"`  // over the previous step
	CycleCum  float64 `json:"cycle_reduction_total"`
	DRAMCum   float64 `json:"dram_reduction_total"`
}

// techniques in the order SpAtten's paper adds them.
var techniques = []struct {
	name string
	set  func(a *configs.Attention, on bool)
}{
	{"token pruning", func(a *configs.Attention, on bool) { a.TokenPruning = on }},
	{"head pruning", func(a *configs.Attention, on bool) { a.HeadPruning = on }},
	{"local V pruning", func(a *configs.Attention, on bool) { a.LocalVPruning = on }},
	{"progressive quantization", func(a *configs.Attention, on bool) { a.ProgressiveQuant = on }},
}

// Breakdown simulates the attention workload with no technique, then adds
// the techniques the config enables one at a time, reporting what each
// brings. load builds the workload for a config (kernel workloads depend
// on the switches; traces are replayed through attention.Ablate).
func Breakdown(cfg *configs.Config, load func(*configs.Config) (workloads.Workload, error)) ([]BreakdownStep, error) {
	c := *cfg
	for _, t := range techniques {
		t.set(&c.Attention, false)
	}
	var steps []BreakdownStep
	run := func(name string) error {
		w, err := load(&c)
		if err != nil {
			return err
		}
		r, err := engines.Simulate(&c, w)
		if err != nil {
			return err
		}
		s := BreakdownStep{Technique: name}
		for _, l := range r.Layers {
			s.Cycles += l.Cycles() // as the report counts them (elapsed − 1 per layer)
			s.DRAMBytes += l.DRAMReadBytes + l.DRAMWriteBytes
		}
		if r.Span != nil { // overlapping layers: the run's own span, as the report's total
			s.Cycles = r.Span.Elapsed - 1
		}
		s.CycleGain, s.DRAMGain, s.CycleCum, s.DRAMCum = 1, 1, 1, 1
		if len(steps) > 0 {
			prev, first := steps[len(steps)-1], steps[0]
			s.CycleGain = float64(prev.Cycles) / float64(s.Cycles)
			s.DRAMGain = float64(prev.DRAMBytes) / float64(s.DRAMBytes)
			s.CycleCum = float64(first.Cycles) / float64(s.Cycles)
			s.DRAMCum = float64(first.DRAMBytes) / float64(s.DRAMBytes)
		}
		steps = append(steps, s)
		return nil
	}
	if err := run("none (dense attention)"); err != nil {
		return nil, err
	}
	orig := cfg.Attention
	for _, t := range techniques {
		if !isEnabled(orig, t.name) {
			continue
		}
		t.set(&c.Attention, true)
		if err := run("+ " + t.name); err != nil {
			return nil, err
		}
	}
	return steps, nil
}

func isEnabled(a configs.Attention, name string) bool {
	switch name {
	case "token pruning":
		return a.TokenPruning
	case "head pruning":
		return a.HeadPruning
	case "local V pruning":
		return a.LocalVPruning
	}
	return a.ProgressiveQuant
}

// RenderBreakdown writes the steps as JSON, or as two tables within
// Width (cycles, then DRAM bytes): the four reductions beside the names of
// the techniques make one table too wide.
func RenderBreakdown(w io.Writer, steps []BreakdownStep, format string) error {
	if format == "json" {
		return writeJSON(w, map[string]any{"schema_version": SchemaVersion, "breakdown": steps})
	}
	x := func(v float64) string { return fmt.Sprintf("%.2fx", v) }
	cyc := FitTable{Header: []string{"technique", "cycles", "reduction", "cumulative"}, Wrap: 0}
	dram := FitTable{Header: []string{"technique", "DRAM", "reduction", "cumulative"}, Wrap: 0}
	for _, s := range steps {
		cyc.Rows = append(cyc.Rows, []string{s.Technique, fmt.Sprint(s.Cycles), x(s.CycleGain), x(s.CycleCum)})
		dram.Rows = append(dram.Rows, []string{s.Technique, HumanBytes(s.DRAMBytes), x(s.DRAMGain), x(s.DRAMCum)})
	}
	if err := cyc.Render(w); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if err := dram.Render(w); err != nil {
		return err
	}
	p := lines{w}
	p.Printf("reduction: the row above ÷ this row (what the added technique brings);")
	p.Printf("cumulative: the first row ÷ this row (every technique so far)")
	return nil
}
