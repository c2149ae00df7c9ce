package main

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/traces"
)

// A .npy of activations drives the kernels; the ffn block carries the
// issue's keys; bad keys exit 2 naming them.
func TestFFNRunWithNPY(t *testing.T) {
	dir := t.TempDir()
	const inter = 8192 // llama-3.2-1b
	rng := rand.New(rand.NewSource(1))
	a := traces.Array{Shape: []int{40, inter}, Data: make([]float64, 40*inter)}
	for i := range a.Data {
		a.Data[i] = rng.NormFloat64()
	}
	b, err := traces.WriteNPY(a, "f4")
	if err != nil {
		t.Fatal(err)
	}
	npy := filepath.Join(dir, "act.npy")
	if err := os.WriteFile(npy, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	args := []string{"run", "--config", "llm-128x128", "--workload", "llama-3.2-1b", "--phase", "decode", "--prompt", "64", "--gen", "2",
		"--batch", "2", "--set", "activation_sparsity.method=cats", "--set", "activation_sparsity.npy=" + npy, "--format", "json"}
	if code := execute(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep struct {
		FFN map[string]any `json:"ffn"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"active_fraction_token", "active_fraction_batch_union", "bytes_saved", "tpot_speedup", "output_rel_error"} {
		if _, ok := rep.FFN[k]; !ok {
			t.Errorf("ffn block lacks %s", k)
		}
	}
	if f := rep.FFN["active_fraction_token"].(float64); f < 0.45 || f > 0.55 {
		t.Errorf("active fraction %g at target 0.5", f)
	}
	for _, c := range []struct{ set, want string }{
		{"activation_sparsity.method=magic", "activation_sparsity.method"},
		{"activation_sparsity.sample_steps=0", "activation_sparsity.sample_steps"},
		{"activation_sparsity.npy=" + filepath.Join(dir, "none.npy"), "activation_sparsity.npy"},
	} {
		errb.Reset()
		args := []string{"run", "--config", "llm-128x128", "--workload", "llama-3.2-1b", "--phase", "decode", "--gen", "2",
			"--set", "activation_sparsity.method=cats", "--set", c.set}
		if code := execute(args, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.want) || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("--set %s: exit %d, %q; want exit 2 and one line naming %s", c.set, code, errb.String(), c.want)
		}
	}
}

// ffn-batch writes a table and a plot.
func TestFFNBatch(t *testing.T) {
	plot := filepath.Join(t.TempDir(), "s.png")
	var out, errb bytes.Buffer
	args := []string{"ffn-batch", "--workload", "llama-3.2-1b", "--methods", "cats,relu", "--batches", "1,8", "--prompt", "64", "--gen", "2", "--plot", plot}
	if code := execute(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if st, err := os.Stat(plot); err != nil || st.Size() < 1000 {
		t.Errorf("plot: %v", err)
	}
	if n := strings.Count(out.String(), "cats"); n != 2 {
		t.Errorf("table has %d cats rows, want 2:\n%s", n, out.String())
	}
	out.Reset()
	args = []string{"ffn-batch", "--workload", "llama-3.2-1b", "--methods", "relu", "--batches", "2", "--prompt", "64", "--gen", "1",
		"--vary", "activation_sparsity.target=0.5,0.9"}
	if code := execute(args, &out, &errb); code != 0 || !strings.Contains(out.String(), "relu target=0.9") {
		t.Errorf("--vary: exit %d, output:\n%s", code, out.String())
	}
	for _, bad := range [][]string{{"--methods", "none"}, {"--vary", "activation_sparsity.target"}, {"--batches", "0"}} {
		errb.Reset()
		if code := execute(append([]string{"ffn-batch"}, bad...), &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
}
