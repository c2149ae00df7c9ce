package catalog

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// ArraySize is one whole-array synthesis point of rtl/src/sa_array.v: an
// R×C weight-stationary array of W-bit PEs selecting from an activation
// window of M words (M = 1 is the dense array), with WB weight buffers per
// PE: 1 (0 reads as 1) or 2, the shadow-weight PE (docs/rtl.md).
type ArraySize struct{ R, C, M, W, WB int }

// wb is WB with 0 read as 1.
func (a ArraySize) wb() int { return max(1, a.WB) }

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
// square sizes per family of W, M and WB); ArrayCheckSizes are synthesised too
// but kept out of the fit, to measure its error on sizes it has not seen.
var (
	ArrayFitSizes = []ArraySize{
		{4, 4, 1, 8, 1}, {8, 8, 1, 8, 1}, {16, 16, 1, 8, 1},
		{4, 4, 4, 8, 1}, {8, 8, 4, 8, 1}, {16, 16, 4, 8, 1},
		{4, 4, 8, 8, 1}, {8, 8, 8, 8, 1}, {16, 16, 8, 8, 1},
		{4, 4, 1, 16, 1}, {8, 8, 1, 16, 1}, {16, 16, 1, 16, 1},
		{4, 4, 8, 16, 1}, {8, 8, 8, 16, 1}, {16, 16, 8, 16, 1},
		// Shadow-weight arrays (WB = 2: a second weight bank and the bank
		// bit), the int8 families: pe_array.weight_buffers = 2 reads them.
		{4, 4, 1, 8, 2}, {8, 8, 1, 8, 2}, {16, 16, 1, 8, 2},
		{4, 4, 4, 8, 2}, {8, 8, 4, 8, 2}, {16, 16, 4, 8, 2},
		{4, 4, 8, 8, 2}, {8, 8, 8, 8, 2}, {16, 16, 8, 8, 2},
	}
	ArrayCheckSizes = []ArraySize{{12, 12, 1, 8, 1}, {12, 12, 4, 8, 1}, {12, 12, 8, 8, 1}, {6, 10, 8, 8, 1}, {12, 12, 8, 16, 1},
		{12, 12, 1, 8, 2}, {12, 12, 4, 8, 2}}
)

// ArrayFit is the least-squares fit of one family (W, M) of synthesised
// arrays: resource = PerPE·R·C + PerEdge·(R+C). PerPE holds everything each
// PE has (weight, index, window and partial-sum registers, the M:1 select,
// the multiplier and adder); PerEdge absorbs the skew lines and the
// pass-through registers the last column drops, which grow with the sides.
type ArrayFit struct {
	M, W, WB         int
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

// FindArray finds the yosys row of one array size. Single-register rows
// carry no WB parameter (they predate it), shadow-weight rows carry WB=2,
// so the match on WB is exact rather than FindSynth's subset match.
func FindArray(a ArraySize) (SynthCost, bool) {
	for _, c := range SynthCosts() {
		p := c.Params
		if c.Unit == ArrayUnit && p["R"] == a.R && p["C"] == a.C && p["M"] == a.M && p["W"] == a.W && max(1, p["WB"]) == a.wb() {
			return c, true
		}
	}
	return SynthCost{}, false
}

func arrayRow(a ArraySize) (SynthCost, bool) { return FindArray(a) }

// FitArray fits family (w, m) of single-register arrays (FitArrayWB with
// one weight buffer).
func FitArray(m, w int) (ArrayFit, bool) { return FitArrayWB(m, w, 1) }

// FitArrayWB fits family (w, m) with wb weight buffers per PE from the
// ArrayFitSizes rows of the resource table; ok is false when the table has
// fewer than two of them.
func FitArrayWB(m, w, wb int) (ArrayFit, bool) {
	f := ArrayFit{M: m, W: w, WB: max(1, wb)}
	var pts []SynthCost
	for _, a := range ArrayFitSizes {
		if a.M != m || a.W != w || a.wb() != f.WB {
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
			return nil, fmt.Errorf("rtl_resources.csv has no %s row for R=%d C=%d M=%d W=%d WB=%d (make rtl-synth)", ArrayUnit, a.R, a.C, a.M, a.W, a.wb())
		}
		f, ok := FitArrayWB(a.M, a.W, a.wb())
		if !ok {
			return nil, fmt.Errorf("no fit for M=%d W=%d WB=%d", a.M, a.W, a.wb())
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
