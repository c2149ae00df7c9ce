package catalog

import (
	"math"
	"testing"
)

// Validation against yosys: the fit made from 4×4, 8×8 and 16×16 arrays
// estimates arrays it has not seen (12×12, 6×10) within 15% on LUT, FF and
// DSP, each family (W, M) on its own.
func TestArrayFitHeldOutWithin15Percent(t *testing.T) {
	checks, err := CheckArrayFits()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		for j, name := range []string{"LUT", "FF", "DSP"} {
			if math.Abs(c.ErrPercent[j]) > 15 {
				t.Errorf("%+v %s: fit %.0f, yosys %.0f (%.1f%%)", c.Size, name, c.Fit[j], c.Yosys[j], c.ErrPercent[j])
			}
		}
		t.Logf("%dx%d M=%d W=%d: LUT %+.1f%% FF %+.1f%% DSP %+.1f%%", c.Size.R, c.Size.C, c.Size.M, c.Size.W,
			c.ErrPercent[0], c.ErrPercent[1], c.ErrPercent[2])
	}
}

func TestArrayFitFamilies(t *testing.T) {
	for _, fam := range [][2]int{{1, 8}, {4, 8}, {8, 8}, {1, 16}, {8, 16}} {
		f, ok := FitArray(fam[0], fam[1])
		if !ok || f.Points != 3 {
			t.Errorf("M=%d W=%d: no three-point fit (%+v)", fam[0], fam[1], f)
		}
	}
	for _, m := range []int{1, 4, 8} {
		f, ok := FitArrayWB(m, 8, 2)
		one, _ := FitArray(m, 8)
		if !ok || f.Points != 3 {
			t.Errorf("M=%d W=8 WB=2: no three-point fit (%+v)", m, f)
		} else if f.PerPE[0] <= one.PerPE[0] || f.PerPE[1] <= one.PerPE[1] {
			t.Errorf("M=%d W=8: the shadow-weight PE (%.1f LUT, %.1f FF) is not dearer than the single one (%.1f, %.1f)",
				m, f.PerPE[0], f.PerPE[1], one.PerPE[0], one.PerPE[1])
		}
	}
	if _, ok := FitArray(16, 8); ok {
		t.Error("a fit for a window never synthesised")
	}
}
