package traces

import (
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/internal/usererr"
)

const ref = "../../shared/reference/scalesim/"

// Every topology SCALE-Sim ships reads, with shapes from SCALE-Sim's
// lowering (M = OH·OW, K = FH·FW·C, N = filters).
func TestReadShippedTopologies(t *testing.T) {
	for file, want := range map[string]struct {
		layers  int
		m, n, k int // first layer
	}{
		"Resnet18.csv":       {0, 12100, 64, 147}, // ceil((224−7+2)/2)² = 110²
		"Resnet50.csv":       {0, 12100, 64, 147}, // its blank second row is skipped
		"alexnet.csv":        {0, 3025, 96, 363},  // ceil((224−11+4)/4)² = 55², 11·11·3
		"mobilenet.csv":      {0, 12544, 32, 27},  // ceil((224−3+2)/2)² = 112²
		"gpt2.csv":           {0, 1024, 1024, 64}, // GEMM form: M, N, K
		"test_mnk_input.csv": {1, 128, 64, 256},
	} {
		w, err := ReadScaleSimTopology(ref+file, 1)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if want.layers > 0 && len(w.Layers) != want.layers {
			t.Errorf("%s: %d layers, want %d", file, len(w.Layers), want.layers)
		}
		l := w.Layers[0]
		if l.M != want.m || l.N != want.n || l.K != want.k {
			t.Errorf("%s: first layer %d×%d×%d, want %d×%d×%d", file, l.M, l.N, l.K, want.m, want.n, want.k)
		}
	}
}

func TestTopologyErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"Layer, M, N, K,\nA, 1, 2, x,\n", "t.csv:2: field K: expected a positive integer, got \"x\""},
		{"Layer, M, N, K,\nA, 1, 2\n", "t.csv:2: layer \"A\" has 2 values"},
		{"Layer, M, N, K,\nA, 1, 2,\n", "t.csv:2: field K: expected a positive integer, got \"\""},
		{"Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\nC, 3, 3, 5, 5, 1, 1, 1,\n", "t.csv:2: layer \"C\": filter 5x5 larger than ifmap 3x3"},
		{"Layer, Foo\n", "t.csv:1: header has 2 columns"},
		{"", "t.csv:1: empty file"},
		{"Layer, M, N, K,\n", "t.csv: no layers"},
		{"Layer, M, N, K,\n\"A, 1, 2, 3\n", "t.csv:2"},
	} {
		_, err := parseScaleSimTopology("t.csv", strings.NewReader(tc.text), 1)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !usererr.Is(err) {
			t.Errorf("%q: got %v, want a user error containing %q", tc.text, err, tc.want)
		}
	}
}

func TestBatchMultipliesM(t *testing.T) {
	w, err := ReadScaleSimTopology(ref+"test_mnk_input.csv", 4)
	if err != nil || w.Layers[0].M != 512 {
		t.Fatalf("batch 4: %+v %v", w.Layers, err)
	}
}

// Layer-wise N:M patterns ride in an optional Sparsity column.
func TestSparsityColumn(t *testing.T) {
	w, err := parseScaleSimTopology("t.csv", strings.NewReader("Layer, M, N, K, Sparsity\nA, 8, 8, 8, 2:4\nB, 8, 8, 8,\n"), 1)
	if err != nil || w.Layers[0].NM != "2:4" || w.Layers[1].NM != "" {
		t.Fatalf("%+v %v", w.Layers, err)
	}
	_, err = parseScaleSimTopology("t.csv", strings.NewReader("Layer, M, N, K, Sparsity\nA, 8, 8, 8, 4:2\n"), 1)
	if err == nil || !strings.Contains(err.Error(), "t.csv:2: field Sparsity") {
		t.Errorf("bad pattern: %v", err)
	}
}
