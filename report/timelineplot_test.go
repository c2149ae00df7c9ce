package report

import (
	"bytes"
	"testing"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/arch/engines"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
)

// plot --timeline draws the whole run (the x axis ends where the last
// slice does, every unit has a row) and says when the file was sampled.
func TestTimelineFigureCoversTheRun(t *testing.T) {
	cfg, _ := configs.Load("systolic-32x32", nil)
	m, _ := workloads.Lookup("resnet18")
	w, _ := m.Build(workloads.Params{})
	for _, max := range []int{0, 3000} {
		tl := arch.NewTimeline(max)
		res, err := engines.SimulateTimeline(cfg, w, tl)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := tl.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		tf, _ := arch.ParseTimeline(buf.Bytes())
		f, notes, err := TimelineFigure(tf, "tl.json")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Check(); err != nil {
			t.Error(err)
		}
		var elapsed int64
		for _, l := range res.Layers {
			elapsed += l.Elapsed
		}
		if want := float64(elapsed) / cfg.ClockMHz; f.Plot.X.Max < want*0.999 {
			t.Errorf("max %d: x axis ends at %g µs, the run at %g µs", max, f.Plot.X.Max, want)
		}
		if sampled, _ := tl.Sampled(); sampled != (len(notes) > 0) {
			t.Errorf("max %d: sampled %v, notes %q", max, sampled, notes)
		}
	}
}
