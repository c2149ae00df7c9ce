package explain

import (
	"os"
	"testing"
)

// Every topic draws a figure, and every figure reads right from its
// model: integer axes labelled on integers, every cell inside the axes,
// legends beside the data. --figures writes them all.
func TestEveryTopicDrawsAFigure(t *testing.T) {
	dir := t.TempDir()
	for _, tp := range Topics() {
		for _, size := range []int{0, 64} {
			d, err := Run(tp.Name, Options{Seed: 3, Size: size, FigureDir: dir})
			if err != nil {
				t.Fatalf("%s: %v", tp.Name, err)
			}
			if len(d.figs) == 0 || len(d.Figures) != len(d.figs) {
				t.Errorf("%s size %d: %d figures, %d files", tp.Name, size, len(d.figs), len(d.Figures))
			}
			for _, f := range d.figs {
				if err := f.Check(); err != nil {
					t.Errorf("%s size %d: %v", tp.Name, size, err)
				}
				p := f.Plot
				for _, tk := range p.X.Tick.Marker.Ticks(p.X.Min, p.X.Max) {
					if tk.Label != "" && tk.Value != float64(int(tk.Value)) {
						t.Errorf("%s: x tick %q at %g on an integer axis", tp.Name, tk.Label, tk.Value)
					}
				}
			}
			for _, f := range d.Figures {
				if st, err := os.Stat(f); err != nil || st.Size() < 1000 {
					t.Errorf("%s: %s: %v", tp.Name, f, err)
				}
			}
		}
	}
}

// The mask figure puts k = 0 at the top and every square inside the axes.
func TestMaskFigureOrientation(t *testing.T) {
	mask := make([]bool, 8*4)
	f := maskFigure(mask, 8, 4)
	p := f.Plot
	if p.Y.Min > -0.5 || p.Y.Max < 7.5 || p.X.Min > -0.5 || p.X.Max < 3.5 {
		t.Errorf("axes [%g,%g]×[%g,%g] clip the cells", p.X.Min, p.X.Max, p.Y.Min, p.Y.Max)
	}
	top := ""
	for _, tk := range p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max) {
		if tk.Value == 7 {
			top = tk.Label
		}
	}
	if top != "0" {
		t.Errorf("the top row is labelled %q, want 0", top)
	}
}
