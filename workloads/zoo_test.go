package workloads

import (
	"math"
	"testing"
)

// Published multiply-accumulate counts, within the rounding the source uses.
func TestZooMACsMatchPublished(t *testing.T) {
	for _, tc := range []struct {
		name   string
		gmacs  float64
		tol    float64
		source string
	}{
		{"resnet18", 1.8, 0.05, "He et al. 2016 Table 1: 1.8×10⁹ FLOPs (multiply-adds)"},
		{"resnet50", 4.1, 0.05, "torchvision resnet50 (v1.5): 4.09 GFLOPS (multiply-adds)"},
		{"mobilenet", 0.569, 0.005, "Howard et al. 2017 Table 1: 569 M mult-adds"},
		{"vit-b16", 17.6, 0.1, "Touvron et al. (DeiT) 2021 Table 1: ViT-B 17.6 GFLOPs at 224²"},
		{"alexnet", 0.714, 0.005, "torchvision alexnet: 0.71 GFLOPS (multiply-adds)"},
		{"vgg16", 15.5, 0.05, "torchvision vgg16: 15.47 GFLOPS (multiply-adds)"},
	} {
		m, ok := Lookup(tc.name)
		if !ok {
			t.Fatalf("%s missing", tc.name)
		}
		w, err := m.Build(Params{})
		if err != nil {
			t.Fatal(err)
		}
		if got := float64(w.MACs()) / 1e9; math.Abs(got-tc.gmacs) > tc.tol {
			t.Errorf("%s: %.3f GMACs, want %.3f±%.3f (%s)", tc.name, got, tc.gmacs, tc.tol, tc.source)
		}
	}
}

// A transformer block's MACs follow from its shapes: 4·S·d² (QKV and
// projection) + 2·S²·d (scores and prob×V over all heads) + 2·S·d·ffn.
func TestTransformerShapes(t *testing.T) {
	m, _ := Lookup("bert-base")
	w, err := m.Build(Params{SeqLen: 128, Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	s, d, ffn := int64(128), int64(768), int64(3072)
	perSeq := 4*s*d*d + 2*s*s*d + 2*s*d*ffn
	if got, want := w.MACs(), 2*12*perSeq; got != want {
		t.Errorf("bert-base seq 128 batch 2: %d MACs, want %d", got, want)
	}
	qk := w.Layers[1]
	if qk.Kind != "attn_qk" || qk.Groups != 24 || qk.M != 128 || qk.N != 128 || qk.K != 64 || qk.WeightOperand {
		t.Errorf("attention scores lowered as %+v", qk)
	}
}

func TestEveryModelBuildsValidLayers(t *testing.T) {
	for _, m := range Models() {
		for _, b := range []int{1, 3} {
			w, err := m.Build(Params{Batch: b})
			if err != nil {
				t.Errorf("%s: %v", m.Name, err)
				continue
			}
			for _, l := range w.Layers {
				if err := l.Validate(); err != nil {
					t.Errorf("%s: %v", m.Name, err)
				}
			}
			if m.Source == "" || m.Description == "" {
				t.Errorf("%s: undocumented", m.Name)
			}
		}
	}
}
