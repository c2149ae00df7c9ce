package rtl

import (
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"

	"github.com/sparsesim/sparsesim/workloads/nm"
)

// cosimPatterns are the weight patterns the array is checked with.
var cosimPatterns = []nm.Pattern{{}, {N: 2, M: 4}, {N: 1, M: 4}, {N: 2, M: 8}}

// randomCosimShapes draws n shapes per pattern: arrays 1..maxArr on a side
// (or one of arrays when given), GEMMs with odd sizes, partial folds in
// both directions and K not a multiple of M. Sizes stay within the benches'
// smallest memory depth (1024 words) so builds are shared.
func randomCosimShapes(seed int64, n, maxArr int, arrays [][2]int) []CosimSpec {
	rng := rand.New(rand.NewSource(seed))
	var out []CosimSpec
	for _, p := range cosimPatterns {
		for i := 0; i < n; i++ {
			s := CosimSpec{Pattern: p, Seed: rng.Int63n(1000)}
			if arrays != nil {
				a := arrays[rng.Intn(len(arrays))]
				s.Rows, s.Cols = a[0], a[1]
			} else {
				s.Rows, s.Cols = 1+rng.Intn(maxArr), 1+rng.Intn(maxArr)
			}
			s.M, s.N, s.K = 1+rng.Intn(24), 1+rng.Intn(3*s.Cols+2), 1+rng.Intn(40)
			if !p.Dense() && i%2 == 0 {
				s.K = p.M*(1+rng.Intn(4)) + 1 + rng.Intn(p.M-1) // a partial last group
			}
			out = append(out, s)
		}
	}
	return out
}

func (s CosimSpec) String() string {
	return fmt.Sprintf("%dx%d %s %dx%dx%d seed %d", s.Rows, s.Cols, s.Pattern, s.M, s.N, s.K, s.Seed)
}

// runCosims runs every spec under sim, two at a time, and asserts the RTL's
// cycles equal the simulator's ideal-DRAM compute cycles and the outputs
// equal the Go kernels'.
func runCosims(t *testing.T, specs []CosimSpec, sim string) {
	t.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for _, s := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r, err := Cosim(s, sim)
			if err != nil {
				t.Errorf("%s %v: %v", sim, s, err)
				return
			}
			if !r.CyclesMatch || r.RTLCycles != r.ScheduleCycles || r.ModelCycles != r.ModelElapsed {
				t.Errorf("%s %v: rtl %d cycles, model %d (elapsed %d), schedule %d", sim, s, r.RTLCycles, r.ModelCycles, r.ModelElapsed, r.ScheduleCycles)
			}
			if !r.OutputsMatch {
				t.Errorf("%s %v: %d outputs differ, max |error| %d", sim, s, r.Mismatches, r.MaxAbsError)
			}
		}()
	}
	wg.Wait()
}

// The Verilog array's cycles equal the simulator's ideal-DRAM cycles and
// its outputs equal nm.SparseGEMM / nm.DenseGEMMRef bit for bit, on random
// shapes with dense, 2:4, 1:4 and 2:8 weights. A bounded set in iverilog
// and one verilator run by default; with -rtl.full (make rtl-test) 12
// shapes per pattern (48) on random arrays in iverilog and the same 48 in
// verilator on three array sizes (one build each, cached).
func TestRTLArrayCosim(t *testing.T) {
	if !Available("iverilog") && !Available("verilator") {
		t.Skip("SKIPPED: no Verilog simulator installed; .ci/run installs iverilog and verilator")
	}
	n := 2
	if *full {
		n = 12
	}
	if Available("iverilog") {
		runCosims(t, randomCosimShapes(19, n, 8, nil), "iverilog")
	} else {
		t.Log("SKIPPED iverilog: not installed")
	}
	if !Available("verilator") {
		t.Log("SKIPPED verilator: not installed")
		return
	}
	if *full {
		runCosims(t, randomCosimShapes(20, n, 0, [][2]int{{3, 5}, {4, 4}, {7, 2}}), "verilator")
		return
	}
	runCosims(t, []CosimSpec{{Rows: 4, Cols: 4, Pattern: nm.Pattern{N: 2, M: 8}, M: 9, N: 11, K: 21, Seed: 3}}, "verilator")
}

// A wrong weight in the image is caught: the comparison can fail.
func TestRTLArrayCosimDetectsWrongData(t *testing.T) {
	if !Available("iverilog") {
		t.Skip("SKIPPED: iverilog not installed")
	}
	s := CosimSpec{Rows: 3, Cols: 2, Pattern: nm.Pattern{N: 2, M: 4}, M: 4, N: 3, K: 10, Seed: 5}
	r, err := cosim(s, "iverilog", func(im *Images) {
		lines := strings.SplitAfter(im.Weights, "\n")
		last := lines[len(lines)-2] // the first fold's row 0, column 0 holds a real weight
		b := []byte(last)
		b[len(b)-2] ^= 0x4 // flip a value bit
		lines[len(lines)-2] = string(b)
		im.Weights = strings.Join(lines, "")
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.OutputsMatch || r.MaxAbsError == 0 {
		t.Fatalf("a corrupted weight went unnoticed: %+v", r)
	}
	if !r.CyclesMatch {
		t.Fatalf("data should not change the cycles: %+v", r)
	}
}

func TestCosimSpecRefusesTooBig(t *testing.T) {
	for _, s := range []CosimSpec{
		{Rows: 65, Cols: 4, M: 1, N: 1, K: 1},
		{Rows: 4, Cols: 4, M: 1, N: 1, K: MaxCosimK + 1},
		{Rows: 4, Cols: 4, M: 1 << 12, N: 1 << 11, K: 4},
		{Rows: 1, Cols: 1, M: 1, N: 1000, K: 1000},
		{Rows: 4, Cols: 4, Pattern: nm.Pattern{N: 2, M: 32}, M: 1, N: 1, K: 64},
	} {
		if err := s.Check(); err == nil {
			t.Errorf("%v: accepted", s)
		}
	}
}

// `rtl cosim` of an 8×8 2:4 array on a 64×64×64 GEMM, verilator build
// included (a fresh cache each iteration): the bound is 30 s.
func BenchmarkRTLCosim8x8GEMM64(b *testing.B) {
	if !Available("verilator") {
		b.Skip("SKIPPED: verilator not installed")
	}
	for i := 0; i < b.N; i++ {
		b.Setenv("SPARSESIM_RTL_CACHE", b.TempDir())
		r, err := Cosim(CosimSpec{Rows: 8, Cols: 8, Pattern: nm.Pattern{N: 2, M: 4}, M: 64, N: 64, K: 64, Seed: 1}, "verilator")
		if err != nil || !r.CyclesMatch || !r.OutputsMatch {
			b.Fatalf("%+v %v", r, err)
		}
	}
}
