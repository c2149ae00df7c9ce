package compare

import (
	"testing"

	"github.com/sparsesim/sparsesim/arch/systolic"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

func cfg(t *testing.T, name string, sets ...string) *configs.Config {
	t.Helper()
	c, err := configs.Load(name, sets)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var opt = Options{Runs: 1, CPUWatts: DefaultCPUWatts, Seed: 3}

// Dense and N:M GEMMs in every dataflow match the CPU kernels bit for bit
// (int8), and an fp16 array stays within its stated tolerance.
func TestGEMMMatches(t *testing.T) {
	x, w := RandomInts(70, 90, 1, 127), RandomInts(90, 50, 2, 127)
	for _, df := range []string{"os", "ws", "is"} {
		for _, p := range []nm.Pattern{{}, {N: 2, M: 4}, {N: 1, M: 8}} {
			c := cfg(t, "systolic-32x32", "dataflow="+df, "sparsity.nm="+p.String())
			r, err := GEMM(c, x, w, p, opt)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Match || r.MaxAbsError != 0 || !r.Exact {
				t.Errorf("%s %s: %+v", df, p, r)
			}
			if r.SimCycles <= 0 || r.Speedup <= 0 || r.EnergyRatio <= 0 {
				t.Errorf("%s %s: no timing or energy: %+v", df, p, r)
			}
		}
	}
	r, err := GEMM(cfg(t, "systolic-32x32", "pe_array.dtype=fp16"), x, w, nm.Pattern{}, opt)
	if err != nil || !r.Match || r.Exact {
		t.Errorf("fp16: %+v %v", r, err)
	}
	if _, err := GEMM(cfg(t, "systolic-32x32"), RandomInts(4, 4, 1, 300), RandomInts(4, 4, 2, 3), nm.Pattern{}, opt); err == nil {
		t.Error("int8 array accepted activations of ±300")
	}
}

// A planted datapath bug (the N:M mux selecting the next activation) is
// reported as a mismatch.
func TestPlantedBugIsCaught(t *testing.T) {
	systolic.FunctionalFault = "nm-index"
	defer func() { systolic.FunctionalFault = "" }()
	p := nm.Pattern{N: 2, M: 4}
	r, err := GEMM(cfg(t, "systolic-32x32", "sparsity.nm=2:4"), RandomInts(40, 64, 1, 127), RandomInts(64, 40, 2, 127), p, opt)
	if err != nil {
		t.Fatal(err)
	}
	if r.Match || r.MaxAbsError == 0 {
		t.Errorf("the planted bug went unnoticed: %+v", r)
	}
}

// A pruned attention head: identical refetch decisions and top-k
// selections, and outputs within 1e-9.
func TestPrunedAttentionMatches(t *testing.T) {
	c := DefaultAttention
	c.Tokens, c.Queries = 256, 48
	c.Tau = 0.2 // a threshold some rows fall under
	r, err := Attention(cfg(t, "spatten"), c, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Match {
		t.Fatalf("%+v", r)
	}
	if r.SimCycles <= 0 {
		t.Error("no timing")
	}
}
