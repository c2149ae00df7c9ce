package workloads

import "testing"

func TestTrainingPhases(t *testing.T) {
	w := Workload{Layers: []Layer{
		GEMM("a", 8, 16, 32),
		GEMM("b", 8, 4, 16),
		{Name: "s", Kind: "attn_qk", M: 8, N: 8, K: 4, Groups: 2},
	}}
	tr := Training(w)
	var names []string
	for _, l := range tr.Layers {
		names = append(names, l.Name)
	}
	want := []string{"a.fwd", "a.bwd_weight", "a.update", "b.fwd", "b.bwd_data", "b.bwd_weight", "b.update", "s.fwd", "s.bwd_data", "s.bwd_weight"}
	if len(names) != len(want) {
		t.Fatalf("phases %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("phases %v, want %v", names, want)
		}
	}
	// dX = dY·Wᵀ: (M×N)·(N×K); dW = Xᵀ·dY: (K×M)·(M×N); update over K×N.
	bd, bw, up := tr.Layers[4], tr.Layers[5], tr.Layers[6]
	if bd.M != 8 || bd.K != 4 || bd.N != 16 || !bd.WeightOperand {
		t.Errorf("bwd_data %+v", bd)
	}
	if bw.M != 16 || bw.K != 8 || bw.N != 4 || bw.WeightOperand {
		t.Errorf("bwd_weight %+v", bw)
	}
	if up.M*up.N != 16*4 || up.Kind != "update" {
		t.Errorf("update %+v", up)
	}
	// Three GEMMs of equal MACs per weight layer.
	if tr.Layers[3].MACs() != bd.MACs() || bd.MACs() != bw.MACs() {
		t.Error("training GEMMs of one layer differ in MACs")
	}
}
