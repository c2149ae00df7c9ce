package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/rtl"
)

func TestRTLCosimCLIRefusesBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"--gemm", "8x8"},
		{"--gemm", "0x8x8"},
		{"--gemm", "axbxc"},
		{"--nm", "5:4"},
		{"--nm", "2:32"},
		{"--dataflow", "os"},
		{"--rows", "0"},
		{"--rows", "65"},
		{"--gemm", "4x4x70000"},
		{"--sim", "modelsim"},
	} {
		code, _, errs := run(t, append([]string{"rtl", "cosim"}, args...)...)
		if code != 2 || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%v: exit %d, want 2 with one line; stderr %q", args, code, errs)
		}
	}
}

// The command end to end (iverilog: no build to wait for): JSON with the
// documented keys, cycles and outputs agreeing, written atomically with -o.
func TestRTLCosimCLI(t *testing.T) {
	if !rtl.Available("iverilog") {
		t.Skip("SKIPPED: iverilog not installed")
	}
	out := filepath.Join(t.TempDir(), "cosim.json")
	code, _, errs := run(t, "rtl", "cosim", "--rows", "3", "--cols", "5", "--nm", "1:4", "--gemm", "7x11x13", "--sim", "iverilog", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"rtl_cycles", "model_cycles", "outputs_match", "max_abs_error"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %s", k)
		}
	}
	if m["rtl_cycles"] != m["model_cycles"] || m["outputs_match"] != true || m["max_abs_error"] != 0.0 {
		t.Errorf("cosim disagrees: %s", b)
	}
}
