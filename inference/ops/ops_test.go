package ops

import (
	"testing"

	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// TestGPT2OnePassIsTheDescription: the model zoo's one-pass GPT-2 entries
// are built from the LLM descriptions: the same projections and FFN GEMMs
// as a prefill of max_position_embeddings tokens, block for block.
func TestGPT2OnePassIsTheDescription(t *testing.T) {
	for _, name := range []string{"gpt2-small", "gpt2-medium"} {
		m, _ := llm.Lookup(name)
		zm, ok := workloads.Lookup(name)
		if !ok {
			t.Fatalf("%s missing from the model zoo", name)
		}
		w, err := zm.Build(workloads.Params{Batch: 1})
		if err != nil {
			t.Fatal(err)
		}
		seq := m.MaxPositionEmbeddings
		var want []workloads.Layer
		for _, op := range Lower(m, StepSpec{Prefill: true, Batch: 1, New: seq, Context: seq, Step: -1}) {
			if op.Kind == OpGEMM && op.Class != ClassLMHead {
				want = append(want, op.Layer)
			}
		}
		if len(want) != len(w.Layers) {
			t.Fatalf("%s: one-pass entry has %d layers, the description's prefill %d GEMMs", name, len(w.Layers), len(want))
		}
		for i, l := range w.Layers {
			g := want[i]
			if l.M*l.Groups != g.M*g.Groups || l.N != g.N || l.K != g.K {
				t.Errorf("%s layer %d: one-pass %s %dx%dx%d x%d, description %s %dx%dx%d x%d", name, i, l.Name, l.M, l.N, l.K, l.Groups, g.Name, g.M, g.N, g.K, g.Groups)
			}
		}
	}
}
