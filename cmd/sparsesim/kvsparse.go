package main

import (
	"bytes"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/limits"
	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/sweep"
	"github.com/sparsesim/sparsesim/workloads/kvsparse"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// runKVSparse runs a decode with kv_sparsity.method set: the report, or
// with --breakdown every method's row (written here; nil report).
func runKVSparse(cmd *cobra.Command, f runFlags, cfg *configs.Config, m llm.Model, o arch.LLMOptions) (*report.LLMReport, error) {
	if f.breakdown {
		if f.kvTrace != "" || f.kvReplay != "" {
			return nil, usererr.New("--breakdown runs every method: --kv-trace and --kv-replay apply to one")
		}
		rows, err := report.KVBreakdown(cfg, m, o)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := report.RenderKVBreakdown(&buf, rows, f.format); err != nil {
			return nil, err
		}
		return nil, writeOut(cmd, f.out, buf.Bytes())
	}
	var replay *kvsparse.Plan
	if f.kvReplay != "" {
		fh, err := os.Open(f.kvReplay)
		if err != nil {
			return nil, usererr.New("--kv-replay %s: %v", f.kvReplay, err)
		}
		defer fh.Close()
		if replay, err = kvsparse.ReplayPlan(cfg.KVSetup(), m, o.Prompt, arch.KVDecodeSteps(o), fh, f.kvReplay); err != nil {
			return nil, err
		}
	}
	r, err := arch.SimulateKVSparsePlan(cfg, m, o, replay)
	if err != nil {
		return nil, err
	}
	if f.kvTrace != "" {
		var buf bytes.Buffer
		if err := r.Plan.WriteTrace(&buf); err != nil {
			return nil, err
		}
		if err := report.WriteFileAtomic(f.kvTrace, buf.Bytes()); err != nil {
			return nil, usererr.New("--kv-trace %s: %v", f.kvTrace, err)
		}
	}
	return report.NewKVSparsity(r), nil
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
	if err := arch.CheckLLM(cfg, m, arch.LLMOptions{Phase: spec.Phase, Prompt: spec.Prompt, Gen: spec.Gen, Batch: spec.Batch}); err != nil {
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
