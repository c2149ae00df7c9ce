package report

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sparsesim/sparsesim/arch/engines"
	"github.com/sparsesim/sparsesim/compare"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/traces"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// within80 fails on every line of out wider than Width runes (the
// box-drawing characters are one column each but three bytes).
func within80(t *testing.T, name, out string) {
	t.Helper()
	for i, l := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(l); n > Width {
			t.Errorf("%s: line %d is %d columns: %s", name, i+1, n, l)
		}
	}
}

// cells is out's table text with the rules and padding gone, so a wrapped
// cell's pieces can be found: each line's cells, in order.
func cells(out string) []string {
	var c []string
	for _, l := range strings.Split(out, "\n") {
		for _, f := range strings.Split(l, "│") {
			if f = strings.TrimSpace(f); f != "" && !strings.ContainsAny(string([]rune(f)[:1]), "┌├└─") {
				c = append(c, f)
			}
		}
	}
	return c
}

func TestWrap(t *testing.T) {
	for _, c := range []struct {
		in    string
		width int
		want  []string
	}{
		{"short", 10, []string{"short"}},
		{"one two three four", 9, []string{"one two", "three", "four"}},
		// A layer name breaks after its last '.' within the width, not
		// inside bwd_weight.
		{"layer1.0.conv1.bwd_weight", 20, []string{"layer1.0.conv1.", "bwd_weight"}},
		// A number keeps its unit.
		{"vector unit, one 24 GB HBM3 stack", 20, []string{"vector unit, one", "24 GB HBM3 stack"}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
	} {
		if got := Wrap(c.in, c.width); strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("Wrap(%q, %d) = %q, want %q", c.in, c.width, got, c.want)
		}
	}
	var b bytes.Buffer
	lines{&b}.Printf("%s", strings.Repeat("word ", 40))
	within80(t, "lines", b.String())
	for i, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		if i > 0 && !strings.HasPrefix(l, "  word") {
			t.Errorf("continuation line %q not indented", l)
		}
	}
}

// A table that fits is left alone; one that does not has its wrap column
// narrowed until it fits, losing no text.
func TestFitTable(t *testing.T) {
	small := FitTable{Header: []string{"a", "b"}, Rows: [][]string{{"x", "a b c"}}, Wrap: 1}
	var b bytes.Buffer
	if err := small.Render(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "a b c") {
		t.Errorf("a fitting cell was wrapped:\n%s", b.String())
	}
	long := strings.TrimSpace(strings.Repeat("lorem ipsum ", 20))
	wide := FitTable{Header: []string{"name", "text"}, Rows: [][]string{{"n", long}}, Wrap: 1}
	b.Reset()
	if err := wide.Render(&b); err != nil {
		t.Fatal(err)
	}
	within80(t, "wide", b.String())
	if got := strings.Join(cells(b.String())[2:], " "); got != "n "+long {
		t.Errorf("wrapped text lost words: %q", got)
	}
}

func simulate(t *testing.T, cfgName string, sets []string, load func(*configs.Config) (workloads.Workload, error)) *Report {
	t.Helper()
	cfg, err := configs.Load(cfgName, sets)
	if err != nil {
		t.Fatal(err)
	}
	w, err := load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, base, err := engines.SimulateWithBaselineMemo(cfg, w, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(res, base)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func zoo(name string, training bool) func(*configs.Config) (workloads.Workload, error) {
	return func(c *configs.Config) (workloads.Workload, error) {
		w, err := traces.LoadFor(c, name, workloads.Params{})
		if training {
			w = workloads.Training(w)
		}
		return w, err
	}
}

// The run table of the default run, a sparse run, a sparse training run
// (long layer names) and the attention engine fit 80 columns, and still
// show every layer's figures.
func TestRunTableWithin80(t *testing.T) {
	for _, c := range []struct {
		name, cfg string
		sets      []string
		load      func(*configs.Config) (workloads.Workload, error)
	}{
		{"resnet18", "systolic-32x32", nil, zoo("resnet18", false)},
		{"resnet18 2:4", "systolic-32x32", []string{"sparsity.nm=2:4"}, zoo("resnet18", false)},
		{"alexnet training on sat", "sat-vcu1525", nil, zoo("alexnet", true)},
		{"bert-base on spatten", "spatten", nil, func(c *configs.Config) (workloads.Workload, error) {
			return traces.LoadFor(c, "bert-base", workloads.Params{SeqLen: 128})
		}},
	} {
		r := simulate(t, c.cfg, c.sets, c.load)
		var b bytes.Buffer
		if err := r.Table(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		within80(t, c.name, out)
		joined := strings.Join(cells(out), " ")
		sparse := r.Total.DenseCycles > 0
		for _, l := range r.Layers {
			row := []string{strconv.FormatInt(l.Cycles, 10), strconv.FormatInt(l.StallCycles, 10), HumanBytes(l.DRAMReadBytes),
				fmt.Sprintf("%.2f", 100*l.MappingEfficiency), strconv.Itoa(l.K)}
			if sparse {
				row = append(row, fmt.Sprintf("%.2fx", l.SpeedupVsDense))
			}
			for _, v := range row {
				if !strings.Contains(out, v) {
					t.Errorf("%s: layer %s: %s missing", c.name, l.Name, v)
				}
			}
			// A wrapped name's pieces are consecutive cells.
			if !strings.Contains(joined, l.Name) && !strings.Contains(strings.ReplaceAll(joined, ". ", "."), l.Name) {
				t.Errorf("%s: layer name %s missing", c.name, l.Name)
			}
		}
		if got := strings.Contains(out, "speedup"); got != sparse {
			t.Errorf("%s: speedup column shown %v, sparse run %v", c.name, got, sparse)
		}
	}
}

func TestBreakdownWithin80(t *testing.T) {
	cfg, err := configs.Load("spatten", nil)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := Breakdown(cfg, func(c *configs.Config) (workloads.Workload, error) {
		return traces.LoadFor(c, "bert-base", workloads.Params{SeqLen: 128})
	})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := RenderBreakdown(&b, steps, "table"); err != nil {
		t.Fatal(err)
	}
	within80(t, "breakdown", b.String())
	for _, s := range steps {
		for _, v := range []string{s.Technique, fmt.Sprint(s.Cycles), HumanBytes(s.DRAMBytes), fmt.Sprintf("%.2fx", s.CycleGain),
			fmt.Sprintf("%.2fx", s.DRAMGain), fmt.Sprintf("%.2fx", s.CycleCum), fmt.Sprintf("%.2fx", s.DRAMCum)} {
			if !strings.Contains(b.String(), v) {
				t.Errorf("%s: %s missing", s.Technique, v)
			}
		}
	}
}

func TestCompareTableWithin80(t *testing.T) {
	rs := []compare.Result{
		{Case: "gemm", Config: "systolic-32x32", Shape: "M=256 N=256 K=256", Match: true, Tolerance: "bit-exact (integer data type)",
			CPUSeconds: 0.007354, CPUThreads: 2, Runs: 5, SimSeconds: 0.0002088, Speedup: 35.2, CPUWatts: 65, EnergyRatio: 865},
		{Case: "pruned-attention", Config: "spatten", Shape: "tokens=512 queries=64 d=64 keep=0.5 v=0.2 6+4 bits τ=0.1", Match: true,
			MaxAbsError: 1.5e-10, MaxRelError: 2.25e-11, Tolerance: "refetch decisions and selected values identical; |Δout| ≤ 1e-9",
			CPUSeconds: 0.007195, CPUThreads: 2, Runs: 5, SimSeconds: 7.188e-06, Speedup: 1001, CPUWatts: 65, EnergyRatio: 24109},
	}
	var b bytes.Buffer
	if err := CompareTable(&b, rs); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	within80(t, "compare", out)
	flat := strings.Join(strings.Fields(out), " ")
	for _, r := range rs {
		for _, v := range []string{r.Case, r.Config, r.Shape, r.Tolerance, fmt.Sprintf("%.3g", r.MaxAbsError), fmt.Sprintf("%.0fx", r.EnergyRatio), humanSeconds(r.SimSeconds)} {
			if !strings.Contains(flat, v) {
				t.Errorf("%s: %q missing", r.Case, v)
			}
		}
	}
}

// `sparsesim workloads` and `configs` fit 80 columns and keep every
// description; --wide adds the sources.
func TestListsWithin80(t *testing.T) {
	var zs []ZooModel
	for _, m := range workloads.Models() {
		w, err := m.Build(workloads.Params{})
		if err != nil {
			t.Fatal(err)
		}
		zs = append(zs, ZooModel{Model: m, Layers: len(w.Layers), MACs: w.MACs()})
	}
	var cfgs []*configs.Config
	for _, n := range configs.Embedded() {
		c, err := configs.Load(n, nil)
		if err != nil {
			t.Fatal(err)
		}
		cfgs = append(cfgs, c)
	}
	for _, wide := range []bool{false, true} {
		var wb, cb bytes.Buffer
		if err := WorkloadsTable(&wb, zs, llm.Models(), wide); err != nil {
			t.Fatal(err)
		}
		if err := ConfigsTable(&cb, cfgs, wide); err != nil {
			t.Fatal(err)
		}
		if !wide {
			within80(t, "workloads", wb.String())
			within80(t, "configs", cb.String())
		}
		words := strings.Join(cells(wb.String()), " ")
		for _, m := range zs {
			if !strings.Contains(words, m.Description) {
				t.Errorf("workloads (wide %v): %s's description missing", wide, m.Name)
			}
			if wide && !strings.Contains(wb.String(), m.Source) {
				t.Errorf("workloads --wide: %s's source missing", m.Name)
			}
		}
		for _, m := range llm.Models() {
			if !strings.Contains(words, m.Describe()) {
				t.Errorf("workloads (wide %v): %s's shape missing", wide, m.Name)
			}
			if wide && !strings.Contains(wb.String(), m.Source) {
				t.Errorf("workloads --wide: %s's source missing", m.Name)
			}
		}
		cwords := strings.Join(cells(cb.String()), " ")
		for _, c := range cfgs {
			if !strings.Contains(cwords, c.Description) {
				t.Errorf("configs (wide %v): %s's description missing", wide, c.Name)
			}
		}
	}
}
