package sweep

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/sparsesim/sparsesim/internal/plotx"
)

// synthetic rows of a rows × cols × dataflow grid: pes repeats across
// shapes, cycles span decades, cols are the numeric series.
func gridRows(n int) []Row {
	var rows []Row
	dfs := []string{"os", "ws", "is"}
	p := 0
	for i := 0; len(rows) < n; i++ {
		r, c := 8<<(i%5), 8<<((i/5)%5)
		df := dfs[(i/25)%3]
		cyc := int64(1e11 / float64(r*c) * (1 + float64(i%7)/10))
		rows = append(rows, Row{Point: p, Params: map[string]string{"pe_array.rows": strconv.Itoa(r), "pe_array.cols": strconv.Itoa(c), "dataflow": df},
			Metrics: &Metrics{PEs: r * c, Cycles: cyc, Utilization: ptr(0.1 + float64(i%9)/10), EnergyPJ: ptr(1.4e11 + float64(i)*1e9),
				EnergyCompute: ptr(1e10), EnergySRAM: ptr(2e10), EnergyDRAM: ptr(3e10), EnergyOther: ptr(1e9)}})
		p++
	}
	return rows
}

func check(t *testing.T, name string, f *plotx.Figure, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if f == nil {
		t.Fatalf("%s: no figure", name)
	}
	if err := f.Check(); err != nil {
		t.Errorf("%s: %v", name, err)
	}
	out := filepath.Join(t.TempDir(), name+".png")
	if err := f.Save(out); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if st, err := os.Stat(out); err != nil || st.Size() < 1000 {
		t.Errorf("%s: %v %v", name, st, err)
	}
}

// Every figure the sweep and plot commands draw reads right from its
// model: ticks that tell values apart, legends in numeric order beside
// the data, lines only through one point per x, categories on x.
func TestPlotFigures(t *testing.T) {
	rows := gridRows(75)
	for _, c := range []struct{ name, x, y, color string }{
		{"pes_util_by_cols", "pes", "utilization", "pe_array.cols"},
		{"rows_cycles_by_cols", "pe_array.rows", "cycles", "pe_array.cols"},
		{"dataflow_category", "dataflow", "cycles", "pe_array.rows"},
		{"energy", "pe_array.rows", "energy_pj", ""},
	} {
		in := rows
		if c.name == "rows_cycles_by_cols" {
			in = rows[:25] // one dataflow: one point per rows value in each series
		}
		f, err := XYFigure(in, c.x, c.y, c.color)
		check(t, c.name, f, err)
		if c.name == "dataflow_category" && len(f.XCategories) != 3 {
			t.Errorf("categories %v", f.XCategories)
		}
		if c.name == "pes_util_by_cols" {
			for _, s := range f.Series {
				if s.Line {
					t.Errorf("series %s joins points of repeated pes", s.Label)
				}
			}
		}
		if c.name == "rows_cycles_by_cols" {
			for _, s := range f.Series {
				if !s.Line {
					t.Errorf("series %s (one point per rows value) not joined", s.Label)
				}
			}
		}
	}
	spec := Spec{Axes: []Axis{{Key: "pe_array.rows"}, {Key: "pe_array.cols"}, {Key: "dataflow"}}}
	figs, omitted, err := DefaultFigures(spec, rows, Pareto(rows, []string{"cycles", "energy_pj"}), []string{"cycles", "energy_pj"})
	if err != nil || len(figs) != 3 || len(omitted) != 0 {
		t.Fatalf("%d default figures, %v", len(figs), err)
	}
	for _, nf := range figs {
		check(t, nf.Name, nf.Figure, nil)
	}
}

// Ten thousand points stay legible: translucent small markers, and the
// figure says so.
func TestDensePlotIsTranslucent(t *testing.T) {
	f, err := XYFigure(gridRows(10000), "pes", "cycles", "dataflow")
	check(t, "dense", f, err)
	if len(f.Notes) == 0 {
		t.Error("no note about the translucent markers")
	}
}

// Speedup is over each series' own smallest array, and the axis says so.
func TestSpeedupNormalisesPerSeries(t *testing.T) {
	rows := gridRows(25)
	f, err := speedupFigure(rows, "pe_array.cols")
	check(t, "speedup", f, err)
	if f.Plot.Y.Label.Text != speedupCol {
		t.Errorf("y label %q", f.Plot.Y.Label.Text)
	}
}

// A sweep whose points all failed draws nothing and says so.
func TestNoFiguresWithoutSuccess(t *testing.T) {
	rows := []Row{{Point: 0, Params: map[string]string{"pe_array.rows": "8"}, Error: "bad"}}
	figs, omitted, err := DefaultFigures(Spec{Axes: []Axis{{Key: "pe_array.rows"}}}, rows, nil, []string{"cycles", "energy_pj"})
	if err != nil || len(figs) != 0 || len(omitted) != 0 {
		t.Errorf("%d figures, omitted %q, %v", len(figs), omitted, err)
	}
}

// llmRows are decode points: TPOT and tokens per second, no energy.
func llmRows(mass []float64) []Row {
	var rows []Row
	for i, ml := range mass {
		tpot := 0.03 - 0.001*float64(i)
		rows = append(rows, Row{Point: i, Params: map[string]string{"kv_sparsity.budget": strconv.Itoa(256 << i)},
			Metrics: &Metrics{PEs: 16384, Cycles: int64(tpot * 8e9), Seconds: tpot, TPOTSeconds: ptr(tpot),
				TokensPerSecond: ptr(1 / tpot), MassLost: ptr(ml)}})
	}
	return rows
}

// An LLM sweep draws no empty energy plot: the figure is left out and
// the listing says why. The Pareto plot is titled by its objectives and
// their directions.
func TestLLMSweepFigures(t *testing.T) {
	rows := llmRows([]float64{0.1, 0.05, 0.01})
	if f, err := EnergyFigure(rows); f != nil || err != nil {
		t.Errorf("energy figure of LLM rows: %v %v", f, err)
	}
	obj := []string{"tpot_seconds", "tokens_per_second"}
	spec := Spec{Phase: "decode", Axes: []Axis{{Key: "kv_sparsity.budget"}}}
	figs, omitted, err := DefaultFigures(spec, rows, Pareto(rows, obj), obj)
	if err != nil || len(figs) != 1 || figs[0].Name != "pareto.png" {
		t.Fatalf("figures %v, %v", figs, err)
	}
	if len(omitted) != 1 || !strings.HasPrefix(omitted[0], "energy_breakdown.png: ") {
		t.Errorf("omitted %q", omitted)
	}
	pf := figs[0].Figure
	check(t, "llm_pareto", pf, nil)
	if title := pf.Plot.Title.Text; !strings.Contains(title, "min tpot_seconds") || !strings.Contains(title, "max tokens_per_second") {
		t.Errorf("Pareto title %q does not name its objectives", title)
	}
	// One objective: no Pareto plot, and the listing says so.
	_, omitted, _ = DefaultFigures(spec, rows, Pareto(rows, obj[:1]), obj[:1])
	if len(omitted) != 2 || !strings.HasPrefix(omitted[1], "pareto.png: ") {
		t.Errorf("omitted %q", omitted)
	}
}

// A metric that is the same at every point (mass_lost 0 when every budget
// covers the context; one pes value) gets a range around it that stays at
// or above 0, not −1 to 1.
func TestConstantMetricAxisStaysNonNegative(t *testing.T) {
	rows := llmRows([]float64{0, 0, 0})
	obj := []string{"seconds", "mass_lost"}
	pf, err := ParetoFigure(rows, Pareto(rows, obj), obj)
	check(t, "pareto_constant", pf, err)
	xy, err := XYFigure(rows, "pes", "mass_lost", "")
	check(t, "xy_constant", xy, err)
	for name, f := range map[string]*plotx.Figure{"pareto": pf, "xy": xy} {
		f.Ticks() // widens the constant axes as drawing does
		if f.Plot.Y.Min < 0 || f.Plot.Y.Max <= 0 {
			t.Errorf("%s: y axis %g to %g around a constant 0", name, f.Plot.Y.Min, f.Plot.Y.Max)
		}
		if name == "xy" && (f.Plot.X.Min < 0 || f.Plot.X.Min >= 16384 || f.Plot.X.Max <= 16384) {
			t.Errorf("x axis %g to %g around pes 16384", f.Plot.X.Min, f.Plot.X.Max)
		}
	}
	// A parameter may be signed: its constant axis is not clamped.
	neg := []Row{{Point: 0, Params: map[string]string{"bias": "0"}, Metrics: &Metrics{Cycles: 5}},
		{Point: 1, Params: map[string]string{"bias": "0"}, Metrics: &Metrics{Cycles: 7}}}
	f, err := XYFigure(neg, "bias", "cycles", "")
	check(t, "signed_param", f, err)
	if f.NonNegX {
		t.Error("a parameter axis is marked non-negative")
	}
}

// Issue 27, item 12b-e on the sweep's own figures: every series of a
// figure has its own (colour, marker, dashes); each energy bar is named
// by its point's parameters; the Pareto figure's points lie inside the
// axes and none under the legend.
func TestFiguresTellSeriesAndPointsApart(t *testing.T) {
	var rows []Row
	for i := range 40 {
		for x := range 3 {
			rows = append(rows, Row{Point: len(rows), Params: map[string]string{"pe_array.rows": strconv.Itoa(8 << x), "sparsity.nm": fmt.Sprintf("%d:64", i+1)},
				Metrics: &Metrics{PEs: 64 << x, Cycles: int64(1000 * (i + 1) * (x + 1))}})
		}
	}
	f, err := XYFigure(rows, "pe_array.rows", "cycles", "sparsity.nm")
	check(t, "forty_series", f, err)
	seen := map[string]string{}
	for _, s := range f.Series {
		k := fmt.Sprintf("%v %T %v", s.Style.Color, s.Style.Shape, s.Style.Dashes)
		if o, ok := seen[k]; ok {
			t.Fatalf("series %q and %q are drawn alike", o, s.Label)
		}
		seen[k] = s.Label
	}

	grid := gridRows(12)
	ef, err := EnergyFigure(grid)
	check(t, "energy_labels", ef, err)
	if len(ef.XCategories) != len(grid) {
		t.Fatalf("%d bars named, want %d", len(ef.XCategories), len(grid))
	}
	for _, c := range ef.XCategories {
		if !strings.Contains(c, "rows=") || !strings.Contains(c, "cols=") {
			t.Errorf("bar named %q: not by its parameters", c)
		}
	}
	ext := ef.CategoryLabelExtents()
	for i := 1; i < len(ext); i++ {
		if ext[i][0] < ext[i-1][1] {
			t.Errorf("energy bar names %d and %d overlap", i-1, i)
		}
	}

	obj := DefaultObjectives(false)
	front := Pareto(grid, obj)
	pf, err := ParetoFigure(grid, front, obj)
	check(t, "pareto_legend", pf, err)
	g := pf.Geometry()
	for _, s := range pf.Series {
		for i := range s.X {
			x, y := g.X(s.X[i]), g.Y(s.Y[i])
			if !(x > g.Data.Min.X && x < g.Data.Max.X && y > g.Data.Min.Y && y < g.Data.Max.Y) {
				t.Errorf("%s point (%g, %g) drawn at (%.1f, %.1f), outside the data area %v", s.Label, s.X[i], s.Y[i], x, y, g.Data)
			}
			r := vg.Points(4) // a marker's radius and a little
			if x+r > g.Legend.Min.X && x-r < g.Legend.Max.X && y+r > g.Legend.Min.Y && y-r < g.Legend.Max.Y {
				t.Errorf("%s point (%g, %g) under the legend %v", s.Label, s.X[i], s.Y[i], g.Legend)
			}
		}
	}
}
