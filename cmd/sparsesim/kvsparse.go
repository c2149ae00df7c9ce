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

// runLLMSweep runs a sweep of LLM decode points (kv_sparsity parameters
// as axes, docs/kv-sparsity.md): the config, model and LLM sizes are
// checked once up front; the Pareto front defaults to seconds (TPOT)
// against mass_lost.
func runLLMSweep(cmd *cobra.Command, spec sweep.Spec, out, objectives string, jobs int, resume bool, sh sweep.Shard, quiet bool, maxPoints int64) error {
	if spec.Seq != 0 {
		return usererr.New("--phase %s: --seq does not apply to LLM phases (use --prompt and --gen)", spec.Phase)
	}
	if !cmd.Flags().Changed("workload") {
		// The default is a CNN, which no LLM point can run.
		return usererr.New("--phase %s needs --workload: an LLM zoo model (%s) or a config.json path", spec.Phase, strings.Join(llm.Names(), ", "))
	}
	pts, err := sweep.Points(spec.Axes, spec.Zip)
	if err != nil {
		return err
	}
	if err := limits.Points.Check("sweep", float64(len(pts)), maxPoints); err != nil {
		return err
	}
	cfg, err := configs.Load(spec.Config, spec.Sets)
	if err != nil {
		return err
	}
	m, err := llm.Resolve(spec.Workload)
	if err != nil {
		return err
	}
	if err := inference.CheckLLM(cfg, m, inference.LLMOptions{Phase: spec.Phase, Prompt: spec.Prompt, Gen: spec.Gen, Batch: spec.Batch}); err != nil {
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
	if err := sweep.CheckObjectives(spec.Objectives); err != nil {
		return err
	}
	return runSweep(cmd, spec, out, jobs, resume, sh, quiet)
}
