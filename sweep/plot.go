package sweep

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/sparsesim/sparsesim/internal/plotx"
	"github.com/sparsesim/sparsesim/internal/usererr"
)

// value reads a column of a row: a parameter or a metric. text is the
// column as written (a parameter's string, a metric in %g).
func value(r Row, name string) (f float64, text string, numeric bool) {
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

// has reports whether a row has the column at all (numeric or not).
func has(r Row, name string) bool {
	if _, ok := r.Params[name]; ok {
		return true
	}
	if r.Metrics == nil {
		return false
	}
	_, ok := r.Metrics.Get(name)
	return ok
}

func known(rows []Row, name string) bool {
	for _, r := range rows {
		if _, ok := r.Params[name]; ok {
			return true
		}
	}
	return IsMetric(name)
}

// nonNeg says whether a column drawn with values v is a quantity that
// cannot be negative: a metric (or the speedup the default plot derives),
// with every value drawn ≥ 0 (a mangled results file may hold others).
// Parameters may be signed.
func nonNeg(name string, v []float64) bool {
	if name != speedupCol && !IsMetric(name) {
		return false
	}
	for _, x := range v {
		if x < 0 {
			return false
		}
	}
	return true
}

// wantLog says whether values spanning 16× or more (all positive) read
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

// PlotXY draws y against x, one series per value of colorBy (optional),
// and saves it as PNG or SVG by the file's extension. It returns the
// figure's notes for the reader.
func PlotXY(rows []Row, x, y, colorBy, file string) ([]string, error) {
	f, err := XYFigure(rows, x, y, colorBy)
	if err != nil {
		return nil, err
	}
	return f.Notes, f.Save(file)
}

// XYFigure builds PlotXY's figure. A column whose values are not all
// numbers (a dataflow) on x becomes a category axis. Points of a series
// are joined only when each x appears once in it; a series with repeated
// x (pes over a rows × cols grid) is drawn as points, since a line would
// zig-zag between unrelated designs. Series and categories are in numeric
// order; past plotx.Dense points markers turn small and translucent.
func XYFigure(rows []Row, x, y, colorBy string) (*plotx.Figure, error) {
	for _, n := range []string{x, y} {
		if !known(rows, n) {
			return nil, usererr.New("plot: no parameter or metric %q (metrics: %s)", n, strings.Join(MetricNames, ", "))
		}
	}
	if colorBy != "" && !known(rows, colorBy) {
		return nil, usererr.New("plot: --color %s is not a parameter or metric", colorBy)
	}
	// x is a category axis when some row's x is not a number.
	categorical := false
	for _, r := range rows {
		if _, _, num := value(r, x); has(r, x) && !num && r.Metrics != nil {
			categorical = true
		}
	}
	type pt struct {
		xv, yv float64
		xs     string
	}
	groups := map[string][]pt{}
	var order []string
	var xs, ys []float64
	catSeen := map[string]bool{}
	var cats []string
	for _, r := range rows {
		if r.Metrics == nil || !has(r, x) {
			continue
		}
		xv, xtext, okx := value(r, x)
		yv, _, oky := value(r, y)
		if !oky || (!okx && !categorical) {
			continue
		}
		g := ""
		if colorBy != "" {
			_, g, _ = value(r, colorBy)
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], pt{xv, yv, xtext})
		if categorical && !catSeen[xtext] {
			catSeen[xtext] = true
			cats = append(cats, xtext)
		}
		xs, ys = append(xs, xv), append(ys, yv)
	}
	if len(ys) == 0 {
		return nil, usererr.New("plot: no successful row has numeric %s and %s", x, y)
	}
	f := plotx.New(fmt.Sprintf("%s vs %s", y, x), x, y)
	catIndex := map[string]float64{}
	if categorical {
		plotx.SortLabels(cats)
		for i, c := range cats {
			catIndex[c] = float64(i)
		}
		f.Categories(cats)
	} else if wantLog(xs) {
		f.LogX()
	}
	if wantLog(ys) {
		f.LogY()
	}
	f.NonNegX = !categorical && nonNeg(x, xs)
	f.NonNegY = nonNeg(y, ys)
	plotx.SortLabels(order)
	if colorBy != "" {
		f.LegendTitle = colorBy
	}
	for i, g := range order {
		ps := groups[g]
		pts := make(plotter.XYs, len(ps))
		for k, p := range ps {
			pts[k] = plotter.XY{X: p.xv, Y: p.yv}
			if categorical {
				pts[k].X = catIndex[p.xs]
			}
		}
		sort.SliceStable(pts, func(a, b int) bool { return pts[a].X < pts[b].X })
		xsOf, ysOf := make([]float64, len(pts)), make([]float64, len(pts))
		line := !categorical
		for k := range pts {
			xsOf[k], ysOf[k] = pts[k].X, pts[k].Y
			if k > 0 && pts[k].X == pts[k-1].X {
				line = false
			}
		}
		st := plotx.Style(i)
		radius, col, note := plotx.PointStyle(st.Color, len(ys))
		if note != "" && i == 0 {
			f.Notes = append(f.Notes, note)
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, usererr.New("plot: %s vs %s: %v", y, x, err)
		}
		s.Color, s.Shape, s.Radius = col, st.Shape, radius
		if line {
			l, err := plotter.NewLine(pts)
			if err != nil {
				return nil, usererr.New("plot: %s vs %s: %v", y, x, err)
			}
			l.Color, l.Dashes = st.Color, st.Dashes
			f.Plot.Add(l, s)
			if colorBy != "" {
				f.AddLegend(g, l, s)
			}
		} else {
			f.Plot.Add(s)
			if colorBy != "" {
				f.AddLegend(g, s)
			}
		}
		f.AddStyledSeries(g, xsOf, ysOf, line, st)
	}
	return f, nil
}

// EnergyFigure draws stacked bars of compute, SRAM, DRAM and other energy
// per point; nil when no point has an energy split (none succeeded).
func EnergyFigure(rows []Row) (*plotx.Figure, error) {
	var ok []Row
	for _, r := range rows {
		if m := r.Metrics; m != nil && m.EnergyCompute != nil && m.EnergySRAM != nil && m.EnergyDRAM != nil && m.EnergyOther != nil {
			ok = append(ok, r)
		}
	}
	if len(ok) == 0 {
		return nil, nil
	}
	// Bars in the reading order of their names (what Categories wants).
	labels := pointLabels(ok)
	idx := make([]int, len(ok))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return plotx.LabelLess(labels[idx[a]], labels[idx[b]]) })
	sortedRows, sortedLabels := make([]Row, len(ok)), make([]string, len(ok))
	for i, j := range idx {
		sortedRows[i], sortedLabels[i] = ok[j], labels[j]
	}
	ok, labels = sortedRows, sortedLabels
	f := plotx.New("energy breakdown per point", "point", "energy (pJ)")
	f.NonNegY = true
	f.FixedOrder = true // the legend lists the stack as drawn, top layer first
	w := vg.Points(math.Max(2, math.Min(40, 300/float64(len(ok)))))
	parts := []struct {
		name string
		get  func(m *Metrics) *float64
	}{{"compute", func(m *Metrics) *float64 { return m.EnergyCompute }}, {"sram", func(m *Metrics) *float64 { return m.EnergySRAM }},
		{"dram", func(m *Metrics) *float64 { return m.EnergyDRAM }}, {"other", func(m *Metrics) *float64 { return m.EnergyOther }}}
	var prev *plotter.BarChart
	bars := make([]*plotter.BarChart, len(parts))
	for i, part := range parts {
		vals := make(plotter.Values, len(ok))
		for j, r := range ok {
			vals[j] = *part.get(r.Metrics)
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		b.Color = plotx.Color(i)
		b.LineStyle.Width = 0
		if prev != nil {
			b.StackOn(prev)
		}
		f.Plot.Add(b)
		bars[i] = b
		prev = b
	}
	for i := len(parts) - 1; i >= 0; i-- {
		f.AddLegend(parts[i].name, bars[i])
	}
	// Each bar is named by its point's parameters, so a reader maps it
	// to its configuration without results.csv; the category layout
	// turns or thins the names so they never overlap.
	f.Plot.X.Label.Text = "point (the parameters that vary between points)"
	f.Categories(labels)
	return f, nil
}

// pointLabels names each row by the parameters that vary between rows
// ("rows=16 nm=2:4", keys shortened to their last part when that stays
// unambiguous); with none varying, by all of them; a row with no
// parameters, or two rows that would read alike, by point number too.
func pointLabels(rows []Row) []string {
	keys := map[string]bool{}
	for _, r := range rows {
		for k, v := range r.Params {
			if v != rows[0].Params[k] || len(rows) == 1 {
				keys[k] = true
			}
		}
	}
	var ks []string
	for k := range keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	short := map[string]string{}
	seen := map[string]int{}
	for _, k := range ks {
		seen[k[strings.LastIndex(k, ".")+1:]]++
	}
	for _, k := range ks {
		short[k] = k
		if s := k[strings.LastIndex(k, ".")+1:]; seen[s] == 1 {
			short[k] = s
		}
	}
	out := make([]string, len(rows))
	count := map[string]int{}
	for i, r := range rows {
		var parts []string
		for _, k := range ks {
			if v, ok := r.Params[k]; ok {
				parts = append(parts, short[k]+"="+v)
			}
		}
		out[i] = strings.Join(parts, " ")
		count[out[i]]++
	}
	for i, r := range rows {
		if out[i] == "" || count[out[i]] > 1 {
			out[i] = strings.TrimSpace(fmt.Sprintf("#%d %s", r.Point, out[i]))
		}
	}
	return out
}

// ParetoFigure draws every point on the first two objectives with the
// front highlighted, titled by the objectives and their directions; nil
// with fewer than two objectives or no point that has both. Points that
// lack one of the two (it does not apply to them) are left out. With
// three or more objectives the front is only a projection here, so its
// points are not joined.
func ParetoFigure(rows, front []Row, obj []string) (*plotx.Figure, error) {
	if len(obj) < 2 {
		return nil, nil
	}
	xy := func(rs []Row) plotter.XYs {
		var pts plotter.XYs
		for _, r := range rs {
			if r.Metrics == nil {
				continue
			}
			a, oka := r.Metrics.Get(obj[0])
			b, okb := r.Metrics.Get(obj[1])
			if oka && okb {
				pts = append(pts, plotter.XY{X: a, Y: b})
			}
		}
		sort.SliceStable(pts, func(i, j int) bool { return pts[i].X < pts[j].X || pts[i].X == pts[j].X && pts[i].Y < pts[j].Y })
		return pts
	}
	all, fr := xy(rows), xy(front)
	if len(all) == 0 {
		return nil, nil
	}
	// Equal points are all on the front; the line visits each once.
	fr = slices.CompactFunc(fr, func(a, b plotter.XY) bool { return a == b })
	title := "Pareto front: " + objectivesText(obj)
	if len(obj) > 2 {
		title += " (first two drawn)"
	}
	f := plotx.New(title, obj[0], obj[1])
	f.NonNegX, f.NonNegY = nonNegXY(all)
	f.FixedOrder = true
	s, err := plotter.NewScatter(all)
	if err != nil {
		return nil, err
	}
	radius, col, note := plotx.PointStyle(color.Gray{Y: 150}, len(all))
	s.Color, s.Radius = col, radius
	if note != "" {
		f.Notes = append(f.Notes, note)
	}
	f.Plot.Add(s)
	f.AddLegend("points", s)
	ax, ay := make([]float64, len(all)), make([]float64, len(all))
	for i, p := range all {
		ax[i], ay[i] = p.X, p.Y
	}
	f.AddStyledSeries("points", ax, ay, false, plotx.SeriesStyle{Color: s.Color, Shape: s.Shape})
	fx, fy := make([]float64, len(fr)), make([]float64, len(fr))
	for i := range fr {
		fx[i], fy[i] = fr[i].X, fr[i].Y
	}
	if len(fr) == 0 {
		return f, nil
	}
	if len(obj) == 2 {
		l, fs, err := plotter.NewLinePoints(fr)
		if err != nil {
			return nil, err
		}
		st := plotx.Style(1)
		l.Color, fs.Color, fs.Shape = st.Color, st.Color, st.Shape
		f.Plot.Add(l, fs)
		f.AddLegend("front", l, fs)
		f.AddStyledSeries("front", fx, fy, true, st)
		return f, nil
	}
	fs, err := plotter.NewScatter(fr)
	if err != nil {
		return nil, err
	}
	st := plotx.Style(1)
	fs.Color, fs.Shape = st.Color, st.Shape
	f.Plot.Add(fs)
	f.AddLegend("front", fs)
	f.AddStyledSeries("front", fx, fy, false, st)
	return f, nil
}

// nonNegXY says whether every point has x ≥ 0 and y ≥ 0 (metrics, so
// non-negative quantities; the check keeps mangled input honest).
func nonNegXY(pts plotter.XYs) (x, y bool) {
	x, y = true, true
	for _, p := range pts {
		x, y = x && p.X >= 0, y && p.Y >= 0
	}
	return x, y
}

// DefaultPlots writes the sweep's standard figures into dir and returns
// the names of the files it wrote (none when no point succeeded) and,
// for each standard figure it left out, why.
func DefaultPlots(dir string, spec Spec, rows, front []Row, obj []string) (wrote, omitted []string, err error) {
	figs, omitted, err := DefaultFigures(spec, rows, front, obj)
	if err != nil {
		return nil, nil, err
	}
	for _, nf := range figs {
		if err := nf.Figure.Save(filepath.Join(dir, nf.Name)); err != nil {
			return wrote, omitted, err
		}
		wrote = append(wrote, nf.Name)
	}
	return wrote, omitted, nil
}

// NamedFigure is a default plot and its file name.
type NamedFigure struct {
	Name   string
	Figure *plotx.Figure
}

// DefaultFigures builds the sweep's standard figures: speedup over the
// PE count when an axis is a pe_array field, the energy breakdown and the
// Pareto front. Figures with nothing to show are left out; omitted says
// why for the energy and Pareto figures of a sweep with successful points
// ("energy_breakdown.png: LLM points report no energy"), so the listing
// never leaves a reader looking for a file.
func DefaultFigures(spec Spec, rows, front []Row, obj []string) (figs []NamedFigure, omitted []string, err error) {
	succeeded := false
	for _, r := range rows {
		succeeded = succeeded || r.Metrics != nil
	}
	for _, a := range spec.Axes {
		if !strings.HasPrefix(a.Key, "pe_array.") {
			continue
		}
		// One series per value of another axis: a non-PE one if there
		// is, else the last other PE axis (rows × cols grids).
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
		f, err := speedupFigure(rows, color)
		if err != nil {
			return nil, nil, err
		}
		if f != nil {
			figs = append(figs, NamedFigure{"speedup_vs_pes.png", f})
		}
		break
	}
	ef, err := EnergyFigure(rows)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case ef != nil:
		figs = append(figs, NamedFigure{"energy_breakdown.png", ef})
	case succeeded:
		omitted = append(omitted, "energy_breakdown.png: no point reports an energy split")
	}
	pf, err := ParetoFigure(rows, front, obj)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case pf != nil:
		figs = append(figs, NamedFigure{"pareto.png", pf})
	case succeeded && len(obj) < 2:
		omitted = append(omitted, fmt.Sprintf("pareto.png: one objective (%s), nothing to draw it against", strings.Join(obj, ",")))
	case succeeded:
		omitted = append(omitted, fmt.Sprintf("pareto.png: no point has both %s and %s", obj[0], obj[1]))
	}
	return figs, omitted, nil
}

const speedupCol = "speedup over the series' smallest array"

// speedupFigure plots, per series, each point's speedup over the point of
// that series with the fewest PEs (its slowest array when two tie), so
// every series starts at 1 on its own smallest design.
func speedupFigure(rows []Row, colorBy string) (*plotx.Figure, error) {
	base := map[string]Row{}
	var order []string
	for _, r := range rows {
		if r.Metrics == nil || r.Metrics.Cycles <= 0 {
			continue
		}
		_, g, _ := value(r, colorBy)
		b, ok := base[g]
		if !ok {
			order = append(order, g)
		}
		if !ok || r.Metrics.PEs < b.Metrics.PEs || r.Metrics.PEs == b.Metrics.PEs && r.Metrics.Cycles > b.Metrics.Cycles {
			base[g] = r
		}
	}
	var sp []Row
	for _, r := range rows {
		if r.Metrics == nil || r.Metrics.Cycles <= 0 {
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
		return nil, nil
	}
	return XYFigure(sp, "pes", speedupCol, colorBy)
}
