package traces

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads"
)

func genTrace(t testing.TB, cfgName, workload string, sets ...string) []byte {
	c, err := configs.Load(cfgName, sets)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := Generate(c, GenOptions{Workload: workload, Params: workloads.Params{SeqLen: 48}, Seed: 1, Generator: "test"}, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gen → write → read gives the same ops, for GEMM and attention traces.
func TestTraceRoundTrip(t *testing.T) {
	for _, tc := range []struct{ cfg, wl string }{{"systolic-32x32", "alexnet"}, {"sat-vcu1525", "mobilenet"}, {"spatten", "bert-base"}} {
		b := genTrace(t, tc.cfg, tc.wl)
		var ops []Op
		h, err := ReadTrace("t", bytes.NewReader(b), func(_ Header, op Op) error { ops = append(ops, op); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if h.Workload != tc.wl || h.Seed != 1 || h.Version != TraceVersion {
			t.Errorf("header %+v", h)
		}
		// Re-encode what was read: identical to the written lines.
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != len(ops)+2 {
			t.Fatalf("%d lines for %d ops", len(lines), len(ops))
		}
		for i, op := range ops {
			j, _ := json.Marshal(op)
			if string(j) != lines[i+1] {
				t.Fatalf("%s op %d differs after the round trip", tc.wl, i)
			}
		}
		if tc.cfg == "sat-vcu1525" {
			found := false
			for _, op := range ops {
				if op.NM != nil {
					found = true
					if op.NM.MaxPerGroup != 2 || op.NM.MinPerGroup != 2 {
						t.Errorf("2:8 summary %+v", op.NM)
					}
				}
			}
			if !found {
				t.Error("no N:M summaries in a 2:8 trace")
			}
		}
	}
}

func TestTraceErrors(t *testing.T) {
	b := genTrace(t, "systolic-32x32", "alexnet")
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for name, text := range map[string]string{
		"truncated":  strings.Join(lines[:len(lines)-1], "\n") + "\n",
		"cut line":   string(b[:len(b)/2]),
		"corrupted":  strings.Replace(string(b), `"m":3025`, `"m":3026`, 1),
		"bad op":     strings.Replace(string(b), `"op":"gemm"`, `"op":"conv"`, 1),
		"no header":  strings.Join(lines[1:], "\n"),
		"empty":      "",
		"extra tail": string(b) + lines[1] + "\n",
	} {
		_, err := ReadTrace("t.trace", strings.NewReader(text), func(Header, Op) error { return nil })
		if err == nil || !usererr.Is(err) || !strings.HasPrefix(err.Error(), "t.trace") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Fuzz the reader: any bytes give a result or a user error, never a panic.
func FuzzReadTrace(f *testing.F) {
	f.Add(genTrace(f, "systolic-32x32", "alexnet"))
	f.Add([]byte(`{"format":"sparsesim-trace","version":1}` + "\n" + `{"end":true}` + "\n"))
	f.Add([]byte("{}\n{}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := ReadTrace("f", bytes.NewReader(b), func(Header, Op) error { return nil })
		if err != nil && !usererr.Is(err) {
			t.Fatalf("non-user error %v", err)
		}
	})
}

func TestNPY(t *testing.T) {
	a := Array{Shape: []int{2, 3}, Data: []float64{1, -2, 3, 4, 5, -6}}
	for _, dt := range []string{"f4", "f8", "i1", "i2", "i4"} {
		b, err := WriteNPY(a, dt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseNPY("x.npy", b)
		if err != nil || fmt.Sprint(got.Data) != fmt.Sprint(a.Data) || got.Rows() != 2 || got.Cols() != 3 {
			t.Errorf("%s: %+v %v", dt, got, err)
		}
	}
	good, _ := WriteNPY(a, "f4")
	for name, b := range map[string][]byte{
		"magic":     append([]byte("NUMPY"), good[5:]...),
		"truncated": good[:len(good)-3],
		"fortran":   bytes.Replace(good, []byte("'fortran_order': False"), []byte("'fortran_order': True "), 1),
		"bigendian": bytes.Replace(good, []byte("'<f4'"), []byte("'>f4'"), 1),
		"complex":   bytes.Replace(good, []byte("'<f4'"), []byte("'<c8'"), 1),
	} {
		if _, err := ParseNPY("x.npy", b); err == nil || !usererr.Is(err) || !strings.HasPrefix(err.Error(), "x.npy:") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The shipped examples (made by docs/examples/make_npy.go) read back.
	for _, f := range []string{"activations_64x128_int8.npy", "weights_128x32_int8.npy"} {
		arr, err := ReadNPY(filepath.Join("..", "docs", "examples", f))
		if err != nil || arr.DType != "i1" || len(arr.Shape) != 2 {
			t.Errorf("%s: %+v %v", f, arr.Shape, err)
		}
	}
}

// Same inputs and seed → byte-identical traces (the attention kernels run
// heads in parallel, each with its own seeded generator).
func TestTraceGenDeterministic(t *testing.T) {
	for _, tc := range []struct{ cfg, wl string }{{"spatten", "bert-base"}, {"sat-vcu1525", "mobilenet"}} {
		if a, b := genTrace(t, tc.cfg, tc.wl), genTrace(t, tc.cfg, tc.wl); !bytes.Equal(a, b) {
			t.Errorf("%s: two generations differ", tc.wl)
		}
	}
}
