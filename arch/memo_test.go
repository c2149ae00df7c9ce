package arch

import (
	"math"
	"reflect"
	"testing"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
)

// TestSimulateMemoEqualsOneEngine runs whole workloads on one engine and
// memoized, layer by layer, on one and on several DRAM channels.
func TestSimulateMemoEqualsOneEngine(t *testing.T) {
	for _, c := range []struct {
		model string
		sets  []string
	}{
		{"gpt2-small", nil},
		{"resnet18", nil},
		{"bert-base", []string{"dram.channels=4", "dataflow=os"}},
	} {
		// Memoization needs layer boundaries that drain: no weight prefetch
		// into the previous layer (kept activations are part of the key).
		cfg, err := configs.Load("systolic-32x32", append([]string{"memory.prefetch_next_layer=false"}, c.sets...))
		if err != nil {
			t.Fatal(err)
		}
		m, _ := workloads.Lookup(c.model)
		w, err := m.Build(workloads.Params{SeqLen: 128})
		if err != nil {
			t.Fatal(err)
		}
		one, err := Simulate(cfg, w)
		if err != nil {
			t.Fatal(err)
		}
		memo, err := SimulateMemo(cfg, w)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(one.Layers, memo.Layers) {
			for i := range one.Layers {
				if !reflect.DeepEqual(one.Layers[i], memo.Layers[i]) {
					t.Fatalf("%s %v: layer %d differs:\none engine %+v\nmemoized   %+v", c.model, c.sets, i, one.Layers[i], memo.Layers[i])
				}
			}
		}
		for i := range one.Channels {
			a, b := one.Channels[i], memo.Channels[i]
			if a.ReadBytes != b.ReadBytes || a.WriteBytes != b.WriteBytes || a.Transactions != b.Transactions ||
				math.Abs(a.BusyCycles-b.BusyCycles) > 1e-6*a.BusyCycles {
				t.Fatalf("%s: channel %d: %+v vs %+v", c.model, i, a, b)
			}
		}
		if memo.Events >= one.Events {
			t.Errorf("%s: memoized run took %d events, one engine %d: nothing reused", c.model, memo.Events, one.Events)
		}
	}
}

// TestBorrowedMemoIsTheRunsOwn: a KV-sparsity run's sparse decode,
// which copies the dense decode's layers (LayerMemo.Borrow), gives the
// result and the counters (simulations, reuses, events) of the same
// decode on a table of its own; and it did copy: layers the dense table
// holds are copied, not simulated again, and equal the lender's.
func TestBorrowedMemoIsTheRunsOwn(t *testing.T) {
	cfg, r := kvRun(t, "quest")
	o := LLMOptions{Phase: PhaseDecode, Prompt: 4096, Gen: 3, Batch: 1, Attention: r.Plan}
	alone, err := SimulateLLM(cfg, zooModel(t, "llama-3.2-1b"), o)
	if err != nil {
		t.Fatal(err)
	}
	got, want := *r.Sparse, *alone
	got.WallSeconds, want.WallSeconds = 0, 0
	got.Options, want.Options = LLMOptions{}, LLMOptions{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("borrowing: %d simulated, %d reused, %d events; alone %d, %d, %d (or the steps differ)",
			got.Simulated, got.Reused, got.Events, want.Simulated, want.Reused, want.Events)
	}
	// The lender's entries are copied, not simulated again.
	dense, sparse := NewLayerMemo(cfg), NewLayerMemo(cfg)
	m := zooModel(t, "llama-3.2-1b")
	if _, err := SimulateLLM(cfg, m, LLMOptions{Phase: PhaseDecode, Prompt: 4096, Gen: 3, Batch: 1, Memo: dense}); err != nil {
		t.Fatal(err)
	}
	sparse.Borrow(dense)
	if _, err := SimulateLLM(cfg, m, LLMOptions{Phase: PhaseDecode, Prompt: 4096, Gen: 3, Batch: 1, Memo: sparse, Attention: r.Plan}); err != nil {
		t.Fatal(err)
	}
	shared := 0
	for k, e := range sparse.entries {
		if d, ok := dense.entries[k]; ok {
			shared++
			if !reflect.DeepEqual(d, e) {
				t.Fatalf("%+v: borrowed entry differs from the lender's", k.layer)
			}
		}
	}
	if shared == 0 || sparse.lent != int64(shared) {
		t.Errorf("%d layers in both tables, %d copied", shared, sparse.lent)
	}
	other := NewLayerMemo(loadCfg(t, "llm-128x128", "dram.bandwidth_gbps=100"))
	if other.Borrow(dense); other.from != nil {
		t.Errorf("a table of another configuration borrowed")
	}
}
