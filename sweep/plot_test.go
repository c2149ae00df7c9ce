package sweep

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

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
			Metrics: &Metrics{PEs: r * c, Cycles: cyc, Utilization: 0.1 + float64(i%9)/10, EnergyPJ: 1.4e11 + float64(i)*1e9,
				EnergyCompute: 1e10, EnergySRAM: 2e10, EnergyDRAM: 3e10, EnergyOther: 1e9}})
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
	figs, err := DefaultFigures(spec, rows, Pareto(rows, []string{"cycles", "energy_pj"}), []string{"cycles", "energy_pj"})
	if err != nil || len(figs) != 3 {
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
	figs, err := DefaultFigures(Spec{Axes: []Axis{{Key: "pe_array.rows"}}}, rows, nil, []string{"cycles", "energy_pj"})
	if err != nil || len(figs) != 0 {
		t.Errorf("%d figures, %v", len(figs), err)
	}
}
