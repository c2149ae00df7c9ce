package rtl

import (
	"math/rand"
	"sync"
	"testing"

	"github.com/sparsesim/sparsesim/workloads/nm"
)

// The contract's closed forms: one fold costs what it costs with one
// weight register; with t = 1 and R ≥ C−1 every further fold costs R
// cycles (the weight port is the bottleneck: R·C weights per R cycles);
// with t ≥ R + max(C−2, 0) the stream is the bottleneck (the preload and
// the bank's wait hide behind it) and every further fold costs t.
func TestShadowScheduleCyclesClosedForms(t *testing.T) {
	for r := 1; r <= 9; r++ {
		for c := 1; c <= 9; c++ {
			for steps := 1; steps <= 12; steps++ {
				if got, want := ShadowScheduleCycles(r, c, []int{steps}), int64(2*r+c+steps-2); got != want {
					t.Fatalf("R=%d C=%d t=%d one fold: %d, want %d", r, c, steps, got, want)
				}
			}
			for f := 2; f <= 12; f++ {
				ones := make([]int, f)
				for i := range ones {
					ones[i] = 1
				}
				got := ShadowScheduleCycles(r, c, ones)
				if r >= c-1 {
					if want := int64(2*r+c-1) + int64(f-1)*int64(r); got != want {
						t.Fatalf("R=%d C=%d t=1 F=%d: %d, want %d (R a fold)", r, c, f, got, want)
					}
				}
				// Never slower than one weight register, which pays
				// 2R+C+t−2 for every fold.
				if single := int64(f) * int64(2*r+c-1); got > single {
					t.Fatalf("R=%d C=%d t=1 F=%d: %d cycles, more than the single buffer's %d", r, c, f, got, single)
				}
			}
			// The shortest stream that hides the rest: each further fold
			// costs t.
			steps := r + max(c-2, 0)
			long := []int{steps, steps, steps, steps, steps}
			if got, want := ShadowScheduleCycles(r, c, long), int64(2*r+c+steps-2)+4*int64(steps); got != want {
				t.Fatalf("R=%d C=%d t=%d F=5: %d, want %d (t a fold)", r, c, steps, got, want)
			}
		}
	}
	if ShadowScheduleCycles(4, 4, nil) != 0 {
		t.Fatal("no folds should take no cycles")
	}
}

// shadowPatterns are the weight patterns the shadow-weight array is
// checked with.
var shadowPatterns = []nm.Pattern{{}, {N: 2, M: 4}, {N: 1, M: 8}}

// shadowFixedShapes are the shapes the shadow-weight array must get right
// whatever the random draw: odd sizes, GEMVs (t = 1), t = 2, many folds,
// and the arrays where the bank-free term binds (C large against R) or the
// controller's C = 1 bypass and single-row corner cases matter.
func shadowFixedShapes() []CosimSpec {
	shapes := []struct{ r, c, m, n, k int }{
		{4, 4, 3, 5, 7}, {8, 4, 13, 9, 33}, {4, 4, 1, 23, 37}, {8, 4, 1, 9, 33}, {4, 4, 2, 13, 21},
		{2, 6, 1, 20, 4}, {3, 5, 1, 13, 7}, {2, 7, 2, 22, 9}, {1, 1, 1, 5, 3}, {1, 1, 2, 4, 5},
		{1, 4, 1, 9, 5}, {4, 1, 3, 4, 13}, {1, 3, 3, 7, 2}, {5, 2, 1, 7, 23},
	}
	var out []CosimSpec
	for i, p := range shadowPatterns {
		for j, s := range shapes {
			out = append(out, CosimSpec{Rows: s.r, Cols: s.c, Pattern: p, M: s.m, N: s.n, K: s.k, Seed: int64(7*i + j), WeightBuffers: 2})
		}
	}
	return out
}

// randomShadowShapes draws n shapes per pattern on arrays up to maxArr a
// side, biased to short streams (t = 1..3 half the time), where the
// shadow weights change the timing most.
func randomShadowShapes(seed int64, n, maxArr int) []CosimSpec {
	rng := rand.New(rand.NewSource(seed))
	var out []CosimSpec
	for _, p := range shadowPatterns {
		for i := 0; i < n; i++ {
			s := CosimSpec{Pattern: p, Seed: rng.Int63n(1000), WeightBuffers: 2,
				Rows: 1 + rng.Intn(maxArr), Cols: 1 + rng.Intn(maxArr)}
			s.M, s.N, s.K = 1+rng.Intn(20), 1+rng.Intn(3*s.Cols+2), 1+rng.Intn(40)
			if i%2 == 0 {
				s.M = 1 + rng.Intn(3)
			}
			out = append(out, s)
		}
	}
	return out
}

// runShadowCosims runs every spec under sim, two at a time, and asserts the
// RTL's cycles equal ShadowScheduleCycles and its outputs the Go kernels'.
// The model's cycles are not asserted here (TestRTLShadowModelCycles).
func runShadowCosims(t *testing.T, specs []CosimSpec, sim string) {
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
				t.Errorf("%s %v WB=2: %v", sim, s, err)
				return
			}
			if r.WeightBuffers != 2 || r.RTLCycles != r.ScheduleCycles {
				t.Errorf("%s %v WB=%d: rtl %d cycles, ShadowScheduleCycles %d", sim, s, r.WeightBuffers, r.RTLCycles, r.ScheduleCycles)
			}
			if !r.OutputsMatch {
				t.Errorf("%s %v WB=2: %d outputs differ, max |error| %d", sim, s, r.Mismatches, r.MaxAbsError)
			}
		}()
	}
	wg.Wait()
}

// The shadow-weight array's cycles equal rtl.ShadowScheduleCycles exactly
// and its outputs equal the Go kernels' bit for bit, in iverilog on the
// fixed shapes and random ones, in verilator on the fixed shapes of the
// 4×4 array (three patterns) and the 1×1 array by default (each array size
// and pattern is one verilator build) and on all of them with -rtl.full.
func TestRTLShadowArrayCosim(t *testing.T) {
	if !Available("iverilog") && !Available("verilator") {
		t.Skip("SKIPPED: no Verilog simulator installed; .ci/run installs iverilog and verilator")
	}
	fixed := shadowFixedShapes()
	n := 3
	if *full {
		n = 12
	}
	if Available("iverilog") {
		runShadowCosims(t, append(fixed, randomShadowShapes(23, n, 8)...), "iverilog")
	} else {
		t.Log("SKIPPED iverilog: not installed")
	}
	if !Available("verilator") {
		t.Log("SKIPPED verilator: not installed")
		return
	}
	if *full {
		runShadowCosims(t, fixed, "verilator")
		return
	}
	var some []CosimSpec
	for _, s := range fixed {
		square := s.Rows == 4 && s.Cols == 4
		if square || (s.Rows == 1 && s.Cols == 1 && s.Pattern.Dense()) {
			some = append(some, s)
		}
	}
	runShadowCosims(t, some, "verilator")
}

// One weight buffer still runs the old controller: the same cycles as the
// simulator and Σ dataflow.FoldCycles, on shapes where two buffers differ.
func TestRTLSingleBufferUnchanged(t *testing.T) {
	if !Available("iverilog") {
		t.Skip("SKIPPED: iverilog not installed")
	}
	var specs []CosimSpec
	for _, s := range shadowFixedShapes()[:5] {
		s.WeightBuffers = 1
		specs = append(specs, s)
	}
	runCosims(t, specs, "iverilog")
}

// The simulator's model of weight_buffers = 2 (mapping.FoldPipeline in
// arch/systolic's controller) gives the RTL's cycles, dense and N:M.
func TestRTLShadowModelCycles(t *testing.T) {
	sim := "iverilog"
	if !Available(sim) {
		if sim = "verilator"; !Available(sim) {
			t.Skip("SKIPPED: no Verilog simulator installed")
		}
	}
	specs := []CosimSpec{
		{Rows: 4, Cols: 4, M: 3, N: 5, K: 7, Seed: 1},
		{Rows: 8, Cols: 4, M: 13, N: 9, K: 33, Seed: 2},
		{Rows: 4, Cols: 4, Pattern: nm.Pattern{N: 2, M: 4}, M: 1, N: 23, K: 37, Seed: 3},
		{Rows: 2, Cols: 6, Pattern: nm.Pattern{N: 1, M: 8}, M: 2, N: 20, K: 9, Seed: 4},
	}
	for _, s := range specs {
		s.WeightBuffers = 2
		r, err := Cosim(s, sim)
		if err != nil {
			t.Fatal(err)
		}
		if !r.CyclesMatch || !r.OutputsMatch {
			t.Errorf("%v WB=2: rtl %d cycles, model %d, shadow schedule %d, outputs match %v", s, r.RTLCycles, r.ModelCycles, r.ScheduleCycles, r.OutputsMatch)
		}
	}
}

// TestShadowModelMatchesContractRandom: on random shapes the simulator's
// weight_buffers = 2 cycles equal the contract the RTL meets
// (ShadowScheduleCycles over BuildImages' folds), no HDL needed.
func TestShadowModelMatchesContractRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(26))
	for i := 0; i < 40; i++ {
		s := CosimSpec{Rows: 1 + rng.Intn(12), Cols: 1 + rng.Intn(12), M: 1 + rng.Intn(20), N: 1 + rng.Intn(40), K: 1 + rng.Intn(60),
			Seed: int64(i), WeightBuffers: 2}
		if i%3 == 1 {
			s.Pattern = nm.Pattern{N: 2, M: 4}
		}
		im, err := BuildImages(s)
		if err != nil {
			t.Fatal(err)
		}
		model, _, err := ModelCycles(s)
		if err != nil {
			t.Fatal(err)
		}
		if model != im.ScheduleCycles {
			t.Errorf("%+v: model %d cycles, contract %d", s, model, im.ScheduleCycles)
		}
	}
}
