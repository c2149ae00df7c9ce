package plotx

import (
	"fmt"
	"gonum.org/v1/plot/vg"
	"os"
	"path/filepath"

	"gonum.org/v1/plot/plotter"

	"reflect"
	"strings"
	"testing"
)

func labelled(t Ticks, lo, hi float64) []string {
	var out []string
	for _, tk := range t.Ticks(lo, hi) {
		if tk.Label != "" {
			out = append(out, tk.Label)
		}
	}
	return out
}

// The defects the issue names: 1.4e11 labelled "1e+11", a log axis with a
// single label.
func TestTickLabelsTellValuesApart(t *testing.T) {
	for _, c := range []struct {
		log    bool
		lo, hi float64
	}{{false, 1.0e11, 1.6e11}, {false, 0, 1}, {false, 0.1, 0.13}, {false, 1.2e6, 1.25e6}, {true, 1, 1e6}, {true, 20, 90},
		{true, 1.1, 1.9}, {true, 64, 16384}, {true, 3e10, 2.4e11}, {false, -5, 5}} {
		got := labelled(Ticks{Log: c.log}, c.lo, c.hi)
		if len(got) < 2 || !distinct(got) {
			t.Errorf("log=%v [%g, %g]: labels %q", c.log, c.lo, c.hi, got)
		}
		for _, tk := range (Ticks{Log: c.log}).Ticks(c.lo, c.hi) {
			if tk.Label != "" && !accurate([]float64{tk.Value}, []string{tk.Label}) {
				t.Errorf("[%g, %g]: %g labelled %q", c.lo, c.hi, tk.Value, tk.Label)
			}
		}
	}
	if got := Labels([]float64{1.4e11, 1.2e11}); !reflect.DeepEqual(got, []string{"1.4e+11", "1.2e+11"}) {
		t.Errorf("Labels: %q", got)
	}
	if got := Labels([]float64{0, 2.5, 5}); !reflect.DeepEqual(got, []string{"0.0", "2.5", "5.0"}) {
		t.Errorf("Labels: %q", got)
	}
}

func TestSortLabels(t *testing.T) {
	s := []string{"128", "16", "32", "64", "8"}
	SortLabels(s)
	if strings.Join(s, " ") != "8 16 32 64 128" {
		t.Errorf("numeric: %v", s)
	}
	s = []string{"dense", "2:16", "2:4", "2:8", "1:4"}
	SortLabels(s)
	if strings.Join(s, " ") != "1:4 2:4 2:8 2:16 dense" {
		t.Errorf("natural: %v", s)
	}
}

// Check catches what it is for.
func TestCheckRejects(t *testing.T) {
	f := New("t", "x", "y")
	f.Plot.X.Min, f.Plot.X.Max, f.Plot.Y.Min, f.Plot.Y.Max = 0, 10, 0, 10
	f.AddLegend("16")
	f.AddLegend("8")
	if err := f.Check(); err == nil || !strings.Contains(err.Error(), "numeric order") {
		t.Errorf("unsorted legend: %v", err)
	}
	f = New("t", "x", "y")
	f.Plot.X.Min, f.Plot.X.Max, f.Plot.Y.Min, f.Plot.Y.Max = 0, 10, 0, 10
	f.AddSeries("a", []float64{1, 2, 2}, true)
	if err := f.Check(); err == nil || !strings.Contains(err.Error(), "zig-zag") {
		t.Errorf("zig-zag: %v", err)
	}
}

// A saved figure has the mode every other output file has (0644), not
// os.CreateTemp's 0600 (issue 27, item 12f).
func TestSaveMode(t *testing.T) {
	f := New("t", "x", "y")
	s, err := plotter.NewScatter(plotter.XYs{{X: 1, Y: 1}, {X: 2, Y: 3}})
	if err != nil {
		t.Fatal(err)
	}
	f.Plot.Add(s)
	for _, ext := range []string{"png", "svg"} {
		path := filepath.Join(t.TempDir(), "f."+ext)
		if err := f.Save(path); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", ext, st.Mode().Perm())
		}
	}
}

// Category labels never overlap (issue 27, item 12a: "double_sparsitydsa"):
// each label's extent, from the tick font's metrics at its tick, ends
// before the next begins, however many and however long the names.
func TestCategoryLabelsNeverOverlap(t *testing.T) {
	kv := []string{"double_sparsity", "dsa", "evict", "hisa", "mustafar", "none", "quest"}
	var params, many []string
	for i := range 12 {
		params = append(params, fmt.Sprintf("dataflow=ws nm=2:4 rows=%d", 8*(i+1)))
	}
	for i := range 150 {
		many = append(many, fmt.Sprintf("design_%03d", i))
	}
	for _, cats := range [][]string{{"a", "b"}, kv, params, many} {
		for _, width := range []vg.Length{3 * vg.Inch, 6 * vg.Inch} {
			f := New("t", "x", "y")
			f.Width = width
			f.Categories(cats)
			pts := make(plotter.XYs, len(cats))
			for i := range pts {
				pts[i] = plotter.XY{X: float64(i), Y: float64(i % 3)}
			}
			s, _ := plotter.NewScatter(pts)
			f.Plot.Add(s)
			ext := f.CategoryLabelExtents()
			if len(ext) == 0 {
				t.Fatalf("%d categories: no labels", len(cats))
			}
			for i := 1; i < len(ext); i++ {
				if ext[i][0] < ext[i-1][1] {
					t.Errorf("%d categories at %v: label %d [%.1f, %.1f] overlaps the one before [%.1f, %.1f]",
						len(cats), width, i, ext[i][0], ext[i][1], ext[i-1][0], ext[i-1][1])
					break
				}
			}
			if err := f.Check(); err != nil {
				t.Errorf("%d categories: %v", len(cats), err)
			}
		}
	}
}

// Series styles are distinct (issue 27, item 12b): gonum's palette has
// seven colours; Style tells Distinct series apart and the first 70 by
// colour and marker alone.
func TestStylesDistinct(t *testing.T) {
	key := func(s SeriesStyle, dash bool) string {
		k := fmt.Sprintf("%v %T", s.Color, s.Shape)
		if dash {
			k += fmt.Sprint(s.Dashes)
		}
		return k
	}
	pairs, all := map[string]int{}, map[string]int{}
	for i := range Distinct {
		st := Style(i)
		if i < len(palette)*len(shapes) {
			if j, ok := pairs[key(st, false)]; ok {
				t.Fatalf("series %d and %d share colour and marker", j, i)
			}
			pairs[key(st, false)] = i
		}
		if j, ok := all[key(st, true)]; ok {
			t.Fatalf("series %d and %d share colour, marker and dashes", j, i)
		}
		all[key(st, true)] = i
	}
	if Distinct < 100 {
		t.Errorf("only %d distinct styles", Distinct)
	}
}

// The largest and smallest points are drawn inside the axes, not on their
// edge where the frame cuts them (issue 27, item 12c), on linear and log
// axes; a non-negative axis still starts at 0.
func TestDataInsideAxes(t *testing.T) {
	for _, log := range []bool{false, true} {
		f := New("t", "x", "y")
		f.NonNegX, f.NonNegY = true, true
		pts := plotter.XYs{{X: 1, Y: 3}, {X: 10, Y: 50}, {X: 100, Y: 700}}
		if log {
			f.LogX()
			f.LogY()
		}
		s, _ := plotter.NewScatter(pts)
		f.Plot.Add(s)
		f.AddLegend("s", s)
		g := f.Geometry()
		for _, p := range pts {
			x, y := g.X(p.X), g.Y(p.Y)
			if !(x > g.Data.Min.X && x < g.Data.Max.X && y > g.Data.Min.Y && y < g.Data.Max.Y) {
				t.Errorf("log=%v: point %v at (%.1f, %.1f) not inside the data area %v", log, p, x, y, g.Data)
			}
			if g.Legend.Min.X < x+vg.Points(3) {
				t.Errorf("log=%v: point %v under the legend %v", log, p, g.Legend)
			}
		}
		if f.Plot.Y.Min < 0 {
			t.Errorf("non-negative axis starts at %g", f.Plot.Y.Min)
		}
		if err := f.Check(); err != nil {
			t.Error(err)
		}
	}
}
