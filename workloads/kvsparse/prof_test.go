package kvsparse

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

func TestKernelTimeScratch(t *testing.T) {
	if os.Getenv("KVPROF") == "" {
		t.Skip()
	}
	cfg, err0 := configs.Load("llm-128x128", append([]string{"kv_sparsity.method=" + os.Getenv("KVPROF")}, strings.Fields(os.Getenv("KVSETS"))...))
	if err0 != nil {
		t.Fatal(err0)
	}
	m, _ := llm.Lookup("llama-3.1-8b")
	st := time.Now()
	pl, err := NewPlan(cfg, m, 32768, 1024)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %.2f s, quality %+v", cfg.KVSparsity.Method, time.Since(st).Seconds(), pl.Quality())
}

func TestHISADebugScratch(t *testing.T) {
	if os.Getenv("KVPROF") == "" {
		t.Skip()
	}
	cfg, _ := configs.Load("llm-128x128", []string{"kv_sparsity.method=hisa"})
	m, _ := llm.Lookup("llama-3.1-8b")
	pl, _ := NewPlan(cfg, m, 32768, 1024)
	for _, s := range pl.Samples {
		if s.Head != pl.Heads[0] {
			continue
		}
		h := NewHead(DefaultSynth, 1, s.Layer, s.Head, 128, 64)
		_ = h
		t.Logf("layer %d step %d ctx %d IoU %.3f recall %.3f blocks %d", s.Layer, s.Step, s.Context, s.IoU, s.Quality.MassRecall, s.Sel.Blocks)
	}
}
