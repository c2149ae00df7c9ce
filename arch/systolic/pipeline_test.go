package systolic

import (
	"fmt"
	"testing"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
)

func gemmRun(t *testing.T, m, n, k int, sets ...string) (*configs.Config, int64, int64, []int64) {
	t.Helper()
	cfg, err := configs.Load("llm-128x128", append([]string{"dram.model=ideal", "mapping.search=rowmajor"}, sets...))
	if err != nil {
		t.Fatal(err)
	}
	w := workloads.Workload{Name: "g", Layers: []workloads.Layer{workloads.GEMM("g", m, n, k)}}
	r, err := Simulate(cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	l := r.Layers[0]
	var unitMACs []int64
	for _, u := range l.Units {
		unitMACs = append(unitMACs, u.MACs)
	}
	return cfg, l.Elapsed, l.MACs, unitMACs
}

// TestShadowWeightsReachTheArrayLoadBound: a decode GEMV (M = 1) with
// every operand on chip is bound by loading weights, R cycles a fold
// through the array's edge. One weight register costs SCALE-Sim's
// 2R + C + t − 2 a fold; a shadow register brings the fold to R, within
// one fold's fill and drain of folds × R.
func TestShadowWeightsReachTheArrayLoadBound(t *testing.T) {
	const n, k = 2048, 2048
	folds := int64(n/128) * int64(k/128)
	_, single, _, _ := gemmRun(t, 1, n, k)
	if want := folds * (2*128 + 128 + 1 - 2); single != want {
		t.Errorf("one weight register: %d cycles, want folds × (2R + C + t − 2) = %d", single, want)
	}
	_, shadow, _, _ := gemmRun(t, 1, n, k, "pe_array.weight_buffers=2")
	bound := folds * 128
	if shadow < bound || shadow > bound+2*128+128 {
		t.Errorf("shadow register: %d cycles, want between folds × R = %d and that plus one fold's preload, fill and drain", shadow, bound)
	}
}

// TestUnitsSplitTheFolds: four units share a GEMM's folds: each does a
// quarter of the MACs, the layer's MACs are their sum, and the time is a
// quarter of one unit's within a fold's preload and drain.
func TestUnitsSplitTheFolds(t *testing.T) {
	for _, shape := range [][3]int{{1, 2048, 2048}, {64, 1024, 512}, {300, 384, 256}} {
		m, n, k := shape[0], shape[1], shape[2]
		what := fmt.Sprintf("GEMM %dx%dx%d", m, n, k)
		_, one, macs, _ := gemmRun(t, m, n, k, "pe_array.weight_buffers=2")
		_, four, macs4, units := gemmRun(t, m, n, k, "pe_array.weight_buffers=2", "pe_array.units=4")
		if macs4 != macs || len(units) != 4 {
			t.Fatalf("%s: %d MACs on %d units, want %d on 4", what, macs4, len(units), macs)
		}
		var sum int64
		for _, u := range units {
			sum += u
		}
		if sum != macs {
			t.Errorf("%s: units did %d MACs, the layer %d", what, sum, macs)
		}
		slack := int64(2*128 + 128 + m)
		if four < one/4 || four > one/4+slack {
			t.Errorf("%s: four units %d cycles, one unit %d: want a quarter within %d", what, four, one, slack)
		}
	}
}
