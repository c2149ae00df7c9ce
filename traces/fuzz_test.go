package traces

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads"
)

func oneLine(t *testing.T, what string, err error) {
	t.Helper()
	if !usererr.Is(err) {
		t.Fatalf("%s: not a user error: %v", what, err)
	}
	if strings.ContainsAny(err.Error(), "\n\r\x00") {
		t.Fatalf("%s: error is not one clean line: %q", what, err)
	}
}

// sane checks what a parser accepted: non-negative sizes everywhere.
func sane(t *testing.T, w workloads.Workload) {
	t.Helper()
	for _, l := range w.Layers {
		if l.M < 0 || l.N < 0 || l.K < 0 || l.Groups < 0 || l.MACs() < 0 {
			t.Fatalf("accepted a negative layer %+v", l)
		}
	}
	for _, r := range w.Attention {
		if r.D < 0 || r.Context < 0 || r.Queries < 0 || r.KeyFetch < 0 || r.ValueFetch < 0 {
			t.Fatalf("accepted a negative attention row %+v", r)
		}
	}
}

func seedFiles(f *testing.F, paths ...string) {
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			if len(b) > 4096 {
				b = b[:4096]
			}
			f.Add(b)
		}
	}
}

// FuzzTopologyCSV: SCALE-Sim topology CSVs (conv and GEMM form).
func FuzzTopologyCSV(f *testing.F) {
	seedFiles(f, "../../shared/reference/scalesim/Resnet18.csv", "../../shared/reference/scalesim/test_mnk_input.csv",
		"../../shared/reference/scalesim/gpt2.csv")
	f.Add([]byte("Layer, M, N, K,\nL1,99999999999,99999999,99999999,\n"))
	f.Add([]byte("Layer, M, N, K,\nL1,-4,8,8,\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text []byte) {
		p := filepath.Join(dir, "topo.csv")
		if err := os.WriteFile(p, text, 0o644); err != nil {
			t.Fatal(err)
		}
		w, err := LoadWorkload(p, workloads.Params{Batch: 1})
		if err != nil {
			oneLine(t, "topology", err)
			return
		}
		sane(t, w)
	})
}

// FuzzSpAttenCSV: SpAtten's per-row trace summaries.
func FuzzSpAttenCSV(f *testing.F) {
	seedFiles(f, "../../shared/reference/spatten/small.csv")
	f.Add([]byte("iteration_id,layer_id,head_id,embedding_length_D,sentence_length_L,key_fetch_num,quant_key_bit,quant_query_bit,auto_requant_thres,if_requant,auto_requant_incre,value_fetch_num,quant_value_bit,if_accumulate_importance,if_rescale_previous_importance,if_topk,topk\n0,0,0,-64.0,993,993,-1,-1,-1,False,-1,993,-1,True,False,False,-1\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text []byte) {
		p := filepath.Join(dir, "rows.csv")
		if err := os.WriteFile(p, text, 0o644); err != nil {
			t.Fatal(err)
		}
		w, err := LoadWorkload(p, workloads.Params{Batch: 1})
		if err != nil {
			oneLine(t, "spatten csv", err)
			return
		}
		sane(t, w)
	})
}

// FuzzTrace: sparsesim trace files, starting from real generated ones.
func FuzzTrace(f *testing.F) {
	topo := filepath.Join(f.TempDir(), "g.csv")
	if err := os.WriteFile(topo, []byte("Layer, M, N, K,\na, 16, 24, 32,\nb, 8, 8, 64,\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	for _, c := range []struct{ cfg, w string }{{"systolic-32x32", topo}, {"sat-vcu1525", topo}} {
		cfg, err := configs.Load(c.cfg, nil)
		if err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := Generate(cfg, GenOptions{Workload: c.w, Params: workloads.Params{Batch: 1}, Seed: 1, Generator: "fuzz"}, &buf); err != nil {
			f.Fatal(err)
		} else {
			b := buf.Bytes()
			if len(b) > 8192 {
				b = b[:8192]
			}
			f.Add(b)
		}
	}
	f.Add([]byte(`{"format":"sparsesim-trace","version":1}` + "\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		ops := 0
		_, err := ReadTrace("x.trace", bytes.NewReader(text), func(Header, Op) error { ops++; return nil })
		if err != nil {
			oneLine(t, "trace", err)
		}
	})
}

// FuzzNPY: .npy weight files for trace gen --weights.
func FuzzNPY(f *testing.F) {
	seedFiles(f, "../docs/examples/weights_128x32_int8.npy", "../docs/examples/activations_64x128_int8.npy")
	if b, err := WriteNPY(Array{Shape: []int{2, 3}, DType: "f4", Data: []float64{1, 2, 3, 4, 5, 6}}, "f4"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseNPY("w.npy", b)
		if err != nil {
			oneLine(t, "npy", err)
			return
		}
		n := 1
		for _, d := range a.Shape {
			if d < 0 {
				t.Fatalf("negative shape %v", a.Shape)
			}
			n *= d
		}
		if n != len(a.Data) {
			t.Fatalf("shape %v holds %d values, got %d", a.Shape, n, len(a.Data))
		}
	})
}
