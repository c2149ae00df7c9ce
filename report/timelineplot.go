package report

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/internal/plotx"
	"github.com/sparsesim/sparsesim/internal/usererr"
)

// timelineBins is the time resolution of the picture: busy spans closer
// than 1/timelineBins of the run merge into one bar, which is below a
// pixel at the default 8-inch width, so every slice of the run is drawn
// with a bounded number of bars.
const timelineBins = 4000

// PlotTimeline draws a `run --timeline` file: one row per unit (a unit's
// lanes merged), a bar wherever it is busy, time in µs along x, the whole
// run. It returns notes for the reader: what the file itself sampled.
func PlotTimeline(in, out string) ([]string, error) {
	b, err := os.ReadFile(in)
	if err != nil {
		return nil, usererr.New("plot --timeline %s: %v", in, err)
	}
	tf, err := arch.ParseTimeline(b)
	if err != nil {
		return nil, usererr.New("plot --timeline %s: not a timeline file: %v", in, err)
	}
	f, notes, err := TimelineFigure(tf, in)
	if err != nil {
		return nil, err
	}
	return notes, f.Save(out)
}

// TimelineFigure builds PlotTimeline's figure from a parsed file named in.
func TimelineFigure(tf arch.TimelineFile, in string) (*plotx.Figure, []string, error) {
	unitOf := map[int]string{}
	var units []string
	rowOf := map[string]int{}
	for _, e := range tf.TraceEvents {
		if e.Ph != "M" || e.Name != "thread_name" {
			continue
		}
		name, ok := e.Args["name"].(string)
		if !ok {
			return nil, nil, usererr.New("plot --timeline %s: a thread_name event has no name", in)
		}
		u := strings.TrimPrefix(arch.TrackBase(name), "Accel.")
		unitOf[e.Tid] = u
		if _, ok := rowOf[u]; !ok {
			rowOf[u] = len(units)
			units = append(units, u)
		}
	}
	if len(units) == 0 {
		return nil, nil, usererr.New("plot --timeline %s: no tracks", in)
	}
	type span struct{ s, e float64 }
	spans := make([][]span, len(units))
	end := 0.0
	slices := 0
	for _, e := range tf.TraceEvents {
		if e.Ph != "X" {
			continue
		}
		u, ok := unitOf[e.Tid]
		if !ok {
			return nil, nil, usererr.New("plot --timeline %s: a slice on thread %d, which has no thread_name", in, e.Tid)
		}
		if e.Dur < 0 || e.Ts < 0 {
			return nil, nil, usererr.New("plot --timeline %s: slice %q at %g µs has negative time", in, e.Name, e.Ts)
		}
		spans[rowOf[u]] = append(spans[rowOf[u]], span{e.Ts, e.Ts + e.Dur})
		end = max(end, e.Ts+e.Dur)
		slices++
	}
	if slices == 0 {
		return nil, nil, usererr.New("plot --timeline %s: no slices", in)
	}
	gap := end / timelineBins
	f := plotx.New(fmt.Sprintf("timeline: %d slices, %.6g µs", slices, end), "time (µs)", "")
	f.FixedOrder = true
	f.Width, f.Height = 8*vg.Inch, vg.Length(1.2+0.45*float64(len(units)))*vg.Inch
	for row, ss := range spans {
		sort.Slice(ss, func(i, j int) bool { return ss[i].s < ss[j].s })
		var merged []span
		for _, s := range ss {
			if n := len(merged); n > 0 && s.s <= merged[n-1].e+gap {
				merged[n-1].e = max(merged[n-1].e, s.e)
				continue
			}
			merged = append(merged, s)
		}
		for _, m := range merged {
			// A bar at least one bin wide, so instants stay visible.
			l, err := plotter.NewLine(plotter.XYs{{X: m.s, Y: float64(row)}, {X: max(m.e, m.s+gap), Y: float64(row)}})
			if err != nil {
				return nil, nil, usererr.New("plot --timeline %s: %v", in, err)
			}
			l.Width = vg.Points(10)
			l.Color = plotx.Color(row)
			f.Plot.Add(l)
		}
	}
	f.Plot.NominalY(units...)
	f.Plot.Y.Min, f.Plot.Y.Max = -0.5, float64(len(units))-0.5
	f.Plot.X.Min, f.Plot.X.Max = 0, end
	var notes []string
	if d, _ := tf.OtherData["dropped_slices"].(float64); d > 0 {
		every, _ := tf.OtherData["sampled_every"].(float64)
		notes = append(notes, fmt.Sprintf("the timeline file kept every %gth event per track (%.0f dropped to stay under --timeline-max-events); bars show the kept slices over the whole run", every, d))
		f.Plot.Title.Text += fmt.Sprintf(" (file sampled 1 in %g)", every)
	}
	return f, notes, nil
}
