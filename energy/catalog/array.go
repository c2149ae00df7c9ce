package catalog

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// ArraySize is one whole-array synthesis point of rtl/src/sa_array.v: an
// R×C weight-stationary array of W-bit PEs selecting from an activation
// window of M words (M = 1 is the dense array).
type ArraySize struct{ R, C, M, W int }

// ArrayUnit is the unit name of whole-array rows in rtl_resources.csv.
const ArrayUnit = "sa_array"

// ArrayACC is the partial-sum width the arrays are synthesised with.
func ArrayACC(w int) int {
	if w <= 8 {
		return 32
	}
	return 40
}

// ArrayFitSizes are the arrays the per-PE resource fit is made from (three
// square sizes per family of W and M); ArrayCheckSizes are synthesised too
// but kept out of the fit, to measure its error on sizes it has not seen.
var (
	ArrayFitSizes = []ArraySize{
		{4, 4, 1, 8}, {8, 8, 1, 8}, {16, 16, 1, 8},
		{4, 4, 4, 8}, {8, 8, 4, 8}, {16, 16, 4, 8},
		{4, 4, 8, 8}, {8, 8, 8, 8}, {16, 16, 8, 8},
		{4, 4, 1, 16}, {8, 8, 1, 16}, {16, 16, 1, 16},
		{4, 4, 8, 16}, {8, 8, 8, 16}, {16, 16, 8, 16},
	}
	ArrayCheckSizes = []ArraySize{{12, 12, 1, 8}, {12, 12, 4, 8}, {12, 12, 8, 8}, {6, 10, 8, 8}, {12, 12, 8, 16}}
)

// ArrayFit is the least-squares fit of one family (W, M) of synthesised
// arrays: resource = PerPE·R·C + PerEdge·(R+C). PerPE holds everything each
// PE has (weight, index, window and partial-sum registers, the M:1 select,
// the multiplier and adder); PerEdge absorbs the skew lines and the
// pass-through registers the last column drops, which grow with the sides.
type ArrayFit struct {
	M, W             int
	PerPE, PerEdge   [3]float64 // LUT, FF, DSP
	Points           int
	MaxFitErrPercent float64 // largest |fit − yosys| / yosys over the fit points
}

// Estimate is the fit's LUT, FF and DSP for an R×C array.
func (f ArrayFit) Estimate(r, c int) (lut, ff, dsp float64) {
	e := func(i int) float64 {
		return math.Max(0, f.PerPE[i]*float64(r*c)+f.PerEdge[i]*float64(r+c))
	}
	return e(0), e(1), math.Round(e(2))
}

// arrayRow finds the yosys row of one array size.
func arrayRow(a ArraySize) (SynthCost, bool) {
	return FindSynth(ArrayUnit, map[string]int{"R": a.R, "C": a.C, "M": a.M, "W": a.W})
}

// FitArray fits family (w, m) from the ArrayFitSizes rows of the resource
// table; ok is false when the table has fewer than two of them.
func FitArray(m, w int) (ArrayFit, bool) {
	f := ArrayFit{M: m, W: w}
	var pts []SynthCost
	for _, a := range ArrayFitSizes {
		if a.M != m || a.W != w {
			continue
		}
		if c, ok := arrayRow(a); ok {
			pts = append(pts, c)
		}
	}
	if len(pts) < 2 {
		return f, false
	}
	f.Points = len(pts)
	x := mat.NewDense(len(pts), 2, nil)
	y := mat.NewDense(len(pts), 3, nil)
	for i, p := range pts {
		x.Set(i, 0, float64(p.Params["R"]*p.Params["C"]))
		x.Set(i, 1, float64(p.Params["R"]+p.Params["C"]))
		y.Set(i, 0, p.LUT)
		y.Set(i, 1, p.FF)
		y.Set(i, 2, p.DSP)
	}
	var beta mat.Dense
	if err := beta.Solve(x, y); err != nil {
		return f, false
	}
	for j := 0; j < 3; j++ {
		f.PerPE[j], f.PerEdge[j] = beta.At(0, j), beta.At(1, j)
	}
	for _, p := range pts {
		est := [3]float64{}
		est[0], est[1], est[2] = f.Estimate(p.Params["R"], p.Params["C"])
		for j, v := range []float64{p.LUT, p.FF, p.DSP} {
			if v > 0 {
				f.MaxFitErrPercent = math.Max(f.MaxFitErrPercent, 100*math.Abs(est[j]-v)/v)
			}
		}
	}
	return f, true
}

// ArrayCheck is one held-out size: yosys and the fit's estimate.
type ArrayCheck struct {
	Size       ArraySize
	Yosys, Fit [3]float64 // LUT, FF, DSP
	ErrPercent [3]float64
}

// CheckArrayFits compares every ArrayCheckSizes row with its family's fit.
func CheckArrayFits() ([]ArrayCheck, error) {
	var out []ArrayCheck
	for _, a := range ArrayCheckSizes {
		row, ok := arrayRow(a)
		if !ok {
			return nil, fmt.Errorf("rtl_resources.csv has no %s row for R=%d C=%d M=%d W=%d (make rtl-synth)", ArrayUnit, a.R, a.C, a.M, a.W)
		}
		f, ok := FitArray(a.M, a.W)
		if !ok {
			return nil, fmt.Errorf("no fit for M=%d W=%d", a.M, a.W)
		}
		ch := ArrayCheck{Size: a, Yosys: [3]float64{row.LUT, row.FF, row.DSP}}
		ch.Fit[0], ch.Fit[1], ch.Fit[2] = f.Estimate(a.R, a.C)
		for j := range ch.Fit {
			ch.ErrPercent[j] = 100 * (ch.Fit[j] - ch.Yosys[j]) / ch.Yosys[j]
		}
		out = append(out, ch)
	}
	return out, nil
}
