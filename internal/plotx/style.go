package plotx

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot/vg"
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
