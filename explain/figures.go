package explain

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/sparsesim/sparsesim/internal/plotx"
)

// figure saves f as name in the options' figure directory (when set) and
// lists it in the doc.
func (d *Doc) figure(o Options, name string, f *plotx.Figure) error {
	d.figs = append(d.figs, f)
	if o.FigureDir == "" {
		return nil
	}
	path := filepath.Join(o.FigureDir, name)
	if err := f.Save(path); err != nil {
		return err
	}
	d.Figures = append(d.Figures, path)
	return nil
}

// intTicks labels integer positions lo..hi, every step-th.
func intTicks(lo, hi int, label func(int) string) plot.ConstantTicks {
	step := max(1, int(math.Ceil(float64(hi-lo+1)/16)))
	var t plot.ConstantTicks
	for i := lo; i <= hi; i++ {
		tk := plot.Tick{Value: float64(i)}
		if (i-lo)%step == 0 {
			tk.Label = label(i)
		}
		t = append(t, tk)
	}
	return t
}

// maskFigure draws an N:M mask as a grid of squares, kept weights dark,
// row k = 0 at the top as in the printed matrix, every square inside
// the axes.
func maskFigure(mask []bool, k, n int) *plotx.Figure {
	var kept, pruned plotter.XYs
	for i := 0; i < k; i++ {
		for j := 0; j < n; j++ {
			pt := plotter.XY{X: float64(j), Y: float64(k - 1 - i)}
			if mask[i*n+j] {
				kept = append(kept, pt)
			} else {
				pruned = append(pruned, pt)
			}
		}
	}
	f := plotx.New("2:4 mask (groups of 4 down each column)", "output n", "input k (0 at the top)")
	f.FixedOrder = true
	f.Width, f.Height = 5*vg.Inch, vg.Length(math.Min(8, 2+0.25*float64(k)))*vg.Inch
	p := f.Plot
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(k)-0.5
	p.X.Tick.Marker = intTicks(0, n-1, strconv.Itoa)
	p.Y.Tick.Marker = intTicks(0, k-1, func(y int) string { return strconv.Itoa(k - 1 - y) })
	// Half a cell less a gap, in the smaller of the cell's two sides.
	cell := math.Min(float64(f.Height-vg.Inch)/float64(k), float64(f.Width-2.5*vg.Inch)/float64(n))
	radius := vg.Length(math.Max(1, 0.42*cell))
	for _, s := range []struct {
		pts plotter.XYs
		c   color.Color
		n   string
	}{{kept, color.RGBA{R: 30, G: 60, B: 160, A: 255}, "kept"}, {pruned, color.Gray{Y: 210}, "pruned"}} {
		if len(s.pts) == 0 {
			continue
		}
		sc, _ := plotter.NewScatter(s.pts)
		sc.GlyphStyle = draw.GlyphStyle{Color: s.c, Radius: radius, Shape: draw.BoxGlyph{}}
		p.Add(sc)
		f.AddLegend(s.n, sc)
	}
	return f
}

// seriesFigure draws integer-indexed series against their index, x ticks
// on integers.
func seriesFigure(title, x, y string, labels []string, series [][]float64) *plotx.Figure {
	f := plotx.New(title, x, y)
	f.FixedOrder = true
	n := 0
	for i, v := range series {
		pts := make(plotter.XYs, len(v))
		xs := make([]float64, len(v))
		for j, val := range v {
			pts[j] = plotter.XY{X: float64(j), Y: val}
			xs[j] = float64(j)
		}
		n = max(n, len(v))
		l, s, _ := plotter.NewLinePoints(pts)
		st := plotx.Style(i)
		l.Color, s.Color, s.Shape = st.Color, st.Color, st.Shape
		f.Plot.Add(l, s)
		if len(series) > 1 || labels[i] != "" {
			f.AddLegend(labels[i], l, s)
		}
		f.AddSeries(labels[i], xs, true)
	}
	f.Plot.X.Tick.Marker = intTicks(0, n-1, strconv.Itoa)
	f.Plot.X.Min, f.Plot.X.Max = -0.3, float64(n-1)+0.3
	if f.Plot.Y.Min == f.Plot.Y.Max {
		f.Plot.Y.Min, f.Plot.Y.Max = f.Plot.Y.Min-1, f.Plot.Y.Max+1
	}
	return f
}

// scoresFigure marks which of the scores the top-k engine kept.
func scoresFigure(vals []float64, keep []int) *plotx.Figure {
	kept := map[int]bool{}
	for _, i := range keep {
		kept[i] = true
	}
	var in, out plotter.XYs
	for i, v := range vals {
		if kept[i] {
			in = append(in, plotter.XY{X: float64(i), Y: v})
		} else {
			out = append(out, plotter.XY{X: float64(i), Y: v})
		}
	}
	f := plotx.New(fmt.Sprintf("top-%d of %d scores", len(keep), len(vals)), "score index", "score")
	f.FixedOrder = true
	for i, s := range []struct {
		pts plotter.XYs
		n   string
	}{{in, "kept"}, {out, "dropped"}} {
		if len(s.pts) == 0 {
			continue
		}
		sc, _ := plotter.NewScatter(s.pts)
		sc.Color, sc.Shape = plotx.Color(i), plotx.Style(i).Shape
		f.Plot.Add(sc)
		f.AddLegend(s.n, sc)
	}
	f.Plot.X.Tick.Marker = intTicks(0, len(vals)-1, strconv.Itoa)
	f.Plot.X.Min, f.Plot.X.Max = -0.5, float64(len(vals))-0.5
	return f
}
