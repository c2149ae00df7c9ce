package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/arch/engines"
	"github.com/sparsesim/sparsesim/arch/systolic"
	"github.com/sparsesim/sparsesim/compare"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/energy"
	"github.com/sparsesim/sparsesim/inference"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/limits"
	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/traces"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

type runFlags struct {
	config, workload, format, out string
	sets                          []string
	batch, seq                    int
	phase                         string
	breakdown                     bool
	allowOverfit                  bool
	trace                         string
	functional                    bool
	timeline                      string
	timelineMax                   int
	prompt, gen                   int
	noMemo                        bool
	stepPlot                      string
	moePlot                       string
	kvTrace, kvReplay             string
	seed                          int64
	maxWork, maxKernelMACs        int64
	explainMapping                string
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Simulate a workload on an architecture and report cycles, traffic and utilisation",
		Long: `Simulate a workload on an architecture.

--config takes an embedded name (see 'sparsesim configs'), a YAML file or a
SCALE-Sim .cfg. --workload takes a zoo model (see 'sparsesim workloads') or a
SCALE-Sim topology CSV (conv or GEMM form). --set overrides any config field by
its YAML path and may be repeated. Output fields are documented in docs/report.md.`,
		Args: cobra.NoArgs,
		RunE: userRunE(func(cmd *cobra.Command, _ []string) error { return runRun(cmd, f) }),
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.config, "config", "c", configs.DefaultName, "architecture: embedded name, YAML path or SCALE-Sim .cfg")
	fl.StringVarP(&f.workload, "workload", "w", traces.DefaultWorkload, "zoo model name or SCALE-Sim topology CSV")
	fl.StringArrayVar(&f.sets, "set", nil, "override a config field: key=value with a dotted YAML path (repeatable)")
	fl.StringVarP(&f.format, "format", "f", "table", "output format: "+strings.Join(report.Formats, ", ")+", or scalesim (SCALE-Sim v2's three CSV reports into --out DIR)")
	fl.StringVarP(&f.out, "out", "o", "", "write the report to this file (atomically) instead of stdout")
	fl.IntVar(&f.batch, "batch", 1, "batch size (images or sequences)")
	fl.IntVar(&f.seq, "seq", 0, "sequence length for transformer models (0: the model's default)")
	fl.StringVar(&f.explainMapping, "explain-mapping", "", "print the mappings the mapper compared for this layer (by name) and why one won, instead of the report")
	fl.StringVar(&f.timeline, "timeline", "", "write a Chrome/Perfetto trace-event timeline (open in ui.perfetto.dev or chrome://tracing)")
	fl.IntVar(&f.timelineMax, "timeline-max-events", 200000, "with --timeline: cap on timeline events (~150 bytes each); beyond it slices are sampled")
	fl.BoolVar(&f.functional, "functional", false, "also compute every small and medium GEMM layer's values through the functional datapath and check them against the CPU kernels")
	fl.StringVar(&f.trace, "trace", "", "replay a sparsesim trace (from 'sparsesim trace gen') instead of --workload (no --workload or --batch with it)")
	fl.BoolVar(&f.allowOverfit, "allow-overfit", false, "simulate an FPGA config even when it does not fit its device")
	fl.BoolVar(&f.breakdown, "breakdown", false, "attention engine: simulate with no technique, then add each enabled one (token, head, local V pruning, progressive quantization) and report what each brings; LLM decode with a kv_sparsity.method: run every KV-sparsity method")
	fl.StringVar(&f.phase, "phase", "inference", "inference; training: each layer becomes forward, input-gradient, weight-gradient GEMMs and the weight update; "+
		"or an LLM phase (docs/llm.md): prefill (the --prompt tokens), decode (--gen steps over a --prompt-token cache), generate (prefill, then decode to --gen tokens)")
	fl.IntVar(&f.prompt, "prompt", 512, "LLM phases: prompt tokens per sequence")
	fl.IntVar(&f.gen, "gen", 128, "LLM phases: tokens generated per sequence")
	fl.BoolVar(&f.noMemo, "no-memo", false, "simulate every layer on one engine instead of reusing the results of identical layers (same numbers, slower)")
	fl.StringVar(&f.stepPlot, "step-plot", "", "LLM phases: write a plot of decode step time against context position (.png or .svg)")
	fl.StringVar(&f.kvTrace, "kv-trace", "", "kv_sparsity runs: write the sampled selections to this file (docs/kv-sparsity.md)")
	fl.StringVar(&f.kvReplay, "kv-replay", "", "kv_sparsity runs: use the selections of a --kv-trace file instead of running the kernels")
	fl.Int64Var(&f.seed, "seed", 1, "LLM phases: seed of the MoE expert routing and of activation sparsity's synthetic activations")
	fl.StringVar(&f.moePlot, "moe-plot", "", "LLM phases, MoE models: write the expert load histogram (.png or .svg)")
	fl.Int64Var(&f.maxWork, "max-work", limits.Work.Default, "refuse runs of more folds plus attention rows than this; not for LLM phases (docs/limits.md)")
	fl.Int64Var(&f.maxKernelMACs, "max-kernel-macs", limits.KernelMACs.Default, "refuse attention workloads whose reference kernels need more MACs than this; not for LLM phases (docs/limits.md)")
	_ = cmd.RegisterFlagCompletionFunc("config", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return configs.Embedded(), cobra.ShellCompDirectiveDefault
	})
	_ = cmd.RegisterFlagCompletionFunc("format", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return report.Formats, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

func checkFormat(format string) error {
	if format == "scalesim" {
		return nil
	}
	for _, f := range report.Formats {
		if f == format {
			return nil
		}
	}
	return usererr.New("--format %s: unknown format (allowed: %s, scalesim)", format, strings.Join(report.Formats, ", "))
}

func runRun(cmd *cobra.Command, f runFlags) error {
	if err := checkFormat(f.format); err != nil {
		return err
	}
	if f.batch < 1 {
		return usererr.New("--batch must be at least 1, got %d", f.batch)
	}
	if err := checkSeq(f.seq, f.workload, f.trace); err != nil {
		return err
	}
	if f.trace != "" {
		// A trace holds its whole workload, batch included.
		if err := refuseGiven(cmd, "does not apply with --trace: the trace fixes its workload and batch", "workload", "batch"); err != nil {
			return err
		}
	}
	if f.timeline == "" {
		if err := refuseGiven(cmd, "needs --timeline: it caps the events that file holds", "timeline-max-events"); err != nil {
			return err
		}
	}
	cfg, err := configs.Load(f.config, f.sets)
	if err != nil {
		return err
	}
	if f.trace == "" {
		if err := limits.CheckKernels(cfg, f.workload, workloads.Params{Batch: f.batch, SeqLen: f.seq}, f.maxKernelMACs); err != nil {
			return err
		}
	}
	if cfg.FPGA.Device != "" && !f.allowOverfit {
		fr, err := energy.FPGA(cfg)
		if err != nil {
			return err
		}
		if !fr.Fits {
			return usererr.New("config %s does not fit %s (%s); shrink it or pass --allow-overfit", cfg.Name, fr.Device, fr.Overfull())
		}
	}
	switch f.phase {
	case inference.PhasePrefill, inference.PhaseDecode, inference.PhaseGenerate:
		return runLLM(cmd, f, cfg)
	case "inference", "training":
	default:
		return usererr.New("--phase %s: unknown phase (allowed: inference, training, prefill, decode, generate)", f.phase)
	}
	if err := refuseLLMOnly(cmd, f.phase, "prefill, decode or generate", "prompt", "gen", "seed", "step-plot", "moe-plot", "kv-trace", "kv-replay"); err != nil {
		return err
	}
	params := workloads.Params{Batch: f.batch, SeqLen: f.seq}
	if f.breakdown {
		if cfg.Engine != "spatten" {
			return usererr.New("--breakdown needs an attention engine config (engine: spatten), got %s", cfg.Name)
		}
		// The breakdown reruns --workload once per technique and prints
		// its own table: none of these reach it.
		if err := refuseGiven(cmd, "does not apply with --breakdown (it reruns --workload once per technique)", "trace", "timeline", "functional", "explain-mapping"); err != nil {
			return err
		}
		if err := checkBreakdownFormat(f.format); err != nil {
			return err
		}
		progressOf(cmd).set(fmt.Sprintf("breakdown: %s on %s, once per technique", f.workload, cfg.Name))
		steps, err := report.Breakdown(cfg, func(c *configs.Config) (workloads.Workload, error) {
			w, err := traces.LoadFor(c, f.workload, params)
			if err != nil {
				return w, err
			}
			return w, limits.CheckRun(c, w, f.maxWork)
		})
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := report.RenderBreakdown(&buf, steps, f.format); err != nil {
			return err
		}
		return writeOut(cmd, f.out, buf.Bytes())
	}
	var w workloads.Workload
	if f.trace != "" {
		w, _, err = traces.LoadTrace(f.trace)
	} else {
		progressOf(cmd).set("building " + f.workload)
		w, err = traces.LoadFor(cfg, f.workload, params)
	}
	if err != nil {
		return err
	}
	switch f.phase {
	case "inference":
	case "training":
		w = workloads.Training(w)
	default:
		return usererr.New("--phase %s: unknown phase (allowed: inference, training, prefill, decode, generate)", f.phase)
	}
	if err := limits.CheckRun(cfg, w, f.maxWork); err != nil {
		return err
	}
	if f.explainMapping != "" {
		if cfg.Engine == "spatten" || len(w.Attention) > 0 {
			return usererr.New("--explain-mapping %s: the attention engine has no mapper; it applies to GEMM layers on the systolic engine", f.explainMapping)
		}
		if err := refuseGiven(cmd, "does not apply with --explain-mapping (it prints one layer's search, not a run)", "timeline", "functional"); err != nil {
			return err
		}
		choice, rows, err := systolic.ExplainMapping(cfg, w, f.explainMapping)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := report.RenderMappingSearch(&buf, f.explainMapping, choice, rows, f.format); err != nil {
			return err
		}
		return writeOut(cmd, f.out, buf.Bytes())
	}
	var tl *arch.Timeline
	if f.timeline != "" {
		if f.timelineMax < 1 {
			return usererr.New("--timeline-max-events %d: must be at least 1", f.timelineMax)
		}
		tl = arch.NewTimeline(f.timelineMax)
	}
	progressOf(cmd).set(fmt.Sprintf("simulating %s on %s", w.Name, cfg.Name))
	res, base, err := engines.SimulateWithBaselineMemo(cfg, w, tl, !f.noMemo)
	if err != nil {
		return err
	}
	if tl != nil {
		var tb bytes.Buffer
		if err := tl.WriteJSON(&tb); err != nil {
			return err
		}
		if err := report.WriteFileAtomic(f.timeline, tb.Bytes()); err != nil {
			return usererr.New("--timeline %s: %v", f.timeline, err)
		}
		if sampled, dropped := tl.Sampled(); sampled {
			fmt.Fprintf(cmd.ErrOrStderr(), "timeline: %d events sampled away to stay under %d (--timeline-max-events); plot --timeline shows what was kept\n", dropped, tl.MaxEvents)
		}
	}
	rep, err := report.New(res, base)
	if err != nil {
		return err
	}
	if f.functional {
		if len(w.Attention) > 0 {
			return usererr.New("--functional checks GEMM layers; for attention use 'sparsesim compare --case attention'")
		}
		sum, err := compare.CheckWorkload(cfg, w, 1)
		if err != nil {
			return err
		}
		rep.Functional = &sum
		if !sum.Match {
			var buf bytes.Buffer
			_ = rep.Render(&buf, f.format)
			_ = writeOut(cmd, f.out, buf.Bytes())
			return fmt.Errorf("%w: layer %s", errMismatch, sum.FirstMismatch)
		}
	}
	if f.format == "scalesim" {
		if f.out == "" {
			return usererr.New("--format scalesim: needs --out DIR (it writes %s there)", strings.Join(report.ScaleSimFiles, ", "))
		}
		if err := report.WriteScaleSim(f.out, rep); err != nil {
			return usererr.New("--out %s: %v", f.out, err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s in %s\n", strings.Join(report.ScaleSimFiles, ", "), f.out)
		return nil
	}
	var buf bytes.Buffer
	if err := rep.Render(&buf, f.format); err != nil {
		return err
	}
	return writeOut(cmd, f.out, buf.Bytes())
}

// checkBreakdownFormat refuses a --format a breakdown table does not
// write (it has a table and a JSON form only).
func checkBreakdownFormat(format string) error {
	if format != "table" && format != "json" {
		return usererr.New("--format %s: --breakdown writes table or json", format)
	}
	return nil
}

// checkSeq refuses a --seq that cannot apply: negative, or given for a
// workload with no sequence (a CNN, a topology CSV, a trace).
func checkSeq(seq int, workload, trace string) error {
	if seq < 0 {
		return usererr.New("--seq must be at least 0 (0: the model's default), got %d", seq)
	}
	if seq == 0 {
		return nil
	}
	if trace != "" {
		return usererr.New("--seq %d: a trace fixes its sequence length; drop --seq with --trace", seq)
	}
	m, ok := workloads.Lookup(workload)
	if _, isLLM := llm.Lookup(workload); !ok && isLLM {
		return usererr.New("--seq %d: %s is an LLM zoo model, which runs as an LLM phase: --phase prefill, decode or generate with --prompt and --gen, not --seq", seq, workload)
	}
	if !ok {
		return usererr.New("--seq %d: --workload %s is a file, whose layers fix their sizes; --seq applies to zoo transformer models", seq, workload)
	}
	if m.DefaultSeq == 0 {
		return usererr.New("--seq %d: %s is a CNN with no sequence; --seq applies to transformer models", seq, m.Name)
	}
	return nil
}

// writeOut prints to stdout, or writes --out atomically.
func writeOut(cmd *cobra.Command, out string, data []byte) error {
	if out == "" {
		_, err := cmd.OutOrStdout().Write(data)
		return err
	}
	if err := report.WriteFileAtomic(out, data); err != nil {
		return usererr.New("--out %s: %v", out, err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", out)
	return nil
}

// runLLM runs an LLM phase: --workload is an LLM zoo name or a Hugging Face
// config.json.
func runLLM(cmd *cobra.Command, f runFlags, cfg *configs.Config) error {
	if err := refuseGiven(cmd, "does not apply to LLM phases: their GEMMs are mapped step by step inside the run (docs/mapping.md); explain a layer of a non-LLM workload", "explain-mapping"); err != nil {
		return err
	}
	kv := cfg.KVSparsity.Method != configs.KVNone
	if !kv && (f.kvTrace != "" || f.kvReplay != "") {
		return usererr.New("--kv-trace and --kv-replay need a kv_sparsity.method (--set kv_sparsity.method=...)")
	}
	if f.breakdown && !kv {
		// On an LLM phase --breakdown compares the KV-sparsity methods;
		// a dense run has nothing to compare, and the attention engine's
		// technique breakdown does not run LLM phases.
		return usererr.New("--breakdown with --phase %s compares the KV-sparsity methods, but kv_sparsity.method is none: "+
			"add --set kv_sparsity.method=evict (any method; every one is run) with --phase decode or generate, or drop --breakdown", f.phase)
	}
	var given []string
	for _, fl := range []struct {
		name string
		set  bool
	}{{"--trace", f.trace != ""}, {"--functional", f.functional}, {"--timeline", f.timeline != ""}, {"--seq", f.seq != 0}} {
		if fl.set {
			given = append(given, fl.name)
		}
	}
	if len(given) > 0 {
		verb := "does"
		if len(given) > 1 {
			verb = "do"
		}
		return usererr.New("--phase %s: %s %s not apply to LLM phases (use --prompt and --gen)", f.phase, strings.Join(given, " and "), verb)
	}
	if err := refuseLLMLimits(cmd, f.phase); err != nil {
		return err
	}
	if f.format == "scalesim" {
		return usererr.New("--format scalesim: SCALE-Sim's reports are per GEMM layer; LLM phases write %s", strings.Join(report.Formats, ", "))
	}
	if f.breakdown {
		// One row per method, not one run: nothing to plot per step.
		if err := refuseGiven(cmd, "does not apply with --breakdown: it runs every kv_sparsity method and prints one row each", "step-plot", "moe-plot"); err != nil {
			return err
		}
		if err := checkBreakdownFormat(f.format); err != nil {
			return err
		}
	}
	if !cmd.Flags().Changed("workload") {
		return usererr.New("--phase %s needs --workload: an LLM zoo model (%s) or a config.json path", f.phase, strings.Join(llm.Names(), ", "))
	}
	m, err := llm.Resolve(f.workload)
	if err != nil {
		return err
	}
	if f.moePlot != "" && !m.MoE() {
		// Checked here, not after the run: the activation-sparsity
		// path would otherwise drop it.
		return usererr.New("--moe-plot %s: %s has no experts", f.moePlot, m.Name)
	}
	o := inference.LLMOptions{Phase: f.phase, Prompt: f.prompt, Gen: f.gen, Batch: f.batch, NoMemo: f.noMemo, Seed: f.seed}
	if kv && f.breakdown && !cfg.ActivationSparsity.Enabled() {
		return runKVBreakdown(cmd, f, cfg, m, o)
	}
	progressOf(cmd).set(fmt.Sprintf("simulating %s %s on %s (prompt %d, gen %d, batch %d)", m.Name, f.phase, cfg.Name, f.prompt, f.gen, f.batch))
	res, err := inference.Run(cfg, m, inference.Request{Options: o, KVReplay: f.kvReplay})
	if err != nil {
		return err
	}
	if res.FFN != nil {
		return writeFFN(cmd, f, report.NewFFN(res.FFN))
	}
	var rep *report.LLMReport
	if res.KV != nil {
		if err := writeKVTrace(f.kvTrace, res.KV); err != nil {
			return err
		}
		rep = report.NewKVSparsity(res.KV)
	} else {
		rep = report.NewLLM(res.Dense)
	}
	if f.stepPlot != "" {
		if err := rep.WriteStepPlot(f.stepPlot); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", f.stepPlot)
	}
	if err := writeMoEPlot(cmd, rep, f.moePlot); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := rep.Render(&buf, f.format); err != nil {
		return err
	}
	return writeOut(cmd, f.out, buf.Bytes())
}
