package configs

import (
	"os"
	"path/filepath"
	"slices"
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

// TestKVKeysNotReadRefused: every kv_sparsity key a method does not read
// is refused when given — at its default value too, so a sweep cannot
// carry it silently — naming the key and what applies (issue 27: a sweep
// over budget on dsa gave identical rows); the keys it reads, and every
// key left unset, are accepted.
func TestKVKeysNotReadRefused(t *testing.T) {
	def := map[string]string{"budget": "2048", "page_size": "16", "channels": "8", "k": "2048", "block": "128", "block_top": "128",
		"index_heads": "64", "index_dim": "128", "index_bits": "8", "sparsity": "0.7", "sink": "4", "recent": "256", "unit": "array",
		"bitmap_decode_elems": "256", "sample_layers": "2", "sample_heads": "2", "sample_steps": "8", "seed": "1", "data": ""}
	for _, method := range KVMethods {
		if _, err := Load("llm-128x128", []string{"kv_sparsity.method=" + method}); err != nil {
			t.Fatalf("%s alone: %v", method, err)
		}
		for key, v := range def {
			if v == "" {
				v = t.TempDir() // data: a directory the plan would read
			}
			_, err := Load("llm-128x128", []string{"kv_sparsity.method=" + method, "kv_sparsity." + key + "=" + v})
			reads := slices.Contains(kvsparse.Reads(method), key)
			if reads && err != nil {
				t.Errorf("%s reads %s, refused: %v", method, key, err)
			}
			if !reads && (err == nil || !IsNotRead(err) || !strings.Contains(err.Error(), "field kv_sparsity."+key+": does not apply to kv_sparsity.method "+method)) {
				t.Errorf("%s does not read %s: %v", method, key, err)
			}
		}
	}
	for _, c := range []struct{ sets, want string }{
		{"dsa budget=512", "field kv_sparsity.budget: does not apply to kv_sparsity.method dsa; use kv_sparsity.k"},
		{"hisa page_size=64", "use kv_sparsity.block"},
		{"evict page_size=32", "does not apply to kv_sparsity.method evict; evict reads kv_sparsity.budget, kv_sparsity.sink, kv_sparsity.recent"},
		{"mustafar budget=512", "use kv_sparsity.sparsity"},
		{"quest unit=vector", "quest reads kv_sparsity.budget, kv_sparsity.page_size"},
	} {
		m, kv, _ := strings.Cut(c.sets, " ")
		_, err := Load("llm-128x128", []string{"kv_sparsity.method=" + m, "kv_sparsity." + kv})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.sets, err, c.want)
		}
	}
	// A YAML file's keys are given as much as --set's.
	_, err := Parse("x.yaml", []byte("kv_sparsity:\n  method: dsa\n  budget: 512\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "x.yaml:3: field kv_sparsity.budget: does not apply") {
		t.Errorf("file: %v", err)
	}
}

// TestMoERoutingKeysNotRead: moe.imbalance is read by zipf and dirichlet
// only, moe.locality by the routings that draw logits per token.
func TestMoERoutingKeysNotRead(t *testing.T) {
	for _, c := range []struct {
		sets []string
		want string // "" accepted
	}{
		{[]string{"moe.imbalance=2"}, "field moe.imbalance: is read with moe.routing zipf (the exponent) or dirichlet (the concentration), not uniform"},
		{[]string{"moe.routing=balanced", "moe.imbalance=1"}, "not balanced"},
		{[]string{"moe.routing=zipf", "moe.imbalance=1.2"}, ""},
		{[]string{"moe.routing=dirichlet", "moe.imbalance=0.3", "moe.locality=0.5"}, ""},
		{[]string{"moe.routing=balanced", "moe.locality=0.5"}, "field moe.locality: is read with moe.routing uniform, zipf or dirichlet"},
		{[]string{"moe.locality=0.5"}, ""},
	} {
		_, err := Load("llm-128x128", c.sets)
		if (c.want == "") != (err == nil) || (err != nil && (!strings.Contains(err.Error(), c.want) || !IsNotRead(err))) {
			t.Errorf("%v: %v, want %q", c.sets, err, c.want)
		}
	}
}

// TestExplicit: the keys a source or --set gave, not the defaults; of a
// SCALE-Sim .cfg (re-encoded with every field) only what it sets.
func TestExplicit(t *testing.T) {
	cfg, err := Parse("x.yaml", []byte("pe_array:\n  rows: 8\n"), []string{"moe.chunk=4"})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{"pe_array": true, "pe_array.rows": true, "pe_array.cols": false, "moe.chunk": true, "moe.routing": false, "kv_sparsity.budget": false} {
		if cfg.Explicit(path) != want {
			t.Errorf("Explicit(%s) = %v", path, !want)
		}
	}
	if got := cfg.ExplicitIn("moe"); len(got) != 1 || got[0] != "moe.chunk" {
		t.Errorf("ExplicitIn(moe) = %v", got)
	}
	p := filepath.Join(t.TempDir(), "s.cfg")
	os.WriteFile(p, []byte("ArrayHeight: 16\nArrayWidth: 16\n"), 0o644)
	cfg, err = Load(p, []string{"kv_sparsity.method=quest"})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Explicit("pe_array.rows") || cfg.Explicit("kv_sparsity.budget") || cfg.Explicit("dataflow") || !cfg.Explicit("kv_sparsity.method") {
		t.Errorf(".cfg: rows %v budget %v dataflow %v method %v", cfg.Explicit("pe_array.rows"), cfg.Explicit("kv_sparsity.budget"),
			cfg.Explicit("dataflow"), cfg.Explicit("kv_sparsity.method"))
	}
	if _, err := Load(p, []string{"kv_sparsity.method=dsa", "kv_sparsity.budget=64"}); err == nil || !IsNotRead(err) {
		t.Errorf(".cfg with --set budget on dsa: %v", err)
	}
}
