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

// fakeSbatch puts a stand-in sbatch on PATH (and nothing else, so squeue is
// absent): it logs its arguments and prints job IDs 101, 102, ... in
// --parsable form, or with refuse fails as sbatch does on a bad partition.
// It tests how the CLI handles sbatch's answers; make test-cluster runs
// the real Slurm.
func fakeSbatch(t *testing.T, refuse bool) (logPath string) {
	dir := t.TempDir()
	script := `#!/bin/sh
echo "$*" >> "$0.log"
read n < "$0.count" || n=100
n=$((n + 1))
echo $n > "$0.count"
echo "$n;testcluster"
`
	if refuse {
		script = "#!/bin/sh\necho 'sbatch: error: Batch job submission failed: Invalid partition name specified' >&2\nexit 1\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "sbatch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	return filepath.Join(dir, "sbatch.log")
}

const tinyTopo = "../../../shared/reference/scalesim/test_mnk_input.csv"

func slurmArgs(out string, extra ...string) []string {
	return append([]string{"sweep", "-w", tinyTopo, "--grid", "pe_array.rows=8,16", "--grid", "dataflow=os,ws",
		"--set", "dram.model=ideal", "--out", out}, extra...)
}

// --dry-run prints both scripts and writes nothing; the sweep flags in the
// array script reproduce the sweep: run locally, they give the same
// sweep.json as the original flags.
func TestSweepSlurmDryRun(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "sw")
	code, stdout, errs := run(t, slurmArgs(out, "--slurm", "2", "--slurm-opts", "--time=00:10:00 --mem=1G", "--dry-run")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"#SBATCH --array=0-1", "#SBATCH --time=00:10:00", "#SBATCH --mem=1G", "--resume",
		`--shard "${SLURM_ARRAY_TASK_ID}/2"`, "afterok", "merge --out " + filepath.Join(out, "merged"), filepath.Join(out, "shard-1")} {
		if !strings.Contains(stdout, want) {
			t.Errorf("dry run lacks %q:\n%s", want, stdout)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("--dry-run created the output directory")
	}
	_, after, _ := strings.Cut(stdout, " sweep ")
	flags, _, _ := strings.Cut(after, " \\")
	local := filepath.Join(dir, "local")
	if code, _, errs := run(t, append(append([]string{"sweep"}, strings.Fields(flags)...), "-q", "--out", local)...); code != 0 {
		t.Fatalf("the script's sweep flags: exit %d %s", code, errs)
	}
	orig := filepath.Join(dir, "orig")
	if code, _, errs := run(t, append(slurmArgs(orig), "-q")...); code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	a, _ := os.ReadFile(filepath.Join(local, "sweep.json"))
	b, _ := os.ReadFile(filepath.Join(orig, "sweep.json"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("the script's flags make a different sweep:\n%s\nvs\n%s", a, b)
	}
}

// Submission: the array job, then the merge job with afterok on its ID;
// job IDs printed and saved; status before any shard ran; resubmitting
// needs --resume.
func TestSweepSlurmSubmit(t *testing.T) {
	log := fakeSbatch(t, false)
	out := filepath.Join(t.TempDir(), "sw")
	code, stdout, errs := run(t, slurmArgs(out, "--slurm", "2", "--slurm-opts", "--partition=debug")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(stdout, "submitted array job 101 (2 shards, 4 points) and merge job 102 (afterok:101)") {
		t.Errorf("output: %s", stdout)
	}
	calls, _ := os.ReadFile(log)
	lines := strings.Split(strings.TrimSpace(string(calls)), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "slurm/shards.sbatch") ||
		!strings.Contains(lines[1], "--dependency=afterok:101") || !strings.HasSuffix(lines[1], "slurm/merge.sbatch") {
		t.Errorf("sbatch calls: %q", lines)
	}
	for _, f := range []string{"shards.sbatch", "merge.sbatch", "jobs.json", "sweep.json", "sparsesim"} {
		if st, err := os.Stat(filepath.Join(out, "slurm", f)); err != nil || st.Size() == 0 {
			t.Errorf("slurm/%s missing", f)
		}
	}
	script, _ := os.ReadFile(filepath.Join(out, "slurm", "shards.sbatch"))
	if !strings.Contains(string(script), "#SBATCH --partition=debug") || !strings.Contains(string(script), "exec "+filepath.Join(out, "slurm", "sparsesim")+" sweep") {
		t.Errorf("shards.sbatch:\n%s", script)
	}
	code, stdout, errs = run(t, "sweep", "status", out)
	if code != 0 {
		t.Fatalf("status: exit %d %s", code, errs)
	}
	for _, want := range []string{"4 points in 2 shard(s)", "shard-0 (not started)", "merged: not yet", "array job 101 (2 tasks), merge job 102", "squeue not on PATH"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, stdout)
		}
	}
	if code, _, errs := run(t, slurmArgs(out, "--slurm", "2")...); code != 2 || !strings.Contains(errs, "--resume") {
		t.Errorf("resubmission without --resume: exit %d %s", code, errs)
	}
	if code, _, errs := run(t, slurmArgs(out, "--slurm", "2", "--resume")...); code != 0 {
		t.Errorf("resubmission with --resume: exit %d %s", code, errs)
	}
}

// Slurm's refusals and bad --slurm flags are one line each, exit 2.
func TestSweepSlurmErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "sw")
	fakeSbatch(t, true)
	code, _, errs := run(t, slurmArgs(out, "--slurm", "2")...)
	if code != 2 || !strings.Contains(errs, "sbatch refused") || !strings.Contains(errs, "Invalid partition name specified") || strings.Count(errs, "\n") != 1 {
		t.Errorf("refused submission: exit %d %q", code, errs)
	}
	t.Setenv("PATH", t.TempDir())
	code, _, errs = run(t, slurmArgs(filepath.Join(dir, "sw2"), "--slurm", "2")...)
	if code != 2 || !strings.Contains(errs, "sbatch not found on PATH") || strings.Count(errs, "\n") != 1 {
		t.Errorf("no sbatch: exit %d %q", code, errs)
	}
	for _, extra := range [][]string{
		{"--slurm", "2", "--slurm-opts", "partition=debug"},
		{"--slurm", "2", "--slurm-opts", "--array=0-9"},
		{"--dry-run"},
		{"--slurm", "-1"},
		{"--slurm", "5"}, // more shards than the 4 points
		{"--slurm", "2", "--shard", "0/2"},
	} {
		if code, _, errs := run(t, slurmArgs(filepath.Join(dir, "sw3"), extra...)...); code != 2 || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d %q, want exit 2 and one line", extra, code, errs)
		}
	}
	if code, _, _ := run(t, "sweep", "status", filepath.Join(dir, "nothing")); code != 2 {
		t.Errorf("status of an empty directory: exit %d, want 2", code)
	}
}

func llmSweepArgs(out string, extra ...string) []string {
	return append([]string{"sweep", "-c", "llm-128x128", "-w", "llama-3.2-1b", "--phase", "decode", "--prompt", "256", "--gen", "2",
		"--set", "kv_sparsity.method=quest", "--set", "kv_sparsity.sample_steps=1", "--grid", "kv_sparsity.budget=64,128",
		"-q", "--out", out}, extra...)
}

// An LLM sweep writes its LLM metrics and energy, leaves the systolic-only
// columns empty, takes them as objectives (tokens_per_second maximised) and
// draws the energy plot as a GEMM sweep does.
func TestLLMSweepCLI(t *testing.T) {
	out := filepath.Join(t.TempDir(), "llm")
	code, stdout, errs := run(t, llmSweepArgs(out, "--objectives", "tokens_per_second,mass_lost")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(stdout, "Pareto front over max tokens_per_second, min mass_lost") ||
		!strings.Contains(stdout, "energy_breakdown.png, pareto.png\n") {
		t.Errorf("output:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(out, "energy_breakdown.png")); err != nil {
		t.Errorf("energy_breakdown.png: %v", err)
	}
	if st, err := os.Stat(filepath.Join(out, "pareto.png")); err != nil || st.Size() < 1000 {
		t.Errorf("pareto.png: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(out, "results.csv"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	header := strings.Split(lines[0], ",")
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, row := range lines[1:] {
		cells := strings.Split(row, ",")
		for _, k := range []string{"stall_cycles", "utilization", "gops", "ttft_seconds"} {
			if c := cells[col[k]]; c != "" {
				t.Errorf("%s = %q in %s", k, c, row)
			}
		}
		for _, k := range []string{"tpot_seconds", "tokens_per_second", "mass_lost", "energy_pj", "energy_per_token_pj", "energy_dram_pj"} {
			if _, ok := col[k]; !ok || cells[col[k]] == "" {
				t.Errorf("%s empty in %s", k, row)
			}
		}
	}
}

// An LLM sweep submits to Slurm as a GEMM sweep does (it was refused when
// the job scripts dropped --prompt and --gen): both jobs go to sbatch and
// the array script carries the LLM sizes.
func TestLLMSweepSubmitsToSlurm(t *testing.T) {
	log := fakeSbatch(t, false)
	out := filepath.Join(t.TempDir(), "sw")
	code, stdout, errs := run(t, llmSweepArgs(out, "--slurm", "2", "--slurm-opts", "--mem=1G")...)
	if code != 0 || !strings.Contains(stdout, "submitted array job 101 (2 shards, 2 points) and merge job 102") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, errs)
	}
	calls, _ := os.ReadFile(log)
	if n := strings.Count(string(calls), "\n"); n != 2 {
		t.Errorf("%d sbatch calls:\n%s", n, calls)
	}
	script, _ := os.ReadFile(filepath.Join(out, "slurm", "shards.sbatch"))
	for _, want := range []string{"--prompt 256 --gen 2 --phase decode", "#SBATCH --mem=1G", "--objectives seconds,mass_lost"} {
		if !strings.Contains(string(script), want) {
			t.Errorf("shards.sbatch lacks %q:\n%s", want, script)
		}
	}
}
