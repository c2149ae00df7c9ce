package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/limits"
	"github.com/sparsesim/sparsesim/sweep"
	"github.com/sparsesim/sparsesim/traces"
	"github.com/sparsesim/sparsesim/workloads"
)

// llmDecode is a small LLM decode (well under a second) for flag checks.
var llmDecode = []string{"-c", "llm-128x128", "-w", "gpt2-small", "--phase", "decode", "--prompt", "64", "--gen", "2"}

// Flags the chosen path does not read are refused (exit 2, one line
// naming the flag) before anything runs, instead of being dropped. Each
// of these ran to exit 0 before (or, for --format scalesim, exit 1 after
// simulating).
func TestFlagsThePathDoesNotReadAreRefused(t *testing.T) {
	dir := t.TempDir()
	tr := filepath.Join(dir, "r.trace")
	if code, _, errs := run(t, "trace", "gen", "-w", "resnet18", "-o", tr); code != 0 {
		t.Fatalf("trace gen: exit %d %s", code, errs)
	}
	llmSweep := func(more ...string) []string {
		a := append(append([]string{"sweep"}, llmDecode...), "--grid", "pe_array.rows=64,128", "-q", "-j", "1", "--out", filepath.Join(dir, "sw"))
		return append(a, more...)
	}
	gemmSweep := func(more ...string) []string {
		return append([]string{"sweep", "-w", "resnet18", "--grid", "pe_array.rows=16,32", "-q", "-j", "1", "--out", filepath.Join(dir, "sw")}, more...)
	}
	llmRun := func(more ...string) []string { return append(append([]string{"run"}, llmDecode...), more...) }
	kv := []string{"--set", "kv_sparsity.method=quest", "--set", "kv_sparsity.budget=32", "--breakdown"}
	for _, c := range []struct {
		args []string
		flag string // named first on the line
		why  string
	}{
		// LLM sweeps: the GEMM work limits.
		{llmSweep("--max-work", "1000000"), "--max-work", "not counted in folds"},
		{llmSweep("--max-kernel-macs", "1"), "--max-kernel-macs", "reference kernels"},
		// GEMM sweeps: the LLM sizes.
		{gemmSweep("--prompt", "64"), "--prompt", "LLM phases only"},
		{gemmSweep("--gen", "128"), "--gen", "LLM phases only"}, // the default, given: still refused
		{gemmSweep("--phase", "training", "--gen", "4"), "--gen", "--phase training does not read it"},
		// An attention engine's zoo points are built from their kernels.
		{[]string{"sweep", "-c", "spatten", "-w", "gpt2-small", "--grid", "pe_array.rows=16", "-q", "--out", filepath.Join(dir, "sw"), "--max-work", "5"},
			"--max-work", "--max-kernel-macs bounds those"},
		// LLM runs.
		{llmRun("--max-work", "5"), "--max-work", "not counted in folds"},
		{llmRun("--max-kernel-macs", "5"), "--max-kernel-macs", "reference kernels"},
		{llmRun("-f", "scalesim", "-o", filepath.Join(dir, "sc")), "--format scalesim", "per GEMM layer"},
		{llmRun("--timeline-max-events", "10"), "--timeline-max-events", "needs --timeline"},
		{llmRun("--set", "activation_sparsity.method=cats", "--moe-plot", filepath.Join(dir, "m.png")), "--moe-plot", "has no experts"},
		{llmRun(append(kv, "--step-plot", filepath.Join(dir, "s.png"))...), "--step-plot", "with --breakdown"},
		{llmRun(append(kv, "-f", "csv")...), "--format csv", "--breakdown writes table or json"},
		// Non-LLM runs.
		{[]string{"run", "--prompt", "64"}, "--prompt", "LLM phases only"},
		{[]string{"run", "--gen", "2"}, "--gen", "LLM phases only"},
		{[]string{"run", "--seed", "3"}, "--seed", "LLM phases only"},
		{[]string{"run", "--timeline-max-events", "5"}, "--timeline-max-events", "needs --timeline"},
		{[]string{"run", "--trace", tr, "-w", "resnet18"}, "--workload", "the trace fixes"},
		{[]string{"run", "--trace", tr, "--batch", "2"}, "--batch", "the trace fixes"},
		{[]string{"run", "-c", "spatten", "-w", "bert-base", "--seq", "16", "--breakdown", "-f", "csv"}, "--format csv", "--breakdown writes"},
		{[]string{"run", "-c", "spatten", "-w", "bert-base", "--seq", "16", "--breakdown", "--timeline", filepath.Join(dir, "t.json")}, "--timeline", "with --breakdown"},
		{[]string{"run", "-c", "spatten", "-w", "bert-base", "--seq", "16", "--breakdown", "--functional"}, "--functional", "with --breakdown"},
	} {
		code, out, errs := run(t, c.args...)
		line := strings.TrimSpace(errs)
		if code != 2 || out != "" || strings.Contains(line, "\n") || !strings.HasPrefix(line, "sparsesim: "+c.flag) || !strings.Contains(line, c.why) {
			t.Errorf("%v: exit %d, stdout %d bytes, stderr %q; want exit 2 and one line naming %s (%q)", c.args, code, len(out), errs, c.flag, c.why)
		}
		if _, err := os.Stat(filepath.Join(dir, "sw")); err == nil {
			t.Errorf("%v: the refused sweep wrote its --out", c.args)
			os.RemoveAll(filepath.Join(dir, "sw"))
		}
	}
}

// --allow-overfit reaches LLM sweep points: a point that does not fit its
// FPGA fails as it does for a GEMM sweep and as 'run --phase decode'
// refuses it, unless the flag is given. (Before, LLM points skipped the
// fit check and the flag did nothing.)
func TestLLMSweepAllowOverfit(t *testing.T) {
	fpga := []string{"-c", "sat-vcu1525", "-w", "gpt2-small", "--phase", "decode", "--prompt", "64", "--gen", "2"}
	// The premise: 64 rows fit the device, 128 do not.
	if code, _, errs := run(t, append(append([]string{"run"}, fpga...), "--set", "pe_array.rows=128")...); code != 2 || !strings.Contains(errs, "does not fit") {
		t.Fatalf("run with 128 rows: exit %d %q; the test needs a config that overfits", code, errs)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name  string
		extra []string
		fail1 bool // point 1 (128 rows) fails
	}{{"default", nil, true}, {"allow", []string{"--allow-overfit"}, false}} {
		out := filepath.Join(dir, c.name)
		args := append(append([]string{"sweep"}, fpga...), "--grid", "pe_array.rows=64,128", "-q", "-j", "1", "--out", out)
		if code, _, errs := run(t, append(args, c.extra...)...); code != 0 {
			t.Fatalf("%s: exit %d %s", c.name, code, errs)
		}
		rows, _, err := sweep.ReadRows(filepath.Join(out, "results.jsonl"))
		if err != nil || len(rows) != 2 {
			t.Fatalf("%s: %d rows, %v", c.name, len(rows), err)
		}
		if rows[0].Error != "" {
			t.Errorf("%s: the fitting point failed: %s", c.name, rows[0].Error)
		}
		failed := strings.Contains(rows[1].Error, "does not fit xcvu9p")
		if failed != c.fail1 || (!c.fail1 && (rows[1].Error != "" || rows[1].Metrics == nil)) {
			t.Errorf("%s: point 1 error %q, want failed=%v", c.name, rows[1].Error, c.fail1)
		}
	}
}

// A GEMM sweep's base point is sized at the sweep's --seq and --phase, as
// 'run' sizes it. (Before, it was sized at the model's defaults: a sweep
// at a longer sequence or in training passed a limit its own run fails.)
func TestSweepMaxWorkSizesTheBasePoint(t *testing.T) {
	cfg, err := configs.Load(configs.DefaultName, nil)
	if err != nil {
		t.Fatal(err)
	}
	folds := func(model string, p workloads.Params, training bool) float64 {
		w, err := traces.LoadWorkload(model, p)
		if err != nil {
			t.Fatal(err)
		}
		if training {
			w = workloads.Training(w)
		}
		n, err := limits.Folds(cfg, w)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	dir := t.TempDir()
	for i, c := range []struct {
		model   string
		extra   []string
		at, def float64 // folds at the sweep's size and at the defaults
	}{
		{"bert-base", []string{"--seq", "512"}, folds("bert-base", workloads.Params{SeqLen: 512}, false), folds("bert-base", workloads.Params{}, false)},
		{"resnet18", []string{"--phase", "training"}, folds("resnet18", workloads.Params{}, true), folds("resnet18", workloads.Params{}, false)},
	} {
		limit := int64(c.at) - 1
		if c.def > float64(limit) {
			t.Fatalf("%s %v: %g folds at the defaults, not below %d: the case cannot tell the sizes apart", c.model, c.extra, c.def, limit)
		}
		args := append([]string{"sweep", "-w", c.model, "--grid", "pe_array.cols=32", "-q", "--out", filepath.Join(dir, fmt.Sprint(i)),
			"--max-work", fmt.Sprint(limit)}, c.extra...)
		code, _, errs := run(t, args...)
		size := fmt.Sprintf("%.0f is above", c.at) // as limits prints counts under 1e6
		if c.at >= 1e6 {
			size = fmt.Sprintf("%.3g is above", c.at)
		}
		if code != 2 || !strings.Contains(errs, "raise it with --max-work") || !strings.Contains(errs, size) {
			t.Errorf("%v: exit %d %q; want the %g-fold base point refused", args, code, errs, c.at)
		}
	}
}

// --max-work reaches 'run --breakdown', which simulates its workload once
// per technique (before, it skipped the check).
func TestBreakdownHonoursMaxWork(t *testing.T) {
	code, _, errs := run(t, "run", "-c", "spatten", "-w", "bert-base", "--seq", "16", "--breakdown", "--max-work", "5")
	if code != 2 || !strings.Contains(errs, "raise it with --max-work") {
		t.Errorf("exit %d %q", code, errs)
	}
}

// The Slurm shards check their sweep again, so the limits given at
// submission go into their job script (before, the shards checked at the
// defaults and refused a sweep submitted with a raised limit).
func TestSlurmShardsCarryTheLimits(t *testing.T) {
	dir := t.TempDir()
	base := []string{"sweep", "-w", "resnet18", "--grid", "pe_array.rows=16,32", "--slurm", "2", "--dry-run", "--out", filepath.Join(dir, "sl")}
	code, out, errs := run(t, append(base, "--max-work", "200000", "--max-points", "50")...)
	if code != 0 || !strings.Contains(out, "--max-work 200000") || !strings.Contains(out, "--max-points 50") {
		t.Errorf("raised limits: exit %d %s\n%s", code, errs, out)
	}
	if code, out, errs := run(t, base...); code != 0 || strings.Contains(out, "--max-") {
		t.Errorf("default limits: exit %d %s\n%s", code, errs, out)
	}
}
