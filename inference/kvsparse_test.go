package inference

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads/kvsparse"
)

// kvRun is a short llama-3.2-1b decode over a 4096-token cache with one
// method, two sampled steps.
func kvRun(t *testing.T, method string, sets ...string) (*configs.Config, *KVResult) {
	t.Helper()
	all := append(append([]string{"kv_sparsity.method=" + method}, readBy(method, "kv_sparsity.budget=1024", "kv_sparsity.k=1024",
		"kv_sparsity.block_top=16", "kv_sparsity.sample_steps=2", "kv_sparsity.sample_layers=1", "kv_sparsity.sample_heads=2")...), sets...)
	cfg := loadCfg(t, "llm-128x128", all...)
	r, err := SimulateKVSparse(cfg, zooModel(t, "llama-3.2-1b"), LLMOptions{Phase: PhaseDecode, Prompt: 4096, Gen: 3, Batch: 1})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, r
}

// readBy keeps the kv_sparsity settings method reads: a given key it
// does not read is refused (kvsparse.Unread).
func readBy(method string, sets ...string) []string {
	var out []string
	for _, s := range sets {
		key, _, _ := strings.Cut(strings.TrimPrefix(s, "kv_sparsity."), "=")
		if kvsparse.Unread(method, key) == "" {
			out = append(out, s)
		}
	}
	return out
}

// TestKVBytesFollowFormulas: per decode step, the bytes each method
// reads equal its formula computed here from the model's shape and the
// parameters (pages × page bytes + metadata; label channels × L + budget
// rows; indexer L × index_dim bytes + k rows; bitmap + kept values), and
// the dense attention reads 2·L·kv·head_dim words per layer.
func TestKVBytesFollowFormulas(t *testing.T) {
	const layers, kv, hd, wb = 16, 8, 64, 2 // llama-3.2-1b, bf16
	for _, method := range []string{"evict", "quest", "double_sparsity", "dsa", "hisa", "mustafar"} {
		cfg, r := kvRun(t, method)
		p := cfg.KVSparsity
		var dense int64
		for i, st := range r.Steps {
			L := int64(4096 + i + 1)
			if int64(st.Context) != L {
				t.Fatalf("%s step %d: context %d, want %d", method, i+1, st.Context, L)
			}
			dense += 2 * layers * kv * L * hd * wb
			rows := func(n int64) int64 { return 2 * layers * kv * n * hd * wb } // K and V rows of every head
			var want kvsparseBytes
			switch method {
			case "evict":
				want.kv = rows(int64(p.Budget))
			case "quest":
				P := int64(p.PageSize)
				pages := (L + P - 1) / P
				want.kv = rows(int64(p.Budget) / P * P) // whole pages
				want.meta = layers * kv * pages * 2 * hd * wb
			case "double_sparsity":
				want.kv = rows(int64(p.Budget))
				want.label = layers * kv * L * int64(p.Channels) * wb
			case "dsa":
				want.kv = rows(int64(p.K))
				want.index = layers * L * int64(p.IndexDim) * int64(p.IndexBits) / 8
			case "hisa":
				B := int64(p.Block)
				blocks := (L + B - 1) / B
				cand := int64(p.BlockTop) * B // whole blocks
				want.kv = rows(int64(p.K))
				want.index = layers * (blocks + cand) * int64(p.IndexDim) * int64(p.IndexBits) / 8
			case "mustafar":
				kept := int64(kvsparse.Kept(hd, p.Sparsity))
				want.kv = 2 * layers * L * kv * kept * wb
				want.meta = 2 * layers * L * kv * hd / 8
			}
			got := kvsparseBytes{st.Bytes.KV, st.Bytes.Metadata, st.Bytes.LabelCache, st.Bytes.Indexer}
			if got != want {
				t.Errorf("%s step %d: bytes %+v, want %+v", method, i+1, got, want)
			}
			// What the new token adds: the newest page's min and max, its
			// label row, its index key (and the newest block's pooled key).
			var wantW kvsparseBytes
			switch method {
			case "quest":
				wantW.meta = layers * kv * 2 * hd * wb
			case "double_sparsity":
				wantW.label = layers * kv * int64(p.Channels) * wb
			case "dsa":
				wantW.index = layers * int64(p.IndexDim) * int64(p.IndexBits) / 8
			case "hisa":
				wantW.index = 2 * layers * int64(p.IndexDim) * int64(p.IndexBits) / 8
			}
			gotW := kvsparseBytes{st.Written.KV, st.Written.Metadata, st.Written.LabelCache, st.Written.Indexer}
			if gotW != wantW {
				t.Errorf("%s step %d: written %+v, want %+v", method, i+1, gotW, wantW)
			}
			// A 16-byte label row is a whole 64-byte request.
			if method == "double_sparsity" && st.Written.WastedBurst != layers*kv*(64-int64(p.Channels)*wb) {
				t.Errorf("double_sparsity step %d: %d bytes of write burst waste, want %d", i+1, st.Written.WastedBurst, layers*kv*(64-int64(p.Channels)*wb))
			}
			if read := got.kv + got.meta + got.label + got.index; st.Bytes.WastedBurst*100 > read {
				t.Errorf("%s step %d: %d wasted burst bytes of %d", method, i+1, st.Bytes.WastedBurst, read)
			}
		}
		if r.DenseKV != dense {
			t.Errorf("%s: dense attention read %d KV bytes, want %d", method, r.DenseKV, dense)
		}
		// The footprint after the decode's 3 steps.
		const T = 4096 + 3
		st := r.Plan.Storage(1)
		want := kvsparse.Storage{Tokens: T, KV: 2 * layers * kv * T * hd * wb, DenseKV: 2 * layers * kv * T * hd * wb}
		switch method {
		case "evict":
			want.KV = 2 * layers * kv * int64(p.Budget) * hd * wb
		case "quest":
			want.Metadata = layers * kv * ((T + int64(p.PageSize) - 1) / int64(p.PageSize)) * 2 * hd * wb
		case "double_sparsity":
			want.LabelCache = layers * kv * T * int64(p.Channels) * wb
		case "dsa":
			want.Indexer = layers * T * int64(p.IndexDim) * int64(p.IndexBits) / 8
		case "hisa":
			want.Indexer = layers * (T + (T+int64(p.Block)-1)/int64(p.Block)) * int64(p.IndexDim) * int64(p.IndexBits) / 8
		case "mustafar":
			want.KV = 2 * layers * kv * T * int64(kvsparse.Kept(hd, p.Sparsity)) * wb
			want.Metadata = 2 * layers * kv * T * hd / 8
		}
		if st != want {
			t.Errorf("%s: storage %+v, want %+v", method, st, want)
		}
	}
}

type kvsparseBytes struct{ kv, meta, label, index int64 }

// TestKVSpeedupWithinBound: no method's attention gets faster than
// moving its bytes at peak bandwidth allows (dense attention time over
// the method's transferred bytes ÷ bandwidth); on a memory-bound config
// (a narrow DRAM) eviction's speedup approaches the bytes ratio.
func TestKVSpeedupWithinBound(t *testing.T) {
	for _, method := range []string{"evict", "quest", "double_sparsity", "dsa", "hisa", "mustafar"} {
		cfg, r := kvRun(t, method)
		bound := float64(r.DenseAttentionCycles) / (float64(r.Bytes.Read()) / (cfg.BytesPerCycle() * float64(cfg.DRAM.Channels)))
		speedup := float64(r.DenseAttentionCycles) / float64(r.AttentionCycles)
		t.Logf("%s: attention speedup %.3f, bytes bound %.3f", method, speedup, bound)
		if speedup > bound*(1+1e-9) {
			t.Errorf("%s: attention speedup %.3f above the bytes bound %.3f", method, speedup, bound)
		}
	}
	_, r := kvRun(t, "evict", "dram.bandwidth_gbps=4")
	speedup := float64(r.DenseAttentionCycles) / float64(r.AttentionCycles)
	ratio := float64(r.DenseKV) / float64(r.Bytes.Read())
	t.Logf("memory-bound evict: attention speedup %.4f, bytes ratio %.4f", speedup, ratio)
	if speedup > ratio*1.001 || speedup < 0.9*ratio {
		t.Errorf("memory-bound evict: attention speedup %.3f, bytes ratio %.3f", speedup, ratio)
	}
}

// TestKVDeterministic: the same inputs give the same result twice.
func TestKVDeterministic(t *testing.T) {
	_, a := kvRun(t, "quest")
	_, b := kvRun(t, "quest")
	if fmt.Sprint(a.Steps, a.Bytes, a.AttentionCycles, a.Plan.Quality()) != fmt.Sprint(b.Steps, b.Bytes, b.AttentionCycles, b.Plan.Quality()) {
		t.Errorf("two runs differ")
	}
}

// indexerCycles sums one decode step's indexer scan (scores, ReLU,
// top-k and their key gathers; not the projections both methods share).
func indexerCycles(t *testing.T, method string, prompt int) int64 {
	t.Helper()
	cfg := loadCfg(t, "llm-128x128", "kv_sparsity.method="+method, "kv_sparsity.sample_steps=1",
		"kv_sparsity.sample_layers=1", "kv_sparsity.sample_heads=1", "dram.capacity_gb=48")
	r, err := SimulateKVSparse(cfg, zooModel(t, "llama-3.1-8b"), LLMOptions{Phase: PhaseDecode, Prompt: prompt, Gen: 1, Batch: 1, RecordOps: true})
	if err != nil {
		t.Fatal(err)
	}
	var c int64
	for _, op := range r.Sparse.Ops {
		name := op.Name[strings.IndexByte(op.Name, '.')+1:]
		if (strings.HasPrefix(name, "index_") || strings.HasPrefix(name, "block_")) && !strings.HasSuffix(name, "_proj") {
			c += op.Cycles
		}
	}
	return c
}

// TestHISAIndexerShrinksWithContext: HISA's indexer scan is faster than
// the flat one, and more so at 128K than at 32K (the paper: 2× and 4×).
func TestHISAIndexerShrinksWithContext(t *testing.T) {
	var prev float64
	for _, L := range []int{32768, 131000} {
		flat, hisa := indexerCycles(t, "dsa", L), indexerCycles(t, "hisa", L)
		s := float64(flat) / float64(hisa)
		t.Logf("context %d: flat indexer %d cycles, HISA %d: %.2fx", L, flat, hisa, s)
		if s <= 1 || s <= prev {
			t.Errorf("context %d: HISA indexer speedup %.2f (previous context %.2f)", L, s, prev)
		}
		prev = s
	}
}

// TestKVTraceReplays: a run replayed from its selection trace reads,
// times and scores exactly what the run did; a trace of another prompt is
// refused naming it.
func TestKVTraceReplays(t *testing.T) {
	cfg, r := kvRun(t, "double_sparsity")
	var buf bytes.Buffer
	if err := r.Plan.WriteTrace(&buf); err != nil {
		t.Fatal(err)
	}
	m := zooModel(t, "llama-3.2-1b")
	o := LLMOptions{Phase: PhaseDecode, Prompt: 4096, Gen: 3, Batch: 1}
	pl, err := kvsparse.ReplayPlan(cfg.KVSetup(), m, o.Prompt, 3, bytes.NewReader(buf.Bytes()), "t.json")
	if err != nil {
		t.Fatal(err)
	}
	again, err := SimulateKVSparsePlan(cfg, m, o, pl)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(again.Steps, again.Bytes, again.AttentionCycles, again.Plan.Quality()) != fmt.Sprint(r.Steps, r.Bytes, r.AttentionCycles, r.Plan.Quality()) {
		t.Errorf("replay differs from the run")
	}
	if _, err := kvsparse.ReplayPlan(cfg.KVSetup(), m, 2048, 3, bytes.NewReader(buf.Bytes()), "t.json"); err == nil || !strings.Contains(err.Error(), "--prompt") {
		t.Errorf("a trace of another prompt: %v", err)
	}
}
