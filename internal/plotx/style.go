package plotx

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Dense is the point count above which markers are drawn small and
// translucent, so that 10,000 points still show where they pile up.
const Dense = 1000

// PointStyle returns the marker radius and colour for a series of n
// points out of total drawn, and a note for the reader when the figure is
// dense.
func PointStyle(c color.Color, total int) (vg.Length, color.Color, string) {
	if total <= Dense {
		return vg.Points(3), c, ""
	}
	r, g, b, _ := c.RGBA()
	return vg.Points(1.5), color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 60},
		fmt.Sprintf("%d points drawn translucent (alpha 0.24): darker means more points", total)
}

// palette is ten colours a reader tells apart (Tableau 10): gonum's
// plotutil palettes have seven, and series past the seventh repeated a
// colour.
var palette = []color.Color{
	color.NRGBA{0x1f, 0x77, 0xb4, 0xff}, color.NRGBA{0xff, 0x7f, 0x0e, 0xff}, color.NRGBA{0x2c, 0xa0, 0x2c, 0xff},
	color.NRGBA{0xd6, 0x27, 0x28, 0xff}, color.NRGBA{0x94, 0x67, 0xbd, 0xff}, color.NRGBA{0x8c, 0x56, 0x4b, 0xff},
	color.NRGBA{0xe3, 0x77, 0xc2, 0xff}, color.NRGBA{0x7f, 0x7f, 0x7f, 0xff}, color.NRGBA{0xbc, 0xbd, 0x22, 0xff},
	color.NRGBA{0x17, 0xbe, 0xcf, 0xff},
}

// shapes are seven markers that read apart at 3 points. Seven and ten are
// coprime, so series i's (colour i mod 10, marker i mod 7) pair is unique
// for the first 70 series, and neighbours differ in both.
var shapes = []draw.GlyphDrawer{draw.RingGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{},
	draw.PlusGlyph{}, draw.CircleGlyph{}, draw.PyramidGlyph{}}

// dashes: solid for the first 70 series, then dash patterns, so the next
// 70 lines differ from the first in their stroke.
var dashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(2)}, {vg.Points(2), vg.Points(2)}, {vg.Points(6), vg.Points(2), vg.Points(2), vg.Points(2)}}

// Distinct is how many series Style tells apart.
var Distinct = len(palette) * len(shapes) * len(dashes)

// SeriesStyle is how one series is drawn.
type SeriesStyle struct {
	Color  color.Color
	Shape  draw.GlyphDrawer
	Dashes []vg.Length
}

// Style returns series i's colour, marker and dash pattern: no two of the
// first Distinct series share all three.
func Style(i int) SeriesStyle {
	i = max(i, 0)
	pairs := len(palette) * len(shapes)
	return SeriesStyle{palette[i%len(palette)], shapes[i%len(shapes)], dashes[(i/pairs)%len(dashes)]}
}

// Color is series i's colour (Style(i).Color), for figures without markers.
func Color(i int) color.Color { return Style(i).Color }
