package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/inference"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/limits"
	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/sweep"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// runKVBreakdown runs every kv_sparsity method and writes one row each.
func runKVBreakdown(cmd *cobra.Command, f runFlags, cfg *configs.Config, m llm.Model, o inference.LLMOptions) error {
	if f.kvTrace != "" || f.kvReplay != "" {
		return usererr.New("--breakdown runs every method: --kv-trace and --kv-replay apply to one")
	}
	progressOf(cmd).set(fmt.Sprintf("KV-sparsity breakdown: %s %s on %s, every method", m.Name, o.Phase, cfg.Name))
	rows, err := report.KVBreakdown(cfg, m, o)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := report.RenderKVBreakdown(&buf, rows, f.format); err != nil {
		return err
	}
	return writeOut(cmd, f.out, buf.Bytes())
}

// writeKVTrace writes the run's selections to --kv-trace (when given).
func writeKVTrace(path string, r *inference.KVResult) error {
	if path == "" {
		return nil
	}
	var buf bytes.Buffer
	if err := r.Plan.WriteTrace(&buf); err != nil {
		return err
	}
	if err := report.WriteFileAtomic(path, buf.Bytes()); err != nil {
		return usererr.New("--kv-trace %s: %v", path, err)
	}
	return nil
}

// prepareLLMSweep checks an LLM sweep up front — every workload is an LLM,
// the first point is a valid run, the grid within --max-points — and sets
// its objectives, before it runs here or is submitted to Slurm.
func prepareLLMSweep(cmd *cobra.Command, spec *sweep.Spec, grid sweep.Grid, objectives string, maxPoints int64) error {
	if spec.Seq != 0 {
		return usererr.New("--phase %s: --seq does not apply to LLM phases (use --prompt and --gen)", spec.Phase)
	}
	workloads := sweepWorkloads(*spec)
	if !cmd.Flags().Changed("workload") && len(workloads) == 1 && workloads[0] == spec.Workload {
		// The default is a CNN, which no LLM point can run.
		return usererr.New("--phase %s needs --workload (or --grid workload=...): an LLM zoo model (%s) or a config.json path", spec.Phase, strings.Join(llm.Names(), ", "))
	}
	if err := limits.Points.Check("sweep", float64(grid.Len()), maxPoints); err != nil {
		return err
	}
	pts, err := sweep.Points(spec.Axes, spec.Zip)
	if err != nil {
		return err
	}
	if err := sweep.CheckNotRead(*spec, pts); err != nil {
		return err
	}
	cfg, err := baseConfig(*spec, pts)
	if err != nil {
		return err
	}
	for _, w := range workloads {
		if _, err := llm.Resolve(w); err != nil {
			return err
		}
	}
	// The first point as a run (sizes, KV type, capacity): a sweep whose
	// every point would fail the same way is refused before it starts.
	// Other points that do not fit are recorded as failed rows.
	first, err := spec.At(grid.At(0))
	if err != nil {
		return usererr.New("%v", err)
	}
	m, err := llm.Resolve(first.Workload)
	if err != nil {
		return err
	}
	fcfg, err := configs.Load(first.Config, first.Sets)
	if err != nil {
		return err
	}
	if err := inference.CheckLLM(fcfg, m, inference.LLMOptions{Phase: first.Phase, Prompt: first.Prompt, Gen: first.Gen, Batch: first.Batch}); err != nil {
		return err
	}
	// The speed–quality front needs a KV-sparsity method somewhere in the
	// sweep; without one there is no quality to trade, only time.
	spec.Objectives = []string{"seconds"}
	kv := cfg.KVSparsity.Method != configs.KVNone
	for _, a := range spec.Axes {
		kv = kv || a.Key == "kv_sparsity.method"
	}
	if kv {
		spec.Objectives = append(spec.Objectives, "mass_lost")
	}
	if objectives != "" {
		spec.Objectives = strings.Split(objectives, ",")
	}
	return sweep.CheckObjectives(spec.Objectives)
}
