package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/report"
)

// SlurmJob is a sweep laid out for Slurm: an array job of Shards tasks,
// task i running shard i/Shards with --resume into Dir/shard-i (so a
// requeued or resubmitted task continues where it stopped), and a merge job
// that starts when every task has succeeded (afterok) and joins them into
// Dir/merged. Dir/slurm holds the scripts, the logs, jobs.json (the job
// IDs) and the copy of the binary every job runs, so all shards run the
// same build even if the one on PATH changes mid-sweep.
type SlurmJob struct {
	Spec    Spec
	Points  int
	Shards  int
	Dir     string   // absolute
	WorkDir string   // absolute; the jobs run here, so relative config and workload paths resolve as at submission
	Exe     string   // the binary in the scripts (Dir/slurm/sparsesim once staged)
	Opts    []string // sbatch options for both jobs, one #SBATCH line each
	Jobs    int      // --jobs per shard; 0: the CPUs Slurm gives the task
	// Limits are the work-limit flags given at submission (--max-work N
	// ...): each shard checks its sweep again, and would otherwise do so
	// at the defaults.
	Limits []string
}

// SlurmIDs are the submitted jobs, saved as Dir/slurm/jobs.json.
type SlurmIDs struct {
	ArrayJob string `json:"array_job"`
	MergeJob string `json:"merge_job"`
	Shards   int    `json:"shards"`
}

// SlurmDir is where a Slurm sweep keeps its scripts, logs and job IDs.
func SlurmDir(dir string) string { return filepath.Join(dir, "slurm") }

// ShardDir is shard i's output directory.
func ShardDir(dir string, i int) string { return filepath.Join(dir, fmt.Sprintf("shard-%d", i)) }

// MergedDir is where the merge job writes the joined results.
func MergedDir(dir string) string { return filepath.Join(dir, "merged") }

// ParseSlurmOpts splits --slurm-opts ("--partition=batch --time=2:00:00
// --mem=4G") into sbatch options. Each must be one --long=value or -x
// option; a space inside a value is not supported (it would need a shell).
func ParseSlurmOpts(s string) ([]string, error) {
	var opts []string
	for _, f := range strings.Fields(s) {
		if !strings.HasPrefix(f, "-") {
			return nil, usererr.New("--slurm-opts %q: %q is not an sbatch option (write each as --name=value, e.g. --partition=batch --time=2:00:00 --mem=4G)", s, f)
		}
		for _, own := range []string{"--array", "-a", "--dependency", "-d", "--output", "-o", "--error", "-e", "--chdir", "-D", "--open-mode", "--parsable"} {
			if f == own || strings.HasPrefix(f, own+"=") || (len(own) == 2 && strings.HasPrefix(f, own) && len(f) > 2) {
				return nil, usererr.New("--slurm-opts: %s is set by sparsesim (array, dependency, output, working directory)", f)
			}
		}
		opts = append(opts, f)
	}
	return opts, nil
}

// Args are the sweep flags that reproduce the spec exactly (axes as their
// expanded value lists).
func (s Spec) Args() []string {
	args := []string{"--config", s.Config, "--workload", s.Workload}
	for _, set := range s.Sets {
		args = append(args, "--set", set)
	}
	for _, a := range s.Axes {
		args = append(args, "--grid", a.Key+"="+strings.Join(a.Values, ","))
	}
	if s.Zip {
		args = append(args, "--zip")
	}
	args = append(args, "--batch", strconv.Itoa(s.Batch))
	if IsLLMPhase(s.Phase) {
		// An LLM point reads --prompt and --gen and refuses --seq.
		args = append(args, "--prompt", strconv.Itoa(s.Prompt), "--gen", strconv.Itoa(s.Gen), "--phase", s.Phase)
	} else {
		args = append(args, "--seq", strconv.Itoa(s.Seq), "--phase", s.Phase)
	}
	if s.AllowOverfit {
		args = append(args, "--allow-overfit")
	}
	return append(args, "--objectives", strings.Join(s.Objectives, ","))
}

// shellQuote quotes s for bash unless it is plainly safe.
func shellQuote(s string) string {
	safe := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./=:,+@%", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func quoteAll(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

func (j SlurmJob) header(name, log string, extra ...string) string {
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	fmt.Fprintf(&b, "#SBATCH --job-name=%s\n", name)
	for _, e := range extra {
		fmt.Fprintf(&b, "#SBATCH %s\n", e)
	}
	fmt.Fprintf(&b, "#SBATCH --chdir=%s\n", j.WorkDir)
	fmt.Fprintf(&b, "#SBATCH --output=%s\n", filepath.Join(SlurmDir(j.Dir), "logs", log))
	b.WriteString("#SBATCH --open-mode=append\n") // a requeued task's log continues
	for _, o := range j.Opts {
		fmt.Fprintf(&b, "#SBATCH %s\n", o)
	}
	b.WriteString("set -euo pipefail\n")
	return b.String()
}

// ShardScript is the array job: task i runs shard i/Shards with --resume.
func (j SlurmJob) ShardScript() string {
	extra := []string{fmt.Sprintf("--array=0-%d", j.Shards-1)}
	jobs := `"${SLURM_CPUS_PER_TASK:-1}"`
	if j.Jobs > 0 {
		extra = append(extra, fmt.Sprintf("--cpus-per-task=%d", j.Jobs))
		jobs = strconv.Itoa(j.Jobs)
	}
	var b strings.Builder
	b.WriteString(j.header("sparsesim-sweep", "shard-%a.out", extra...))
	fmt.Fprintf(&b, "# %d points in %d shards; a requeued task resumes its shard.\n", j.Points, j.Shards)
	fmt.Fprintf(&b, "exec %s sweep %s \\\n  --jobs %s --quiet --resume \\\n  --shard \"${SLURM_ARRAY_TASK_ID}/%d\" \\\n  --out %s\"/shard-${SLURM_ARRAY_TASK_ID}\"\n",
		shellQuote(j.Exe), quoteAll(append(j.Spec.Args(), j.Limits...)), jobs, j.Shards, shellQuote(j.Dir))
	return b.String()
}

// MergeScript is the merge job, submitted with --dependency=afterok on the
// array job.
func (j SlurmJob) MergeScript() string {
	var b strings.Builder
	b.WriteString(j.header("sparsesim-merge", "merge.out"))
	fmt.Fprintf(&b, "exec %s merge --out %s", shellQuote(j.Exe), shellQuote(MergedDir(j.Dir)))
	for i := 0; i < j.Shards; i++ {
		fmt.Fprintf(&b, " \\\n  %s", shellQuote(ShardDir(j.Dir, i)))
	}
	b.WriteString("\n")
	return b.String()
}

// Submit stages the binary and the scripts in Dir/slurm and submits the
// array job, then the merge job depending on it. A missing sbatch or a
// refused submission is a one-line user error.
func (j SlurmJob) Submit(sbatch string) (SlurmIDs, error) {
	ids := SlurmIDs{Shards: j.Shards}
	path, err := exec.LookPath(sbatch)
	if err != nil {
		return ids, usererr.New("--slurm: %s not found on PATH; run on a Slurm login node, or use --dry-run to print the job scripts", sbatch)
	}
	sd := SlurmDir(j.Dir)
	if err := os.MkdirAll(filepath.Join(sd, "logs"), 0o755); err != nil {
		return ids, usererr.New("--out %s: %v", j.Dir, err)
	}
	staged := filepath.Join(sd, "sparsesim")
	if err := copyExecutable(j.Exe, staged); err != nil {
		return ids, err
	}
	j.Exe = staged
	man, _ := json.MarshalIndent(Manifest{Spec: j.Spec, Points: j.Points, Shard: fmt.Sprintf("slurm %d", j.Shards)}, "", "  ")
	shards, merge := filepath.Join(sd, "shards.sbatch"), filepath.Join(sd, "merge.sbatch")
	for _, f := range []struct {
		path string
		data []byte
	}{{filepath.Join(sd, "sweep.json"), append(man, '\n')}, {shards, []byte(j.ShardScript())}, {merge, []byte(j.MergeScript())}} {
		if err := report.WriteFileAtomic(f.path, f.data); err != nil {
			return ids, err
		}
	}
	if ids.ArrayJob, err = runSbatch(path, shards); err != nil {
		return ids, err
	}
	if ids.MergeJob, err = runSbatch(path, "--dependency=afterok:"+ids.ArrayJob, "--kill-on-invalid-dep=yes", merge); err != nil {
		return ids, usererr.New("%v (array job %s was submitted; cancel it with: scancel %s)", err, ids.ArrayJob, ids.ArrayJob)
	}
	b, _ := json.MarshalIndent(ids, "", "  ")
	return ids, report.WriteFileAtomic(filepath.Join(sd, "jobs.json"), append(b, '\n'))
}

func runSbatch(sbatch string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(sbatch, append([]string{"--parsable"}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	script := args[len(args)-1]
	if err := cmd.Run(); err != nil {
		return "", usererr.New("--slurm: sbatch refused %s: %s", script, firstLine(stderr.String(), err.Error()))
	}
	// --parsable prints "jobid" or "jobid;cluster".
	id, _, _ := strings.Cut(strings.TrimSpace(stdout.String()), ";")
	if _, err := strconv.Atoi(id); err != nil {
		return "", usererr.New("--slurm: sbatch %s printed %q, not a job ID", script, strings.TrimSpace(stdout.String()))
	}
	return id, nil
}

func firstLine(s, fallback string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return fallback
}

func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("staging the sparsesim binary: %v", err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".sparsesim.tmp*")
	if err != nil {
		return err
	}
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// ShardState is one shard directory's progress.
type ShardState struct {
	Shard                           string // "i/n"
	Dir                             string
	Started                         bool // the directory holds a sweep
	Points, Done, Failed, Remaining int
}

// SweepStatus is what `sweep status` reports.
type SweepStatus struct {
	Dir          string
	Points       int
	Shards       []ShardState
	Done, Failed int
	Merged       int // rows in Dir/merged, -1 when not merged yet
	Jobs         *SlurmIDs
}

// Status reads a --slurm output directory (or any directory of shard-*
// directories, or one sweep directory) and counts each shard's points done,
// failed and remaining, streaming the rows.
func Status(dir string) (SweepStatus, error) {
	st := SweepStatus{Dir: dir, Merged: -1}
	var ids SlurmIDs
	if b, err := os.ReadFile(filepath.Join(SlurmDir(dir), "jobs.json")); err == nil {
		if err := json.Unmarshal(b, &ids); err != nil {
			return st, usererr.New("%s: %v", filepath.Join(SlurmDir(dir), "jobs.json"), err)
		}
		st.Jobs = &ids
	}
	var dirs []string
	nShards := ids.Shards
	if m, err := readManifest(filepath.Join(SlurmDir(dir), "sweep.json")); err == nil {
		st.Points = m.Points
		if nShards == 0 {
			fmt.Sscanf(m.Shard, "slurm %d", &nShards)
		}
	}
	if nShards > 0 {
		for i := 0; i < nShards; i++ {
			dirs = append(dirs, ShardDir(dir, i))
		}
	} else if found, _ := filepath.Glob(filepath.Join(dir, "shard-*")); len(found) > 0 {
		sort.Slice(found, func(a, b int) bool { return shardNum(found[a]) < shardNum(found[b]) })
		dirs = found
	} else if _, err := os.Stat(filepath.Join(dir, "sweep.json")); err == nil {
		dirs = []string{dir}
	} else {
		return st, usererr.New("sweep status %s: no sweep here (no slurm/jobs.json, shard-* directories or sweep.json)", dir)
	}
	for i, d := range dirs {
		s := ShardState{Dir: d, Shard: fmt.Sprintf("%d/%d", i, len(dirs))}
		if m, err := readManifest(filepath.Join(d, "sweep.json")); err == nil {
			s.Started, s.Shard = true, m.Shard
			st.Points = m.Points
			var sh Shard
			fmt.Sscanf(m.Shard, "%d/%d", &sh.I, &sh.N)
			if sh.N > 0 {
				s.Points = sh.Count(m.Points)
			}
			if _, err := scanRows(filepath.Join(d, "results.jsonl"), func(r Row, _ int64, _ int) error {
				if r.Error != "" {
					s.Failed++
				} else {
					s.Done++
				}
				return nil
			}); err != nil && !os.IsNotExist(err) {
				return st, err
			}
		} else if st.Points > 0 {
			s.Points = Shard{i, len(dirs)}.Count(st.Points)
		}
		s.Remaining = s.Points - s.Done - s.Failed
		st.Done += s.Done
		st.Failed += s.Failed
		st.Shards = append(st.Shards, s)
	}
	if _, err := os.Stat(filepath.Join(MergedDir(dir), "results.jsonl")); err == nil && nShards > 0 {
		st.Merged = 0
		if _, err := scanRows(filepath.Join(MergedDir(dir), "results.jsonl"), func(Row, int64, int) error { st.Merged++; return nil }); err != nil {
			return st, err
		}
	}
	return st, nil
}

func shardNum(path string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(path), "shard-"))
	if err != nil {
		return 1 << 30
	}
	return n
}

// Write prints the status as a table (80 columns), then the Slurm side:
// squeue's view of the jobs when squeue is on PATH.
func (st SweepStatus) Write(w io.Writer, squeue string) error {
	fmt.Fprintf(w, "sweep %s: %d points in %d shard(s)\n", st.Dir, st.Points, len(st.Shards))
	tb := report.NewTable(w)
	tb.Header("shard", "directory", "points", "done", "failed", "remaining")
	for _, s := range st.Shards {
		rel, err := filepath.Rel(st.Dir, s.Dir)
		if err != nil {
			rel = s.Dir
		}
		if !s.Started {
			rel += " (not started)"
		}
		_ = tb.Append(s.Shard, rel, s.Points, s.Done, s.Failed, s.Remaining)
	}
	_ = tb.Append("total", "", st.Points, st.Done, st.Failed, st.Points-st.Done-st.Failed)
	if err := tb.Render(); err != nil {
		return err
	}
	switch {
	case st.Merged >= 0:
		fmt.Fprintf(w, "merged: %s (%d rows)\n", MergedDir(st.Dir), st.Merged)
	case st.Jobs != nil:
		fmt.Fprintln(w, "merged: not yet")
	}
	if st.Jobs == nil {
		return nil
	}
	fmt.Fprintf(w, "slurm: array job %s (%d tasks), merge job %s\n", st.Jobs.ArrayJob, st.Jobs.Shards, st.Jobs.MergeJob)
	path, err := exec.LookPath(squeue)
	if err != nil {
		fmt.Fprintf(w, "slurm: %s not on PATH, job states unknown\n", squeue)
		return nil
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(path, "--noheader", "--array", "--states=all", "--jobs", st.Jobs.ArrayJob+","+st.Jobs.MergeJob, "--format", "%i %T %R")
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(w, "slurm: squeue: %s (jobs that finished long ago leave the queue)\n", firstLine(errb.String(), err.Error()))
		return nil
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) == 1 && lines[0] == "" {
		fmt.Fprintln(w, "slurm: the jobs are no longer in the queue (Slurm forgets finished jobs after MinJobAge)")
		return nil
	}
	for _, l := range lines {
		fmt.Fprintf(w, "  %s\n", l)
	}
	return nil
}
