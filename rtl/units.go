package rtl

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

// Field is one port of a unit's input or output vector, most significant
// first in the packed hex word.
type Field struct {
	Name  string
	Width string // a Verilog expression over the parameters
}

// Unit describes a Verilog unit for vector generation and its test bench.
type Unit struct {
	Name    string
	Doc     string
	Params  []string // parameter names, in order
	Derived func(p map[string]int) map[string]int
	In      []Field // driven from in.hex (in_valid is implicit)
	Out     []Field // compared against exp.hex
	// Latency is the timing the Go model uses for the unit: the RTL test
	// asserts the measured latency equals it.
	Latency int
	// Sets are the parameter sets `make rtl-test` and synthesis use.
	Sets []map[string]int
	// Tie are extra port connections for the test bench (e.g. a reset).
	Tie string
	gen func(p map[string]int, n int, seed int64) (in, exp [][]uint64, err error)
}

// Units lists every unit, by name.
var Units = map[string]*Unit{}

func register(u *Unit) { Units[u.Name] = u }

// Names lists the units, sorted.
func Names() []string { return slices.Sorted(maps.Keys(Units)) }

// Resolve fills derived parameters and checks the given ones.
func (u *Unit) Resolve(given map[string]int) (map[string]int, error) {
	p := map[string]int{}
	for k, v := range given {
		found := false
		for _, n := range u.Params {
			found = found || n == k
		}
		if !found {
			return nil, fmt.Errorf("unit %s has no parameter %s (parameters: %s)", u.Name, k, strings.Join(u.Params, ", "))
		}
		p[k] = v
	}
	for _, n := range u.Params {
		if _, ok := p[n]; !ok {
			p[n] = u.Sets[0][n]
		}
	}
	for k, v := range p {
		if v < 1 || v > 64 {
			return nil, fmt.Errorf("unit %s: parameter %s=%d must be from 1 to 64", u.Name, k, v)
		}
	}
	if err := u.check(p); err != nil {
		return nil, fmt.Errorf("unit %s: %v", u.Name, err)
	}
	if u.Derived != nil {
		for k, v := range u.Derived(p) {
			p[k] = v
		}
	}
	return p, nil
}

// check enforces what the Verilog and the vector generators assume.
func (u *Unit) check(p map[string]int) error {
	need := func(ok bool, format string, a ...any) error {
		if !ok {
			return fmt.Errorf(format, a...)
		}
		return nil
	}
	switch u.Name {
	case "nm_pe", "mask_gen":
		if err := need(p["N"] < p["M"] && p["M"] >= 2 && p["M"] <= 16, "needs 1 ≤ N < M ≤ 16, got N=%d M=%d", p["N"], p["M"]); err != nil {
			return err
		}
		if u.Name == "nm_pe" {
			return need(p["W"] >= 2 && p["W"] <= 16 && p["ACC"] >= 2*p["W"]+nm.CeilLog2(p["N"])+1 && p["ACC"] <= 64, "needs 2 ≤ W ≤ 16 and 2W + log2 N < ACC ≤ 64, got W=%d ACC=%d", p["W"], p["ACC"])
		}
		return need(p["W"] >= 2 && p["W"] <= 32, "needs 2 ≤ W ≤ 32, got %d", p["W"])
	case "topk_pass":
		return need(p["C"] >= 2 && p["C"] <= 64 && p["W"] <= 32, "needs 2 ≤ C ≤ 64 and W ≤ 32, got C=%d W=%d", p["C"], p["W"])
	case "pquant":
		return need(p["L"] < p["B"] && p["B"] <= 31 && p["P"] <= 32, "needs L < B ≤ 31 and P ≤ 32, got B=%d L=%d P=%d", p["B"], p["L"], p["P"])
	case "sys_pe":
		return need(p["W"] >= 2 && p["W"] <= 16 && p["ACC"] >= 2*p["W"] && p["ACC"] <= 64, "needs 2 ≤ W ≤ 16 and 2W ≤ ACC ≤ 64, got W=%d ACC=%d", p["W"], p["ACC"])
	}
	return nil
}

func init() {
	register(&Unit{Name: "nm_pe", Doc: "N:M sparse dot-product PE",
		Params:  []string{"N", "M", "W", "ACC"},
		Derived: func(p map[string]int) map[string]int { return map[string]int{"IW": max(1, nm.CeilLog2(p["M"]))} },
		In:      []Field{{"clear", "1"}, {"act", "M*W"}, {"wval", "N*W"}, {"widx", "N*IW"}},
		Out:     []Field{{"acc", "ACC"}},
		Latency: arch.NMPELatency,
		Tie:     ".rst(1'b0)",
		Sets:    []map[string]int{{"N": 2, "M": 4, "W": 8, "ACC": 32}, {"N": 2, "M": 8, "W": 8, "ACC": 32}, {"N": 1, "M": 8, "W": 16, "ACC": 40}, {"N": 4, "M": 16, "W": 8, "ACC": 32}, {"N": 4, "M": 8, "W": 16, "ACC": 40}},
		gen:     genNMPE})
	register(&Unit{Name: "mask_gen", Doc: "N:M mask generator (top-N by magnitude, index output)",
		Params:  []string{"N", "M", "W"},
		Derived: func(p map[string]int) map[string]int { return map[string]int{"IW": max(1, nm.CeilLog2(p["M"]))} },
		In:      []Field{{"w", "M*W"}},
		Out:     []Field{{"mask", "M"}, {"kval", "N*W"}, {"kidx", "N*IW"}},
		Latency: arch.MaskGenLatency,
		Sets:    []map[string]int{{"N": 2, "M": 4, "W": 8}, {"N": 2, "M": 8, "W": 8}, {"N": 1, "M": 8, "W": 16}, {"N": 4, "M": 16, "W": 8}, {"N": 4, "M": 8, "W": 16}},
		gen:     genMaskGen})
	register(&Unit{Name: "topk_pass", Doc: "top-k quick-select pass: comparators + zero eliminators",
		Params:  []string{"C", "W"},
		Derived: func(p map[string]int) map[string]int { return map[string]int{"CW": nm.CeilLog2(p["C"]) + 1} },
		In:      []Field{{"lane_valid", "C"}, {"pivot", "W"}, {"data", "C*W"}},
		Out:     []Field{{"gt_count", "CW"}, {"lt_count", "CW"}, {"eq_count", "CW"}, {"gt_data", "C*W"}, {"lt_data", "C*W"}},
		Latency: arch.TopKPassLatency,
		Sets:    []map[string]int{{"C": 16, "W": 16}, {"C": 8, "W": 12}, {"C": 4, "W": 16}},
		gen:     genTopK})
	register(&Unit{Name: "pquant", Doc: "progressive quantization: MSB/LSB recombination and the τ decision",
		Params:  []string{"B", "L", "P"},
		In:      []Field{{"msb", "B"}, {"lsb", "L"}, {"maxprob", "P"}, {"tau", "P"}},
		Out:     []Field{{"full", "B"}, {"refetch", "1"}},
		Latency: arch.PQuantDecisionLatency,
		Sets:    []map[string]int{{"B": 10, "L": 4, "P": 16}, {"B": 12, "L": 4, "P": 16}, {"B": 8, "L": 2, "P": 12}},
		gen:     genPQuant})
	register(&Unit{Name: "sys_pe", Doc: "dense weight-stationary systolic PE",
		Params:  []string{"W", "ACC"},
		In:      []Field{{"load_w", "1"}, {"w_in", "W"}, {"act_in", "W"}, {"psum_in", "ACC"}},
		Out:     []Field{{"act_out", "W"}, {"psum_out", "ACC"}},
		Latency: arch.SystolicHopCycles,
		Sets:    []map[string]int{{"W": 8, "ACC": 32}, {"W": 16, "ACC": 40}},
		gen:     genSysPE})
}

// width evaluates a width expression like "N*IW" over the parameters.
func width(expr string, p map[string]int) int {
	prod := 1
	for _, f := range strings.Split(expr, "*") {
		var v int
		if _, err := fmt.Sscanf(f, "%d", &v); err == nil {
			prod *= v
			continue
		}
		prod *= p[f]
	}
	return prod
}
