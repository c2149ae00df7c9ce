package configs

import (
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/workloads/kvsparse"
)

// TestKVSetup: what a plan reads of llm-128x128 is the file's numbers;
// workloads/kvsparse's tests use these numbers without loading the file
// (this package imports that one).
func TestKVSetup(t *testing.T) {
	cfg, err := Load("llm-128x128", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := kvsparse.Setup{Params: kvsparse.DefaultParams(), KVBits: 16, WordBytes: 2, FilterBytes: 4096 * 1024, RequestBytes: 64}
	if got := cfg.KVSetup(); got != want {
		t.Errorf("llm-128x128: %+v, want %+v", got, want)
	}
}

// TestKVSparsityRefusals: each bad kv_sparsity value is refused with a
// message naming its key.
func TestKVSparsityRefusals(t *testing.T) {
	for _, c := range []struct{ set, key string }{
		{"kv_sparsity.method=lru", "kv_sparsity.method"},
		{"kv_sparsity.budget=0", "kv_sparsity.budget"},
		{"kv_sparsity.page_size=-1", "kv_sparsity.page_size"},
		{"kv_sparsity.sparsity=1", "kv_sparsity.sparsity"},
		{"kv_sparsity.unit=gpu", "kv_sparsity.unit"},
		{"kv_sparsity.k=0", "kv_sparsity.k"},
		{"kv_sparsity.sample_steps=0", "kv_sparsity.sample_steps"},
	} {
		_, err := Load("llm-128x128", []string{c.set})
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("--set %s: %v, want an error naming %s", c.set, err, c.key)
		}
	}
	if _, err := Load("llm-128x128", []string{"kv_sparsity.method=evict", "kv_sparsity.budget=100", "kv_sparsity.recent=200"}); err == nil || !strings.Contains(err.Error(), "sink + recent") {
		t.Errorf("evict budget below sink + recent: %v", err)
	}
	if _, err := Load("llm-128x128", []string{"kv_sparsity.method=quest", "kv_sparsity.budget=2048"}); err != nil {
		t.Errorf("a good quest config: %v", err)
	}
}

// TestFusedKey: attention.fused defaults on, off with a kv_sparsity
// method, and is refused where nothing reads it.
func TestFusedKey(t *testing.T) {
	for _, c := range []struct {
		sets  []string
		fused bool
		bad   bool
	}{{nil, true, false}, {[]string{"attention.fused=false"}, false, false},
		{[]string{"kv_sparsity.method=quest", "kv_sparsity.budget=2048"}, false, false},
		{[]string{"kv_sparsity.method=quest", "kv_sparsity.budget=2048", "attention.fused=true"}, false, true},
		{[]string{"engine=spatten", "attention.fused=false"}, false, true}} {
		cfg, err := Load("llm-128x128", c.sets)
		if (err != nil) != c.bad || (err != nil && !strings.Contains(err.Error(), "attention.fused")) {
			t.Errorf("%v: error %v, want refused %v", c.sets, err, c.bad)
			continue
		}
		if err == nil && cfg.FusedAttention() != c.fused {
			t.Errorf("%v: fused %v, want %v", c.sets, cfg.FusedAttention(), c.fused)
		}
	}
}
