package arch

import (
	"math"
	"testing"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
)

func idealCfg(t *testing.T, df string) *configs.Config {
	t.Helper()
	c, err := configs.Load("scalesim-32x32", []string{"dataflow=" + df})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Source: shared/reference/README.md, SCALE-Sim section: GEMM 128×64×256 on
// 32×32 gives os 2543 (80.53%), ws 3551 (57.67%), is 5055 (40.51%).
func TestScaleSimGoldenGEMM(t *testing.T) {
	for _, tc := range []struct {
		df     string
		cycles int64
		util   float64
	}{{"os", 2543, 80.53}, {"ws", 3551, 57.67}, {"is", 5055, 40.51}} {
		r, err := Simulate(idealCfg(t, tc.df), workloads.Workload{Layers: []workloads.Layer{workloads.GEMM("g", 128, 64, 256)}})
		if err != nil {
			t.Fatal(err)
		}
		l := r.Layers[0]
		if l.Cycles() != tc.cycles || l.StallCycles() != 0 {
			t.Errorf("%s: cycles %d stalls %d, want %d and 0", tc.df, l.Cycles(), l.StallCycles(), tc.cycles)
		}
		u := 100 * float64(l.MACs) / float64(l.Cycles()*32*32)
		if math.Abs(u-tc.util) > 0.005 {
			t.Errorf("%s: utilisation %.4f%%, want %.2f%%", tc.df, u, tc.util)
		}
	}
}
