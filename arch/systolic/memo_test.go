package systolic

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

// TestBorrowCopiesTheLendersEntries: a table that borrows from a finished
// one on the same configuration copies the lender's entries instead of
// simulating them again, and the copies equal the lender's; a table of
// another configuration borrows nothing.
func TestBorrowCopiesTheLendersEntries(t *testing.T) {
	cfg, err := configs.Load("systolic-32x32", []string{"memory.prefetch_next_layer=false"})
	if err != nil {
		t.Fatal(err)
	}
	ls := []workloads.Layer{workloads.GEMM("a", 64, 96, 128), workloads.GEMM("b", 200, 32, 64)}
	dense := NewLayerMemo(cfg)
	for _, l := range ls {
		if _, _, _, err := dense.Layer(l, DrainedStart); err != nil {
			t.Fatal(err)
		}
	}
	sparse := NewLayerMemo(cfg)
	sparse.Borrow(dense)
	for _, l := range append(ls, workloads.GEMM("c", 16, 16, 16)) {
		if _, _, _, err := sparse.Layer(l, DrainedStart); err != nil {
			t.Fatal(err)
		}
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
	if shared != len(ls) || sparse.Lent() != int64(shared) {
		t.Errorf("%d layers in both tables, %d copied; want %d", shared, sparse.Lent(), len(ls))
	}
	other, err := configs.Load("systolic-32x32", []string{"memory.prefetch_next_layer=false", "dram.bandwidth_gbps=100"})
	if err != nil {
		t.Fatal(err)
	}
	o := NewLayerMemo(other)
	if o.Borrow(dense); o.Lender() != nil {
		t.Errorf("a table of another configuration borrowed")
	}
}
