package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets tests run the real binary as a child process: with
// SPARSESIM_MAIN=1 the test binary is sparsesim.
func TestMain(m *testing.M) {
	if os.Getenv("SPARSESIM_MAIN") == "1" {
		os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func sweepArgs(out string) []string {
	return []string{"sweep", "-w", "resnet18", "--grid", "pe_array.rows=16:56:+8", "--grid", "pe_array.cols=32,64",
		"-j", "1", "-q", "--out", out}
}

// Kill a sweep with SIGKILL mid-run, resume it, and the results equal an
// uninterrupted run's, with no duplicate or torn rows.
func TestSweepSurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "full")
	if code, _, errs := run(t, sweepArgs(full)...); code != 0 {
		t.Fatalf("uninterrupted sweep: exit %d %s", code, errs)
	}
	killed := filepath.Join(dir, "killed")
	cmd := exec.Command(os.Args[0], sweepArgs(killed)...)
	cmd.Env = append(os.Environ(), "SPARSESIM_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until some rows are written, then kill without warning.
	res := filepath.Join(killed, "results.jsonl")
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(res); err == nil && bytes.Count(b, []byte("\n")) >= 3 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	b, _ := os.ReadFile(res)
	n := bytes.Count(b, []byte("\n"))
	if n < 3 || n >= 12 {
		t.Fatalf("killed after %d of 12 rows; the test needs a mid-run kill", n)
	}
	if code, _, errs := run(t, append(sweepArgs(killed), "--resume")...); code != 0 {
		t.Fatalf("resume: exit %d %s", code, errs)
	}
	for _, f := range []string{"results.jsonl", "results.csv"} {
		a, _ := os.ReadFile(filepath.Join(full, f))
		b, _ := os.ReadFile(filepath.Join(killed, f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s after kill+resume differs from the uninterrupted run", f)
		}
	}
}

func TestSweepPlotAndMergeCLI(t *testing.T) {
	dir := t.TempDir()
	sw := filepath.Join(dir, "sw")
	code, out, errs := run(t, "sweep", "-w", "../../../shared/reference/scalesim/test_mnk_input.csv",
		"--grid", "pe_array.rows=8:32:x2", "--grid", "dataflow=os,ws", "-q", "--out", sw)
	if code != 0 || !strings.Contains(out, "Pareto front") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	for _, f := range []string{"results.csv", "results.jsonl", "pareto.csv", "sweep.json", "speedup_vs_pes.png", "energy_breakdown.png", "pareto.png"} {
		if st, err := os.Stat(filepath.Join(sw, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty", f)
		}
	}
	for _, ext := range []string{"png", "svg"} {
		fig := filepath.Join(dir, "fig."+ext)
		if code, _, errs := run(t, "plot", sw, "--x", "pe_array.rows", "--y", "cycles", "--color", "dataflow", "-o", fig); code != 0 {
			t.Errorf("plot %s: exit %d %s", ext, code, errs)
		}
		if st, err := os.Stat(fig); err != nil || st.Size() < 1000 {
			t.Errorf("plot %s not written", ext)
		}
	}
	for _, args := range [][]string{
		{"plot", sw, "--x", "nosuch", "--y", "cycles", "-o", filepath.Join(dir, "x.png")},
		{"plot", sw, "--x", "pe_array.rows", "--y", "cycles", "-o", filepath.Join(dir, "x.jpg")},
		{"sweep", "--grid", "pe_array.rows=8:4:x2", "--out", filepath.Join(dir, "y")},
		{"sweep", "--grid", "pe_array.rows=8", "--out", filepath.Join(dir, "z"), "--shard", "2/2"},
		{"sweep", "--grid", "pe_array.rows=8", "-c", "nonesuch", "--out", filepath.Join(dir, "w")},
		{"merge", "--out", filepath.Join(dir, "m"), filepath.Join(dir, "none")},
	} {
		if code, _, _ := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
