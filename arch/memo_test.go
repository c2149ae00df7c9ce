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
