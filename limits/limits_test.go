package limits

import (
	"os"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads"
)

func TestFoldsCalibration(t *testing.T) {
	if os.Getenv("LIMITS_CAL") == "" {
		t.Skip("LIMITS_CAL=1 prints fold counts")
	}
	cfg, _ := configs.Load("systolic-32x32", nil)
	for _, c := range []struct {
		m   string
		seq int
	}{{"resnet18", 0}, {"bert-base", 0}, {"bert-base", 100000}, {"resnet50", 0}} {
		mod, _ := workloads.Lookup(c.m)
		w, _ := mod.Build(workloads.Params{SeqLen: c.seq})
		n, err := Folds(cfg, w)
		t.Logf("%s seq %d: %g folds, %v", c.m, c.seq, n, err)
	}
}

// A refusal is one user-error line naming the size, the limit and the
// flag; the same work under a raised limit passes.
func TestCheckNamesTheFlag(t *testing.T) {
	cfg, _ := configs.Load("systolic-32x32", nil)
	w := workloads.Workload{Name: "big", Layers: []workloads.Layer{workloads.GEMM("l", 1<<20, 1<<20, 1<<20)}}
	err := CheckRun(cfg, w, 0)
	if err == nil || !usererr.Is(err) || !strings.Contains(err.Error(), "--max-work") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("%v", err)
	}
	n, _ := Folds(cfg, w)
	if err := CheckRun(cfg, w, int64(n)); err != nil {
		t.Errorf("raised to the size: %v", err)
	}
	spat, _ := configs.Load("spatten", nil)
	// (--seq past the position embeddings is refused before any limit.)
	if err := CheckKernels(spat, "bert-base", workloads.Params{SeqLen: 512}, 1000); err == nil || !strings.Contains(err.Error(), "--max-kernel-macs") {
		t.Errorf("kernels: %v", err)
	}
	if err := CheckKernels(spat, "gpt2-small", workloads.Params{}, 0); err != nil {
		t.Errorf("the default GPT-2 workload is refused: %v", err)
	}
}
