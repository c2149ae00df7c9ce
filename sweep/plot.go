package sweep

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/sparsesim/sparsesim/internal/usererr"
)

// value reads a column of a row: a parameter or a metric.
func value(r Row, name string) (float64, string, bool) {
	if v, ok := r.Params[name]; ok {
		f, err := strconv.ParseFloat(v, 64)
		return f, v, err == nil
	}
	if r.Metrics == nil {
		return 0, "", false
	}
	f, ok := r.Metrics.Get(name)
	return f, strconv.FormatFloat(f, 'g', 6, 64), ok
}

func known(rows []Row, name string) bool {
	for _, r := range rows {
		if _, ok := r.Params[name]; ok {
			return true
		}
	}
	_, ok := (Metrics{}).Get(name)
	return ok
}

// wantLog says whether values spanning more than 16× (all positive) read
// better on a log axis.
func wantLog(v []float64) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		if x <= 0 {
			return false
		}
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return len(v) > 1 && hi/lo >= 16
}

// PlotXY draws y against x, one series per value of color (optional), and
// saves it as PNG or SVG by the file's extension.
func PlotXY(rows []Row, x, y, colorBy, file string) error {
	for _, n := range []string{x, y} {
		if !known(rows, n) {
			return usererr.New("plot: no parameter or metric %q (metrics: %s)", n, strings.Join(MetricNames, ", "))
		}
	}
	if colorBy != "" && !known(rows, colorBy) {
		return usererr.New("plot: --color %s is not a parameter or metric", colorBy)
	}
	groups := map[string]plotter.XYs{}
	var order []string
	var xs, ys []float64
	for _, r := range rows {
		xv, _, okx := value(r, x)
		yv, _, oky := value(r, y)
		if !okx || !oky {
			continue
		}
		g := ""
		if colorBy != "" {
			_, g, _ = value(r, colorBy)
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], plotter.XY{X: xv, Y: yv})
		xs, ys = append(xs, xv), append(ys, yv)
	}
	if len(xs) == 0 {
		return usererr.New("plot: no row has numeric %s and %s", x, y)
	}
	p := plot.New()
	p.X.Label.Text, p.Y.Label.Text = x, y
	p.Title.Text = fmt.Sprintf("%s vs %s", y, x)
	if wantLog(xs) {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{}
	}
	if wantLog(ys) {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{}
	}
	sort.Strings(order)
	for i, g := range order {
		pts := groups[g]
		sort.Slice(pts, func(a, b int) bool { return pts[a].X < pts[b].X })
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		l.Color, s.Color = plotutil.Color(i), plotutil.Color(i)
		s.Shape = plotutil.Shape(i)
		p.Add(l, s)
		if colorBy != "" {
			p.Legend.Add(colorBy+"="+g, l, s)
		}
	}
	return save(p, file)
}

func save(p *plot.Plot, file string) error {
	ext := strings.ToLower(filepath.Ext(file))
	if ext != ".png" && ext != ".svg" {
		return usererr.New("plot: -o %s: use a .png or .svg file", file)
	}
	return p.Save(6*vg.Inch, 4*vg.Inch, file)
}

// PlotEnergyBreakdown draws stacked bars of compute, SRAM, DRAM and other
// energy per point.
func PlotEnergyBreakdown(rows []Row, file string) error {
	var ok []Row
	for _, r := range rows {
		if r.Metrics != nil {
			ok = append(ok, r)
		}
	}
	if len(ok) == 0 {
		return nil
	}
	p := plot.New()
	p.Title.Text = "energy breakdown per point"
	p.Y.Label.Text = "energy (pJ)"
	w := vg.Points(math.Max(2, 300/float64(len(ok))))
	parts := []struct {
		name string
		get  func(m *Metrics) float64
	}{{"compute", func(m *Metrics) float64 { return m.EnergyCompute }}, {"sram", func(m *Metrics) float64 { return m.EnergySRAM }},
		{"dram", func(m *Metrics) float64 { return m.EnergyDRAM }}, {"other", func(m *Metrics) float64 { return m.EnergyOther }}}
	var prev *plotter.BarChart
	for i, part := range parts {
		vals := make(plotter.Values, len(ok))
		for j, r := range ok {
			vals[j] = part.get(r.Metrics)
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return err
		}
		b.Color = plotutil.Color(i)
		b.LineStyle.Width = 0
		if prev != nil {
			b.StackOn(prev)
		}
		p.Add(b)
		p.Legend.Add(part.name, b)
		prev = b
	}
	labels := make([]string, len(ok))
	for j, r := range ok {
		labels[j] = strconv.Itoa(r.Point)
	}
	if len(ok) <= 24 {
		p.NominalX(labels...)
	}
	p.X.Label.Text = "point"
	p.Legend.Top = true
	return save(p, file)
}

// PlotPareto draws every point on the first two objectives with the front
// highlighted.
func PlotPareto(rows, front []Row, obj []string, file string) error {
	if len(obj) < 2 {
		return nil
	}
	xy := func(rs []Row) plotter.XYs {
		var pts plotter.XYs
		for _, r := range rs {
			if r.Metrics == nil {
				continue
			}
			a, _ := r.Metrics.Get(obj[0])
			b, _ := r.Metrics.Get(obj[1])
			pts = append(pts, plotter.XY{X: a, Y: b})
		}
		sort.Slice(pts, func(i, j int) bool { return pts[i].X < pts[j].X })
		return pts
	}
	all, fr := xy(rows), xy(front)
	if len(all) == 0 {
		return nil
	}
	p := plot.New()
	p.Title.Text = "Pareto front"
	p.X.Label.Text, p.Y.Label.Text = obj[0], obj[1]
	s, err := plotter.NewScatter(all)
	if err != nil {
		return err
	}
	s.Color = color.Gray{Y: 150}
	l, fs, err := plotter.NewLinePoints(fr)
	if err != nil {
		return err
	}
	l.Color, fs.Color = plotutil.Color(1), plotutil.Color(1)
	p.Add(s, l, fs)
	p.Legend.Add("points", s)
	p.Legend.Add("front", l, fs)
	return save(p, file)
}

// DefaultPlots writes the sweep's standard figures into dir.
func DefaultPlots(dir string, spec Spec, rows, front []Row, obj []string) error {
	for _, a := range spec.Axes {
		if strings.HasPrefix(a.Key, "pe_array.") {
			// One series per value of another axis: a non-PE one if
			// there is, else the last PE axis (rows × cols grids).
			color := ""
			for _, b := range spec.Axes {
				if !strings.HasPrefix(b.Key, "pe_array.") {
					color = b.Key
					break
				}
				if b.Key != a.Key {
					color = b.Key
				}
			}
			if err := plotSpeedup(rows, color, filepath.Join(dir, "speedup_vs_pes.png")); err != nil {
				return err
			}
			break
		}
	}
	if err := PlotEnergyBreakdown(rows, filepath.Join(dir, "energy_breakdown.png")); err != nil {
		return err
	}
	return PlotPareto(rows, front, obj, filepath.Join(dir, "pareto.png"))
}

const speedupCol = "speedup over the smallest array"

// plotSpeedup plots speedup over the smallest array of each series.
func plotSpeedup(rows []Row, colorBy, file string) error {
	base := map[string]Row{}
	for _, r := range rows {
		if r.Metrics == nil {
			continue
		}
		_, g, _ := value(r, colorBy)
		if b, ok := base[g]; !ok || r.Metrics.PEs < b.Metrics.PEs {
			base[g] = r
		}
	}
	var sp []Row
	for _, r := range rows {
		if r.Metrics == nil {
			continue
		}
		_, g, _ := value(r, colorBy)
		// The derived value rides as an extra column of the row.
		params := map[string]string{speedupCol: strconv.FormatFloat(float64(base[g].Metrics.Cycles)/float64(r.Metrics.Cycles), 'g', -1, 64)}
		for k, v := range r.Params {
			params[k] = v
		}
		sp = append(sp, Row{Point: r.Point, Params: params, Metrics: r.Metrics})
	}
	if len(sp) == 0 {
		return nil
	}
	return PlotXY(sp, "pes", speedupCol, colorBy, file)
}
