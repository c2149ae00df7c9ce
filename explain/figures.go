package explain

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// maskFigure draws an N:M mask: kept weights dark, pruned light.
func maskFigure(mask []bool, k, n int, file string) error {
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
	p := plot.New()
	p.Title.Text = "2:4 mask (groups of 4 down each column)"
	p.X.Label.Text, p.Y.Label.Text = "output n", "input k (top = 0)"
	for _, s := range []struct {
		pts plotter.XYs
		c   color.Color
		n   string
	}{{kept, color.RGBA{R: 30, G: 60, B: 160, A: 255}, "kept"}, {pruned, color.Gray{Y: 220}, "pruned"}} {
		if len(s.pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(s.pts)
		if err != nil {
			return err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: s.c, Radius: vg.Points(7), Shape: draw.BoxGlyph{}}
		p.Add(sc)
		p.Legend.Add(s.n, sc)
	}
	return p.Save(4*vg.Inch, 6*vg.Inch, file)
}

// lineFigure plots integers against their index.
func lineFigure(v []int, x, y, title, file string) error {
	pts := make(plotter.XYs, len(v))
	for i, n := range v {
		pts[i] = plotter.XY{X: float64(i), Y: float64(n)}
	}
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, x, y
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	p.Add(l, s)
	return p.Save(5*vg.Inch, 3.5*vg.Inch, file)
}
