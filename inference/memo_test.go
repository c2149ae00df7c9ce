package inference

import (
	"reflect"
	"testing"

	"github.com/sparsesim/sparsesim/arch/systolic"
	"github.com/sparsesim/sparsesim/inference/kvlower"
)

// TestBorrowedMemoIsTheRunsOwn: a KV-sparsity run's sparse decode,
// which copies the dense decode's layers (LayerMemo.Borrow), gives the
// result and the counters (simulations, reuses, events) of the same
// decode on a table of its own; and it did copy: layers the dense table
// holds are copied, not simulated again, and equal the lender's.
func TestBorrowedMemoIsTheRunsOwn(t *testing.T) {
	cfg, r := kvRun(t, "quest")
	o := LLMOptions{Phase: PhaseDecode, Prompt: 4096, Gen: 3, Batch: 1, Attention: kvlower.New(r.Plan)}
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
	dense, sparse := systolic.NewLayerMemo(cfg), systolic.NewLayerMemo(cfg)
	m := zooModel(t, "llama-3.2-1b")
	if _, err := SimulateLLM(cfg, m, LLMOptions{Phase: PhaseDecode, Prompt: 4096, Gen: 3, Batch: 1, Memo: dense}); err != nil {
		t.Fatal(err)
	}
	sparse.Borrow(dense)
	if _, err := SimulateLLM(cfg, m, LLMOptions{Phase: PhaseDecode, Prompt: 4096, Gen: 3, Batch: 1, Memo: sparse, Attention: kvlower.New(r.Plan)}); err != nil {
		t.Fatal(err)
	}
	// Entry by entry equality is systolic's TestBorrowCopiesTheLendersEntries.
	if sparse.Lent() == 0 {
		t.Errorf("the sparse decode copied no layer from the dense one")
	}
}
