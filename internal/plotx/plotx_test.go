package plotx

import (
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
