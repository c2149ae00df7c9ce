package plotx

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/sparsesim/sparsesim/internal/atomicfile"
	"github.com/sparsesim/sparsesim/internal/usererr"
)

// Series is what a figure drew for one legend entry, for tests.
type Series struct {
	Label string
	X     []float64
	// Line says the points are joined, which only reads right when each
	// x appears once and in increasing order.
	Line bool
	// Y are the values drawn (nil when a test has no use for them), and
	// Style how: no two series of a figure should share it.
	Y     []float64
	Style SeriesStyle
}

// Figure is a plot plus the model of what it shows.
type Figure struct {
	Plot *plot.Plot
	// The legend is drawn in a margin right of the data; entries go in
	// with AddLegend, never into Plot.Legend. LegendTitle heads it.
	LegendTitle  string
	LegendLabels []string
	entries      []entry
	// FixedOrder marks a legend whose order means something (a stack's
	// layers) and is not sorted.
	FixedOrder  bool
	Series      []Series
	XCategories []string
	Width       vg.Length
	Height      vg.Length
	// Notes are what a reader must be told beside the picture (points
	// sampled, drawn translucent); the CLI prints them.
	Notes []string
	// NonNegX and NonNegY mark an axis whose quantity cannot be negative
	// (a count, a time, an energy) and whose data are all ≥ 0: a range
	// widened around one value stops at 0 rather than going below it.
	NonNegX, NonNegY bool
	// padded marks the axes padded around the data (once).
	padded bool
	// catRotated and catStep are the category labels' layout: drawn
	// upright, or turned to read upwards, and every catStep-th labelled,
	// so that no two overlap (fitCategories).
	catRotated bool
	catStep    int
}

// New makes a figure with sparsesim's tick labels on both axes.
func New(title, x, y string) *Figure {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, x, y
	p.X.Tick.Marker, p.Y.Tick.Marker = Ticks{}, Ticks{}
	return &Figure{Plot: p, Width: 6 * vg.Inch, Height: 4 * vg.Inch}
}

// LogX puts x on a log scale.
func (f *Figure) LogX() { f.Plot.X.Scale, f.Plot.X.Tick.Marker = plot.LogScale{}, Ticks{Log: true} }

// LogY puts y on a log scale.
func (f *Figure) LogY() { f.Plot.Y.Scale, f.Plot.Y.Tick.Marker = plot.LogScale{}, Ticks{Log: true} }

// Categories makes x a category axis: names[i] sits at x = i.
func (f *Figure) Categories(names []string) {
	f.XCategories = names
	f.Plot.NominalX(names...)
	f.Plot.X.Min, f.Plot.X.Max = -0.5, float64(len(names))-0.5
}

// AddLegend adds a legend entry beside the data.
func (f *Figure) AddLegend(label string, thumbs ...plot.Thumbnailer) {
	f.entries = append(f.entries, entry{label, thumbs})
	f.LegendLabels = append(f.LegendLabels, label)
}

// AddSeries records what was drawn for one entry.
func (f *Figure) AddSeries(label string, xs []float64, line bool) {
	f.Series = append(f.Series, Series{Label: label, X: xs, Line: line})
}

// AddStyledSeries records what was drawn for one entry: its points and
// its style.
func (f *Figure) AddStyledSeries(label string, xs, ys []float64, line bool, st SeriesStyle) {
	f.Series = append(f.Series, Series{Label: label, X: xs, Y: ys, Line: line, Style: st})
}

// padFrac is the share of an axis's data span left empty at each end, so
// the largest (and smallest) point or bar is drawn whole inside the axes
// rather than cut by the frame.
const padFrac = 0.05

// Pad widens a figure drawn on a bare gonum plot the way Save widens a
// Figure's axes (pad): call it once the data are added.
func Pad(a *plot.Axis, nonNeg bool) { pad(a, nonNeg) }

// pad widens a numeric axis by padFrac of its span at each end (a factor
// on a log axis). A non-negative quantity's axis does not go below 0: a
// value of 0 stays on the axis line, which gonum draws a few points off
// the data (Axis.Padding).
func pad(a *plot.Axis, nonNeg bool) {
	if _, log := a.Scale.(plot.LogScale); log && a.Min > 0 {
		f := math.Pow(a.Max/a.Min, padFrac)
		a.Min, a.Max = a.Min/f, a.Max*f
		return
	}
	d := (a.Max - a.Min) * padFrac
	lo := a.Min - d
	if nonNeg && a.Min >= 0 {
		lo = math.Max(0, lo)
	}
	a.Min, a.Max = lo, a.Max+d
}

// settle gives the axes their final range: a single value widened, then
// the data padded (a category axis is already ±0.5 around its bars).
func (f *Figure) settle() {
	p := f.Plot
	widen(&p.X, f.NonNegX)
	widen(&p.Y, f.NonNegY)
	if f.padded {
		return
	}
	f.padded = true
	if f.XCategories == nil {
		pad(&p.X, f.NonNegX)
	}
	pad(&p.Y, f.NonNegY)
}

// widen gives an axis whose data sit on one value a range around it, so
// it still gets two or more labelled ticks: ±10% of the value (±1 around
// 0), so a constant 0.03 s reads as 0.03 rather than as a flat line at the
// foot of a 0-to-1 axis. A non-negative axis stops at 0.
func widen(a *plot.Axis, nonNeg bool) {
	if a.Min != a.Max {
		return
	}
	if _, log := a.Scale.(plot.LogScale); log && a.Min > 0 {
		a.Min, a.Max = a.Min/2, a.Max*2
		return
	}
	d := math.Abs(a.Min) / 10
	if d == 0 {
		d = 1
	}
	lo := a.Min - d
	if nonNeg && a.Min >= 0 {
		lo = math.Max(0, lo)
	}
	a.Min, a.Max = lo, a.Max+d
}

// Ticks returns the ticks each axis draws over its final range.
func (f *Figure) Ticks() (x, y []plot.Tick) {
	p := f.Plot
	f.settle()
	return p.X.Tick.Marker.Ticks(p.X.Min, p.X.Max), p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max)
}

// Check verifies the figure reads right: every numeric axis has two or
// more labelled ticks and no two labels alike; category labels and the
// legend are in SortLabels order (unless FixedOrder); a joined series has
// one point per x, in increasing x; an axis marked non-negative does not
// go below 0; nothing is in gonum's in-data legend.
func (f *Figure) Check() error {
	xt, yt := f.Ticks()
	axes := []struct {
		name  string
		ticks []plot.Tick
	}{{"y", yt}}
	if f.XCategories == nil {
		axes = append(axes, struct {
			name  string
			ticks []plot.Tick
		}{"x", xt})
	} else {
		var got []string
		for _, t := range xt {
			got = append(got, t.Label)
		}
		if f.catStep > 1 {
			got = f.XCategories // thinned on purpose (fitCategories)
		}
		if strings.Join(got, "\x00") != strings.Join(f.XCategories, "\x00") || !sorted(f.XCategories) {
			return fmt.Errorf("x categories %q, ticks %q", f.XCategories, got)
		}
	}
	for _, a := range axes {
		var labels []string
		for _, t := range a.ticks {
			if t.Label != "" {
				labels = append(labels, t.Label)
			}
		}
		if len(labels) < 2 || !distinct(labels) {
			return fmt.Errorf("%s axis %q: tick labels %q do not tell the values apart", a.name, f.axisLabel(a.name), labels)
		}
	}
	for _, a := range []struct {
		name   string
		nonNeg bool
		min    float64
	}{{"x", f.NonNegX, f.Plot.X.Min}, {"y", f.NonNegY, f.Plot.Y.Min}} {
		if a.nonNeg && a.min < 0 {
			return fmt.Errorf("%s axis %q of a non-negative quantity starts at %g", a.name, f.axisLabel(a.name), a.min)
		}
	}
	if !f.FixedOrder && !sorted(f.LegendLabels) {
		return fmt.Errorf("legend %q is not in numeric order", f.LegendLabels)
	}
	for _, s := range f.Series {
		if !s.Line {
			continue
		}
		for i := 1; i < len(s.X); i++ {
			if !(s.X[i] > s.X[i-1]) {
				return fmt.Errorf("series %q joins points at x=%g and x=%g: a zig-zag", s.Label, s.X[i-1], s.X[i])
			}
		}
	}
	if f.Plot.Legend.Left || f.Plot.Legend.Top || f.Plot.Legend.XOffs != 0 {
		return fmt.Errorf("the in-data legend was configured")
	}
	return nil
}

func (f *Figure) axisLabel(name string) string {
	if name == "x" {
		return f.Plot.X.Label.Text
	}
	return f.Plot.Y.Label.Text
}

func sorted(s []string) bool {
	for i := 1; i < len(s); i++ {
		if LabelLess(s[i], s[i-1]) {
			return false
		}
	}
	return true
}

// Save draws the figure, the legend in a right margin, and writes it
// atomically as PNG or SVG by the file's extension.
func (f *Figure) Save(file string) error {
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(file)), ".")
	if ext != "png" && ext != "svg" {
		return usererr.New("plot: -o %s: use a .png or .svg file", file)
	}
	f.settle()
	f.fitCategories()
	c, err := draw.NewFormattedCanvas(f.Width, f.Height, ext)
	if err != nil {
		return err
	}
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	area, leg, lc := f.layout(dc)
	if lc != nil {
		leg.Draw(*lc)
	}
	f.Plot.Draw(area)
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return err
	}
	return writeAtomic(file, buf.Bytes())
}

// layout splits canvas dc into the plot's area and, when there is a
// legend, the margin right of it where the legend is drawn (nil: none).
func (f *Figure) layout(dc draw.Canvas) (area draw.Canvas, leg plot.Legend, lc *draw.Canvas) {
	if len(f.LegendLabels) == 0 && f.LegendTitle == "" {
		return dc, leg, nil
	}
	leg = f.legend()
	r := leg.Rectangle(dc)
	w := r.Max.X - r.Min.X + vg.Points(12)
	area = draw.Crop(dc, 0, -w, 0, 0)
	c := draw.Crop(dc, f.Width-w+vg.Points(6), 0, 0, -vg.Points(24))
	return area, leg, &c
}

// Geometry is where a saved figure puts its data and its legend, in
// canvas points, for tests that check what lies where.
type Geometry struct {
	Data   vg.Rectangle
	Legend vg.Rectangle // empty without a legend
	// X and Y map a data value to canvas points.
	X, Y func(float64) vg.Length
}

// Geometry returns the layout Save draws (call after the figure is built).
func (f *Figure) Geometry() Geometry {
	f.settle()
	f.fitCategories()
	c, _ := draw.NewFormattedCanvas(f.Width, f.Height, "png")
	area, leg, lc := f.layout(draw.New(c))
	da := f.Plot.DataCanvas(area)
	g := Geometry{Data: da.Rectangle,
		X: func(v float64) vg.Length { return da.X(f.Plot.X.Norm(v)) },
		Y: func(v float64) vg.Length { return da.Y(f.Plot.Y.Norm(v)) }}
	if lc != nil {
		g.Legend = leg.Rectangle(*lc)
	}
	return g
}

// labelGap is the least space between two category labels.
const labelGap = 4 // points

// fitCategories lays out a category axis's labels so that no two
// overlap, measured with the tick font: upright when each pair of
// neighbours fits the space between their ticks; else turned to read upwards (each then takes its line height
// across); else, past that, only every catStep-th labelled. A turned
// label hangs below the axis, so the figure grows by the labels' length
// and the data keep their height.
func (f *Figure) fitCategories() {
	n := len(f.XCategories)
	if n == 0 || f.catStep > 0 {
		return
	}
	f.catStep = 1
	st := f.Plot.X.Tick.Label
	widest := vg.Length(0)
	for _, l := range f.XCategories {
		widest = max(widest, st.Width(l))
	}
	slot := f.dataWidth() / vg.Length(n)
	fits := true // upright, each label centred on its slot
	for i := 1; i < n; i++ {
		fits = fits && (st.Width(f.XCategories[i-1])+st.Width(f.XCategories[i]))/2+labelGap <= slot
	}
	if fits {
		return
	}
	f.catRotated = true
	f.Plot.X.Tick.Label.Rotation = math.Pi / 2
	f.Plot.X.Tick.Label.XAlign, f.Plot.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	f.Height += widest - st.Height("0")
	across := st.Height("0")
	if across+labelGap > slot {
		f.catStep = int(math.Ceil(float64((across + labelGap) / slot)))
		var ticks []plot.Tick
		for i, l := range f.XCategories {
			t := plot.Tick{Value: float64(i)}
			if i%f.catStep == 0 {
				t.Label = l
			}
			ticks = append(ticks, t)
		}
		f.Plot.X.Tick.Marker = plot.ConstantTicks(ticks)
	}
}

// dataWidth is the width of the data area Save draws.
func (f *Figure) dataWidth() vg.Length {
	c, _ := draw.NewFormattedCanvas(f.Width, f.Height, "png")
	area, _, _ := f.layout(draw.New(c))
	r := f.Plot.DataCanvas(area).Rectangle
	return r.Max.X - r.Min.X
}

// CategoryLabelExtents returns the horizontal extent, in canvas points,
// of each category label Save draws (thinned-out ones left out), from
// the tick font's metrics: tests check that no two overlap.
func (f *Figure) CategoryLabelExtents() [][2]vg.Length {
	g := f.Geometry()
	st := f.Plot.X.Tick.Label
	var out [][2]vg.Length
	for i, l := range f.XCategories {
		if i%f.catStep != 0 {
			continue
		}
		r := st.Rectangle(l)
		x := g.X(float64(i))
		out = append(out, [2]vg.Length{x + r.Min.X, x + r.Max.X})
	}
	return out
}

type entry struct {
	label  string
	thumbs []plot.Thumbnailer
}

// legend builds the side legend, LegendTitle as a first line.
func (f *Figure) legend() plot.Legend {
	leg := plot.NewLegend()
	leg.Left, leg.Top = true, true
	if f.LegendTitle != "" {
		leg.Add(f.LegendTitle)
	}
	for _, e := range f.entries {
		leg.Add(e.label, e.thumbs...)
	}
	return leg
}

// writeAtomic writes an image through the same writer as every other
// output (atomicfile), so a PNG gets the mode a CSV beside it has.
func writeAtomic(path string, data []byte) error {
	if err := atomicfile.Write(path, data); err != nil {
		return usererr.New("-o %s: %v", path, err)
	}
	return nil
}
