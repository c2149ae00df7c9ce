package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --format scalesim writes SCALE-Sim v2's three reports with its column
// names; on scale.cfg + Resnet18.csv (CALC bandwidth) Conv1's total
// cycles are SCALE-Sim's own, 158421 (os, shared/reference/README.md).
func TestScaleSimFormat(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	args := []string{"run", "-c", "../../../shared/reference/scalesim/scale.cfg", "-w", "../../../shared/reference/scalesim/Resnet18.csv",
		"--format", "scalesim", "--out", dir}
	if code := execute(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "COMPUTE_REPORT.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if lines[0] != "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %," {
		t.Errorf("header %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "0, 158421, 0, ") {
		t.Errorf("Conv1 row %q, want 158421 cycles and no stalls", lines[1])
	}
	for _, f := range []string{"BANDWIDTH_REPORT.csv", "DETAILED_ACCESS_REPORT.csv"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "\n"); n != 1+21 {
			t.Errorf("%s: %d lines, want a header and 21 layers", f, n)
		}
	}
	if code := execute([]string{"run", "--format", "scalesim"}, &out, &errb); code != 2 {
		t.Errorf("--format scalesim without --out: exit %d, want 2", code)
	}
}
