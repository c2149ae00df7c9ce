package systolic

import (
	"math"
	"testing"

	"github.com/sparsesim/sparsesim/arch"
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

// SCALE-Sim's model (shared/reference/README.md) applied by hand to
// ResNet-18 Conv1 from shared/reference/scalesim/Resnet18.csv
// (224×224 input, 7×7 filter, 3 channels, 64 filters, stride 2):
// OH = OW = ceil((224−7+2)/2) = 110, so M = 12100, K = 147, N = 64.
//
//	os: ceil(12100/32)·ceil(64/32) = 758 folds × (147+32+32−2 = 209) − 1 = 158421
//	ws: ceil(147/32)·ceil(64/32)   =  10 folds × (64+32+12100−2 = 12194) − 1 = 121939
//	is: ceil(147/32)·ceil(12100/32) = 1895 folds × (64+32+64−2 = 158) − 1 = 299409
func TestScaleSimGoldenConv(t *testing.T) {
	l, err := workloads.ConvSpec{Name: "Conv1", IfmapH: 224, IfmapW: 224, FilterH: 7, FilterW: 7,
		Channels: 3, Filters: 64, Stride: 2}.Lower()
	if err != nil {
		t.Fatal(err)
	}
	if l.M != 12100 || l.K != 147 || l.N != 64 {
		t.Fatalf("lowered to %d×%d×%d, want 12100×64×147", l.M, l.N, l.K)
	}
	for df, want := range map[string]int64{"os": 158421, "ws": 121939, "is": 299409} {
		r, err := Simulate(idealCfg(t, df), workloads.Workload{Layers: []workloads.Layer{l}})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Layers[0].Cycles(); got != want {
			t.Errorf("%s: %d cycles, want %d", df, got, want)
		}
	}
}

// A rectangular array and a layer smaller than the array: the skew is set by
// the full array (SCALE-Sim pads partial folds). GEMM 10×5×7 on 16 rows ×
// 8 cols, os: 1 fold × (7 + 16 + 8 − 2) − 1 = 28.
func TestPartialFoldUsesFullArraySkew(t *testing.T) {
	c := idealCfg(t, "os")
	c.PEArray.Rows, c.PEArray.Cols = 16, 8
	r, err := Simulate(c, workloads.Workload{Layers: []workloads.Layer{workloads.GEMM("g", 10, 5, 7)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Layers[0].Cycles(); got != 28 {
		t.Errorf("got %d cycles, want 28", got)
	}
	if me := r.Layers[0].MappingEfficiency; math.Abs(me-50.0/128) > 1e-12 {
		t.Errorf("mapping efficiency %g, want 50/128", me)
	}
}

// SCALE-Sim v3's layer-wise N:M mode on ws shrinks K to K·N/M
// (shared/reference/README.md): GEMM 128×64×256 on 32×32 takes dense 3551,
// 2:4 1775, 1:4 887, 1:8 443 cycles. Utilisation counts the MACs done, so
// it stays the dense figure (57.67%) instead of exceeding 100%.
func TestScaleSimV3NMGolden(t *testing.T) {
	for nmPat, want := range map[string]int64{"dense": 3551, "2:4": 1775, "1:4": 887, "1:8": 443} {
		c := idealCfg(t, "ws")
		c.Sparsity.NM = nmPat
		r, err := Simulate(c, workloads.Workload{Layers: []workloads.Layer{workloads.GEMM("g", 128, 64, 256)}})
		if err != nil {
			t.Fatal(err)
		}
		l := r.Layers[0]
		if l.Cycles() != want || l.Pattern != nmPat {
			t.Errorf("%s: %d cycles as %s, want %d", nmPat, l.Cycles(), l.Pattern, want)
		}
		if u := float64(l.MACs) / float64(l.Cycles()*32*32); u > 1 {
			t.Errorf("%s: utilisation %.3f > 1", nmPat, u)
		}
		if l.DenseMACs != 128*64*256 {
			t.Errorf("%s: dense MACs %d", nmPat, l.DenseMACs)
		}
	}
}

// N:M metadata: log2(M) bits per kept weight travel with the filter tiles;
// the filter traffic shrinks to N/M and the activations stay dense.
func TestNMTraffic(t *testing.T) {
	l := workloads.GEMM("g", 64, 32, 512) // 32 KiB of int8 weights
	run := func(p string) arch.LayerStats {
		c := idealCfg(t, "ws")
		c.Sparsity.NM = p
		c.Buffers.FilterKB, c.Buffers.IfmapKB = 1024, 1024 // everything resident: each byte fetched once
		r, err := Simulate(c, workloads.Workload{Layers: []workloads.Layer{l}})
		if err != nil {
			t.Fatal(err)
		}
		return r.Layers[0]
	}
	dense, sparse := run("dense"), run("2:8")
	act := int64(64 * 512)
	if dense.DRAMReadBytes != act+512*32 {
		t.Errorf("dense reads %d, want %d", dense.DRAMReadBytes, act+512*32)
	}
	kept := int64(512 / 8 * 2 * 32)
	meta := kept * 3 / 8
	if sparse.MetadataBytes != meta || sparse.DRAMReadBytes != act+kept+meta {
		t.Errorf("2:8 reads %d (metadata %d), want %d (metadata %d)", sparse.DRAMReadBytes, sparse.MetadataBytes, act+kept+meta, meta)
	}
	if sparse.MACs*4 != dense.MACs {
		t.Errorf("2:8 did %d MACs, dense %d", sparse.MACs, dense.MACs)
	}
}

// Input-stationary keeps a dense K position per PE row: N:M weights cannot
// shorten anything there, and the report says the layer ran dense.
func TestInputStationaryIgnoresNM(t *testing.T) {
	c := idealCfg(t, "is")
	c.Sparsity.NM = "2:4"
	r, err := Simulate(c, workloads.Workload{Layers: []workloads.Layer{workloads.GEMM("g", 128, 64, 256)}})
	if err != nil {
		t.Fatal(err)
	}
	if l := r.Layers[0]; l.Cycles() != 5055 || l.Pattern != "dense" {
		t.Errorf("is with 2:4: %d cycles as %s, want 5055 dense", l.Cycles(), l.Pattern)
	}
}
