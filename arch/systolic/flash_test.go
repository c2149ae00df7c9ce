package systolic

import (
	"testing"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
)

// TestFlashTiling: tiles fit the buffers as flashFits counts them, grow
// the KV block only once every query fits, and fall back (false) when not
// even one query against one key does.
func TestFlashTiling(t *testing.T) {
	cfg, err := configs.Load("llm-128x128", nil)
	if err != nil {
		t.Fatal(err)
	}
	prefill := workloads.Layer{Kind: workloads.KindAttnFused, M: 4 * 8192, N: 8192, K: 128, Groups: 8}
	tl, ok := FlashTiling(cfg, prefill)
	// 4 MB ofmap: queries × (2 score tiles of 128 + 128 outputs + 2 stats) × 4 B.
	if !ok || tl.Keys != 128 || tl.Queries%128 != 0 || tl.Queries*(2*128+128+2)*4 > 4096*1024 {
		t.Errorf("prefill tile %+v (ok %v): want 128 keys and whole row folds of queries that fit the ofmap buffer", tl, ok)
	}
	decode := workloads.Layer{Kind: workloads.KindAttnFused, M: 4, N: 5000, K: 128, Groups: 8}
	if tl, ok := FlashTiling(cfg, decode); !ok || tl.Queries != 4 || tl.Keys <= 128 || 2*2*tl.Keys*128*2 > 4096*1024 {
		t.Errorf("decode tile %+v (ok %v): want every query and a KV block past the array's width that fits the filter buffer", tl, ok)
	}
	small, err := configs.Load("llm-128x128", []string{"buffers.ofmap_kb=0.25"})
	if err != nil {
		t.Fatal(err)
	}
	if tl, ok := FlashTiling(small, decode); ok {
		t.Errorf("256 B ofmap buffer: tile %+v, want no fused tile (one query's output alone is 512 B)", tl)
	}
}
