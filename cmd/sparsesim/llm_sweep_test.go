package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/sweep"
)

// An LLM sweep over batch and prompt: every row's LLM figures are those of
// 'run' at the same point, to the bit (the row is the run's report read
// through the same code), and the axes are the CSV's parameter columns.
func TestLLMSweepOverBatchAndPromptMatchesRuns(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sw")
	code, _, errs := run(t, "sweep", "-c", "llm-128x128", "-w", "gpt2-small", "--phase", "generate", "--gen", "3",
		"--grid", "batch=1,2", "--grid", "prompt=16,32", "-q", "-j", "2", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	rows, _, err := sweep.ReadRows(filepath.Join(out, "results.jsonl"))
	if err != nil || len(rows) != 4 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	csv, _ := os.ReadFile(filepath.Join(out, "results.csv"))
	if !strings.HasPrefix(string(csv), "point,batch,prompt,") {
		t.Errorf("CSV header: %.60s", csv)
	}
	for _, r := range rows {
		if r.Error != "" || r.Metrics == nil {
			t.Fatalf("point %d: %s", r.Point, r.Error)
		}
		code, stdout, errs := run(t, "run", "-c", "llm-128x128", "-w", "gpt2-small", "--phase", "generate", "--gen", "3",
			"--batch", r.Params["batch"], "--prompt", r.Params["prompt"], "-f", "json")
		if code != 0 {
			t.Fatalf("run %v: exit %d: %s", r.Params, code, errs)
		}
		var rep struct {
			LLM map[string]any `json:"llm"`
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		m := r.Metrics.All()
		for _, k := range []string{"ttft_seconds", "tpot_seconds", "tokens_per_second", "energy_pj", "energy_per_token_pj"} {
			if want, ok := rep.LLM[k].(float64); !ok || m[k] != want {
				t.Errorf("point %v: %s sweep %v, run %v", r.Params, k, m[k], rep.LLM[k])
			}
		}
		if got, want := m["seconds"], rep.LLM["tpot_seconds"]; got != want {
			t.Errorf("point %v: seconds %v, run's TPOT %v", r.Params, got, want)
		}
	}
}

// A run axis of the other kind of point is refused, exit 2, naming it; a
// size axis must hold sizes.
func TestSweepRefusesWrongKindAxis(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep", "-w", tinyTopo, "--grid", "prompt=16,32", "--out", filepath.Join(dir, "a")}, "--grid prompt: applies to LLM sweeps only"},
		{[]string{"sweep", "-w", tinyTopo, "--grid", "gen=2", "--out", filepath.Join(dir, "b")}, "--grid gen: applies to LLM sweeps only"},
		{[]string{"sweep", "-c", "llm-128x128", "-w", "gpt2-small", "--phase", "decode", "--grid", "batch=0,1", "--out", filepath.Join(dir, "c")}, "positive integer"},
		{[]string{"sweep", "-c", "llm-128x128", "--phase", "decode", "--grid", "workload=gpt2-small,resnet18", "--out", filepath.Join(dir, "d")}, "resnet18"},
	} {
		code, _, errs := run(t, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%v: exit %d %q, want exit 2 with %q", c.args, code, errs, c.want)
		}
	}
}

// --slurm works for LLM sweeps: the array script's flags carry --prompt,
// --gen and the run axes, and run locally they make the same sweep.
func TestLLMSweepSlurmDryRun(t *testing.T) {
	dir := t.TempDir()
	args := []string{"sweep", "-c", "llm-128x128", "-w", "gpt2-small", "--phase", "decode", "--prompt", "16", "--gen", "2",
		"--grid", "batch=1,2", "--grid", "workload=gpt2-small"}
	code, stdout, errs := run(t, append(args, "--slurm", "2", "--dry-run", "--out", filepath.Join(dir, "sw"))...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"--prompt 16 --gen 2 --phase decode", "--grid batch=1,2", "--grid workload=gpt2-small"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("dry run lacks %q:\n%s", want, stdout)
		}
	}
	_, after, _ := strings.Cut(stdout, " sweep ")
	flags, _, _ := strings.Cut(after, " \\")
	local := filepath.Join(dir, "local")
	if code, _, errs := run(t, append(append([]string{"sweep"}, strings.Fields(flags)...), "-q", "--out", local)...); code != 0 {
		t.Fatalf("the script's sweep flags: exit %d %s", code, errs)
	}
	orig := filepath.Join(dir, "orig")
	if code, _, errs := run(t, append(args, "-q", "--out", orig)...); code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	for _, f := range []string{"sweep.json", "results.csv"} {
		a, _ := os.ReadFile(filepath.Join(local, f))
		b, _ := os.ReadFile(filepath.Join(orig, f))
		if len(a) == 0 || string(a) != string(b) {
			t.Errorf("%s: the script's flags make a different sweep:\n%s\nvs\n%s", f, a, b)
		}
	}
}
