package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/limits"
	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/sweep"
	"github.com/sparsesim/sparsesim/traces"
	"github.com/sparsesim/sparsesim/workloads"
)

func newSweepCmd() *cobra.Command {
	var (
		spec          sweep.Spec
		grids         []string
		out, shard    string
		jobs          int
		resume, quiet bool
		objectives    string
		slurm         int
		slurmOpts     string
		dryRun        bool
		maxPoints     int64
		maxWork       int64
		maxKernelMACs int64
	)
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Run a design-space sweep: every point of a grid of config overrides, in parallel, resumable, shardable, on Slurm",
		Long: `Run a design-space sweep. Each --grid key=values axis overrides one config
field (values: a list, or ranges lo:hi:x2 and lo:hi:+4); axes combine as a
cartesian product, or pairwise with --zip. Every point is a full simulation.
Results go to --out DIR: results.jsonl and results.csv (appended point by point,
then sorted), pareto.csv, sweep.json, and default plots. docs/sweep.md.

--slurm N submits the sweep to Slurm instead: an array job of N shards (each
with --resume, so requeued tasks continue) and a merge job that runs after
all of them succeed (afterok) into DIR/merged. 'sparsesim sweep status DIR'
shows progress. docs/cluster/README.md.`,
		Example: `  sparsesim sweep -w resnet50 --grid pe_array.rows=8:128:x2 --grid pe_array.cols=8:128:x2 --out sw
  sparsesim sweep -c sat-vcu1525 -w resnet18 --phase training --grid sparsity.nm=dense,2:4,2:8 --out nm
  sparsesim sweep ... --shard 1/4      # one of four cluster jobs; then: sparsesim merge --out all sw0 sw1 sw2 sw3
  sparsesim sweep ... --slurm 16 --slurm-opts "--partition=batch --time=2:00:00 --mem=2G" --out big
  sparsesim sweep status big`,
		Args: cobra.NoArgs,
		RunE: userRunE(func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usererr.New("--out DIR is required")
			}
			if spec.Phase != "inference" && spec.Phase != "training" && !sweep.IsLLMPhase(spec.Phase) {
				return usererr.New("--phase %s: unknown phase (allowed: inference, training, decode, generate)", spec.Phase)
			}
			for _, g := range grids {
				a, err := sweep.ParseAxis(g)
				if err != nil {
					return err
				}
				if err := sweep.CheckAxis(a, spec.Phase); err != nil {
					return err
				}
				spec.Axes = append(spec.Axes, a)
			}
			grid, err := sweep.NewGrid(spec.Axes, spec.Zip)
			if err != nil {
				return err
			}
			sh, err := sweep.ParseShard(shard)
			if err != nil {
				return err
			}
			for _, w := range sweepWorkloads(spec) {
				if err := checkSeq(spec.Seq, w, ""); err != nil {
					return err
				}
			}
			if jobs < 1 {
				return usererr.New("--jobs must be at least 1, got %d", jobs)
			}
			if sweep.IsLLMPhase(spec.Phase) {
				if err := refuseLLMLimits(cmd, spec.Phase); err != nil {
					return err
				}
				if err := prepareLLMSweep(cmd, &spec, grid, objectives, maxPoints); err != nil {
					return err
				}
				if slurm != 0 || dryRun || slurmOpts != "" {
					var lim []string
					if fl := cmd.Flags().Lookup("max-points"); fl.Changed {
						lim = append(lim, "--max-points", fl.Value.String())
					}
					return submitSlurm(cmd, spec, grid.Len(), out, slurm, slurmOpts, slurmJobs(cmd, jobs), shard != "", resume, dryRun, lim)
				}
				return runSweep(cmd, spec, out, jobs, resume, sh, quiet)
			}
			if err := refuseLLMOnly(cmd, spec.Phase, "decode or generate", "prompt", "gen"); err != nil {
				return err
			}
			pts, err := sweep.Points(spec.Axes, spec.Zip)
			if err != nil {
				return err
			}
			if err := limits.Points.Check("sweep", float64(len(pts)), maxPoints); err != nil {
				return err
			}
			if err := sweep.CheckNotRead(spec, pts); err != nil {
				return err
			}
			// Check the base config and every workload once, so a typo
			// fails fast with exit 2 instead of failing every point.
			cfg, err := baseConfig(spec, pts)
			if err != nil {
				return err
			}
			// The largest batch a point runs: the limits bound the
			// biggest base point.
			batch := spec.Batch
			for _, a := range spec.Axes {
				if a.Key == sweep.AxisBatch {
					for _, v := range a.Values {
						n, _ := strconv.Atoi(v) // CheckAxis: a positive integer
						batch = max(batch, n)
					}
				}
			}
			for _, wl := range sweepWorkloads(spec) {
				w, err := traces.LoadWorkloadName(cfg, wl)
				if err != nil {
					return err
				}
				// Attention workloads compute their kernels at every point.
				if err := limits.CheckKernels(cfg, wl, workloads.Params{Batch: batch, SeqLen: spec.Seq}, maxKernelMACs); err != nil {
					return err
				}
				if len(w.Attention) == 0 && len(w.Layers) == 0 {
					// An attention-engine zoo model: its rows come from
					// each point's kernels, unknown until they run.
					if cmd.Flags().Changed("max-work") {
						return usererr.New("--max-work does not apply to --workload %s on %s: an attention engine's rows come from each point's reference kernels, so they are not counted up front; --max-kernel-macs bounds those", wl, cfg.Name)
					}
					continue
				}
				// The base point's size at the sweep's --seq and largest
				// batch (a point's own array may make it larger; points
				// are not checked again).
				base, err := traces.LoadFor(cfg, wl, workloads.Params{Batch: batch, SeqLen: spec.Seq})
				if err != nil {
					return err
				}
				if spec.Phase == "training" {
					base = workloads.Training(base)
				}
				if err := limits.CheckRun(cfg, base, maxWork); err != nil {
					return err
				}
			}
			if objectives == "" {
				spec.Objectives = sweep.DefaultObjectives(cfg.FPGA.Device != "")
			} else {
				spec.Objectives = strings.Split(objectives, ",")
			}
			if err := sweep.CheckObjectives(spec.Objectives); err != nil {
				return err
			}
			if slurm != 0 || dryRun || slurmOpts != "" {
				// The shards check their sweep again: carry raised limits.
				var lim []string
				for _, f := range []string{"max-points", "max-work", "max-kernel-macs"} {
					if fl := cmd.Flags().Lookup(f); fl.Changed {
						lim = append(lim, "--"+f, fl.Value.String())
					}
				}
				return submitSlurm(cmd, spec, grid.Len(), out, slurm, slurmOpts, slurmJobs(cmd, jobs), shard != "", resume, dryRun, lim)
			}
			return runSweep(cmd, spec, out, jobs, resume, sh, quiet)
		}),
	}
	fl := cmd.Flags()
	fl.StringVarP(&spec.Config, "config", "c", configs.DefaultName, "architecture: embedded name, YAML path or SCALE-Sim .cfg")
	fl.StringVarP(&spec.Workload, "workload", "w", traces.DefaultWorkload, "zoo model or workload file")
	fl.StringArrayVar(&spec.Sets, "set", nil, "override a config field for every point (repeatable)")
	fl.StringArrayVar(&grids, "grid", nil, "an axis: key=v1,v2,... or key=lo:hi:x2 or key=lo:hi:+4 (repeatable)")
	fl.BoolVar(&spec.Zip, "zip", false, "pair the axes (i-th values together) instead of the cartesian product")
	fl.IntVar(&spec.Batch, "batch", 1, "batch size")
	fl.IntVar(&spec.Seq, "seq", 0, "transformer sequence length (0: model default)")
	fl.StringVar(&spec.Phase, "phase", "inference", "inference, training, or an LLM decode or generate (with --prompt, --gen; docs/kv-sparsity.md)")
	fl.IntVar(&spec.Prompt, "prompt", 512, "LLM phases: prompt tokens per sequence")
	fl.IntVar(&spec.Gen, "gen", 128, "LLM phases: tokens generated per sequence")
	fl.BoolVar(&spec.AllowOverfit, "allow-overfit", false, "simulate FPGA points, LLM ones included, that do not fit their device (else they are recorded as failed)")
	fl.StringVarP(&out, "out", "o", "", "output directory")
	fl.IntVarP(&jobs, "jobs", "j", defaultJobs(), "points simulated in parallel (with --slurm: per shard; default the CPUs Slurm gives a task)")
	fl.BoolVar(&resume, "resume", false, "continue the sweep in --out, skipping points already recorded (with --slurm: resubmit into a directory that has jobs)")
	fl.StringVar(&shard, "shard", "", "run only shard i/n of the points (for cluster job arrays); join with 'sparsesim merge'")
	fl.StringVar(&objectives, "objectives", "", "Pareto front metrics, comma-separated; rates, speedups and recall maximised, the rest minimised (default cycles,energy_pj; FPGA: cycles,lut,dsp; docs/sweep.md)")
	fl.BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	fl.IntVar(&slurm, "slurm", 0, "submit to Slurm as an array job of N shards plus an afterok merge job (into --out)")
	fl.StringVar(&slurmOpts, "slurm-opts", "", `sbatch options for both jobs, e.g. "--partition=batch --time=2:00:00 --mem=2G"`)
	fl.BoolVar(&dryRun, "dry-run", false, "with --slurm: print the job scripts, submit nothing")
	cmd.AddCommand(newSweepStatusCmd())
	fl.Int64Var(&maxPoints, "max-points", limits.Points.Default, "refuse sweeps of more points than this (docs/limits.md)")
	fl.Int64Var(&maxKernelMACs, "max-kernel-macs", limits.KernelMACs.Default, "refuse attention workloads whose reference kernels need more MACs than this, per point; not for LLM phases (docs/limits.md)")
	fl.Int64Var(&maxWork, "max-work", limits.Work.Default, "refuse a sweep whose base point runs more folds than this; not for LLM phases (docs/limits.md)")
	return cmd
}

// baseConfig is the sweep's configuration without its axes, checked once
// up front. A key given in --set that only the grid's values make read
// (kv_sparsity.budget with kv_sparsity.method on the grid) is refused
// without them; CheckNotRead has passed every point, so the first point
// stands for the base then.
func baseConfig(spec sweep.Spec, pts []sweep.Point) (*configs.Config, error) {
	cfg, err := configs.Load(spec.Config, spec.Sets)
	if configs.IsNotRead(err) && len(pts) > 0 {
		sets := append([]string(nil), spec.Sets...)
		for _, kv := range pts[0].Params {
			if strings.Contains(kv.Key, ".") { // a config path, not a run axis (batch, prompt, ...)
				sets = append(sets, kv.Key+"="+kv.Value)
			}
		}
		return configs.Load(spec.Config, sets)
	}
	return cfg, err
}

// sweepWorkloads are the workloads a sweep's points run: the workload
// axis's values, else --workload.
func sweepWorkloads(spec sweep.Spec) []string {
	for _, a := range spec.Axes {
		if a.Key == sweep.AxisWorkload {
			return a.Values
		}
	}
	return []string{spec.Workload}
}

// slurmJobs is --jobs per shard when given, else 0: each shard uses the
// CPUs Slurm gives its task.
func slurmJobs(cmd *cobra.Command, jobs int) int {
	if cmd.Flags().Changed("jobs") {
		return jobs
	}
	return 0
}

// sbatchName and squeueName are the Slurm commands looked up on PATH
// (tests point PATH at stand-ins to make sbatch refuse).
const sbatchName, squeueName = "sbatch", "squeue"

// submitSlurm writes the array and merge job scripts and submits them, or
// with dryRun prints them.
func submitSlurm(cmd *cobra.Command, spec sweep.Spec, points int, out string, shards int, opts string, jobs int, sharded, resume, dryRun bool, limitArgs []string) error {
	if shards < 1 {
		return usererr.New("--slurm N: N shards must be at least 1 (--dry-run and --slurm-opts need --slurm)")
	}
	if sharded {
		return usererr.New("--slurm and --shard together: --slurm makes the shards itself")
	}
	if shards > points {
		return usererr.New("--slurm %d: more shards than the grid's %d points", shards, points)
	}
	if shards > 10000 {
		return usererr.New("--slurm %d: more than 10000 array tasks (a common MaxArraySize); use fewer shards", shards)
	}
	o, err := sweep.ParseSlurmOpts(opts)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(out)
	if err != nil {
		return usererr.New("--out %s: %v", out, err)
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	for _, p := range []string{dir, wd} {
		if strings.ContainsAny(p, " \t\n'\"\\$`") {
			return usererr.New("--slurm: %q has a space or shell character, which #SBATCH lines cannot quote; use a plain path for --out and the working directory", p)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("locating the sparsesim binary to stage for the jobs: %v", err)
	}
	job := sweep.SlurmJob{Spec: spec, Points: points, Shards: shards, Dir: dir, WorkDir: wd, Exe: filepath.Join(sweep.SlurmDir(dir), "sparsesim"), Opts: o, Jobs: jobs, Limits: limitArgs}
	w := cmd.OutOrStdout()
	if dryRun {
		fmt.Fprintf(w, "# %s (array job: %d shards of %d points)\n%s\n# %s (after the array job succeeds: sbatch --dependency=afterok:ARRAY_ID)\n%s",
			filepath.Join(sweep.SlurmDir(dir), "shards.sbatch"), shards, points, job.ShardScript(),
			filepath.Join(sweep.SlurmDir(dir), "merge.sbatch"), job.MergeScript())
		return nil
	}
	if _, err := os.Stat(filepath.Join(sweep.SlurmDir(dir), "jobs.json")); err == nil && !resume {
		return usererr.New("--out %s already holds a submitted Slurm sweep: pass --resume to resubmit it (shards continue where they stopped), or choose another --out", out)
	}
	job.Exe = exe
	ids, err := job.Submit(sbatchName)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "submitted array job %s (%d shards, %d points) and merge job %s (afterok:%s)\n", ids.ArrayJob, shards, points, ids.MergeJob, ids.ArrayJob)
	fmt.Fprintf(w, "output: %s (shards in shard-*, merged results in merged/, logs in slurm/logs)\n", dir)
	fmt.Fprintf(w, "progress: sparsesim sweep status %s\n", out)
	return nil
}

func newSweepStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status DIR",
		Short: "Points done, failed and remaining in each shard of a sweep (a --slurm output directory), and Slurm's view of its jobs",
		Args:  cobra.ExactArgs(1),
		RunE: userRunE(func(cmd *cobra.Command, args []string) error {
			st, err := sweep.Status(args[0])
			if err != nil {
				return err
			}
			return st.Write(cmd.OutOrStdout(), squeueName)
		}),
	}
}

// finishSweep prints the Pareto front and writes the default plots (the
// plot layer reads the sorted rows back; the sweep itself never held them).
// runSweep runs spec's points here (progress on stderr unless quiet, a bar
// when stderr is a terminal) and writes the front and plots.
func runSweep(cmd *cobra.Command, spec sweep.Spec, out string, jobs int, resume bool, sh sweep.Shard, quiet bool) error {
	// The sweep draws its own bar (points done, ETA) on a terminal, plain
	// lines elsewhere: the command's spinner hands the terminal over.
	errw, terminal := progressOf(cmd).handOff("sweep: its own bar")
	if quiet {
		errw, terminal = nil, false
	}
	sum, err := sweep.Run(spec, sweep.Options{Out: out, Jobs: jobs, Resume: resume, Shard: sh,
		Progress: errw, Terminal: terminal})
	if err != nil {
		return err
	}
	return finishSweep(cmd, out, spec, sum)
}

func finishSweep(cmd *cobra.Command, out string, spec sweep.Spec, sum sweep.Summary) error {
	if err := sweep.WritePareto(out, spec.Keys(), spec.Objectives, sum.Front, cmd.OutOrStdout()); err != nil {
		return err
	}
	rows, _, err := sweep.ReadRows(filepath.Join(out, "results.jsonl"))
	if err != nil {
		return err
	}
	plots, omitted, err := sweep.DefaultPlots(out, spec, rows, sum.Front, spec.Objectives)
	if err != nil {
		return err
	}
	written := "results.csv, results.jsonl, pareto.csv"
	if len(plots) > 0 {
		written += ", " + strings.Join(plots, ", ")
	}
	switch {
	case len(plots) == 0 && len(omitted) == 0:
		written += " (no plots: no point succeeded)"
	case len(omitted) > 0:
		written += " (no " + strings.Join(omitted, "; no ") + ")"
	}
	resumed := ""
	if sum.Resumed > 0 {
		resumed = fmt.Sprintf(" (resumed: %d were already done)", sum.Resumed)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%d points (%d failed)%s in %s: %s\n", sum.Rows, sum.Failed, resumed, out, written)
	for _, r := range rows {
		if strings.HasPrefix(r.Error, "internal error") {
			// A bug, not the grid's fault: exit 1 once the results are out.
			return fmt.Errorf("point %d: %s", r.Point, r.Error)
		}
	}
	if sum.Failed == sum.Rows && sum.Rows > 0 {
		return usererr.New("every point failed; the first: %s", firstError(rows))
	}
	return nil
}

func newMergeCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge SHARD_DIR...",
		Short: "Join the output directories of a sharded sweep; fails when a point is missing or duplicated",
		Args:  cobra.MinimumNArgs(1),
		RunE: userRunE(func(cmd *cobra.Command, dirs []string) error {
			if out == "" {
				return usererr.New("--out DIR is required")
			}
			spec, sum, err := sweep.Merge(out, dirs)
			if err != nil {
				return err
			}
			return finishSweep(cmd, out, spec, sum)
		}),
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "directory for the merged results")
	return cmd
}

func newPlotCmd() *cobra.Command {
	var x, y, color, out, timeline string
	cmd := &cobra.Command{
		Use:     "plot RESULTS | plot --timeline FILE",
		Short:   "Plot a sweep's results (results.jsonl or its directory), or a run's timeline, as PNG or SVG",
		Example: "  sparsesim plot sw --x pe_array.rows --y cycles --color sparsity.nm -o fig.png\n  sparsesim plot --timeline tl.json -o tl.png",
		Args:    cobra.MaximumNArgs(1),
		RunE: userRunE(func(cmd *cobra.Command, args []string) error {
			if timeline != "" {
				if out == "" || len(args) > 0 {
					return usererr.New("plot --timeline FILE needs -o FILE and no results argument")
				}
				notes, err := report.PlotTimeline(timeline, out)
				if err != nil {
					return err
				}
				printNotes(cmd, notes)
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", out)
				return nil
			}
			if len(args) != 1 {
				return usererr.New("plot needs a results file or directory (or --timeline FILE)")
			}
			path := args[0]
			if st, err := os.Stat(path); err == nil && st.IsDir() {
				path += "/results.jsonl"
			}
			rows, _, err := sweep.ReadRows(path)
			if err != nil {
				if os.IsNotExist(err) {
					return usererr.New("plot: %s: no such results file", path)
				}
				return err
			}
			if x == "" || y == "" || out == "" {
				return usererr.New("plot needs --x, --y and -o FILE")
			}
			notes, err := sweep.PlotXY(rows, x, y, color, out)
			if err != nil {
				return err
			}
			printNotes(cmd, notes)
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", out)
			return nil
		}),
	}
	cmd.Flags().StringVar(&x, "x", "", "parameter or metric on the x axis")
	cmd.Flags().StringVar(&y, "y", "", "parameter or metric on the y axis")
	cmd.Flags().StringVar(&color, "color", "", "parameter or metric that splits the points into series")
	cmd.Flags().StringVarP(&out, "out", "o", "", "output file (.png or .svg)")
	cmd.Flags().StringVar(&timeline, "timeline", "", "draw this 'run --timeline' file instead of sweep results")
	return cmd
}

// printNotes tells the reader what a figure does not show plainly.
func printNotes(cmd *cobra.Command, notes []string) {
	for _, n := range notes {
		fmt.Fprintf(cmd.ErrOrStderr(), "plot: %s\n", n)
	}
}

func firstError(rows []sweep.Row) string {
	for _, r := range rows {
		if r.Error != "" {
			return fmt.Sprintf("point %d: %s", r.Point, r.Error)
		}
	}
	return ""
}
