package report

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/internal/usererr"
)

// PlotTimeline draws a `run --timeline` file as a picture: one row per
// track (PE array, buffers, DRAM channels), a bar per slice, time in µs
// along x. At most maxSlices slices are drawn (the earliest).
func PlotTimeline(in, out string, maxSlices int) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return usererr.New("plot --timeline %s: %v", in, err)
	}
	f, err := arch.ParseTimeline(b)
	if err != nil {
		return usererr.New("plot --timeline %s: not a timeline file: %v", in, err)
	}
	names := map[int]string{}
	var tids []int
	for _, e := range f.TraceEvents {
		if e.Ph == "M" && e.Name == "thread_name" {
			names[e.Tid] = e.Args["name"].(string)
			tids = append(tids, e.Tid)
		}
	}
	if len(tids) == 0 {
		return usererr.New("plot --timeline %s: no tracks", in)
	}
	sort.Ints(tids)
	row := map[int]int{}
	labels := make([]string, len(tids))
	for i, t := range tids {
		row[t] = i
		labels[i] = strings.TrimPrefix(names[t], "Accel.")
	}
	p := plot.New()
	p.Title.Text = "timeline"
	p.X.Label.Text = "time (µs)"
	drawn := 0
	for _, e := range f.TraceEvents {
		if e.Ph != "X" || drawn >= maxSlices {
			continue
		}
		y := float64(row[e.Tid])
		dur := e.Dur
		if dur == 0 {
			dur = 1e-3
		}
		l, err := plotter.NewLine(plotter.XYs{{X: e.Ts, Y: y}, {X: e.Ts + dur, Y: y}})
		if err != nil {
			return err
		}
		l.Width = vg.Points(8)
		l.Color = plotutil.Color(row[e.Tid])
		p.Add(l)
		drawn++
	}
	p.NominalY(labels...)
	ext := strings.ToLower(filepath.Ext(out))
	if ext != ".png" && ext != ".svg" {
		return usererr.New("plot: -o %s: use a .png or .svg file", out)
	}
	return p.Save(8*vg.Inch, vg.Length(1+0.5*float64(len(labels)))*vg.Inch, out)
}
