package main

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/inference"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/workloads/actsparse"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// writeFFN writes an activation-sparsity run's report (and --step-plot).
func writeFFN(cmd *cobra.Command, f runFlags, rep *report.FFNReport) error {
	if f.stepPlot != "" {
		if err := rep.WriteStepPlot(f.stepPlot); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", f.stepPlot)
	}
	var buf bytes.Buffer
	if err := rep.Render(&buf, f.format); err != nil {
		return err
	}
	return writeOut(cmd, f.out, buf.Bytes())
}

func newFFNBatchCmd() *cobra.Command {
	var config, workload, plotPath, methods, batches, vary string
	var sets []string
	var prompt, gen int
	var seed int64
	cmd := &cobra.Command{
		Use:   "ffn-batch",
		Short: "TPOT speedup of each FFN activation-sparsity technique against batch size (table and plot)",
		Long: `Run an LLM decode for each activation-sparsity technique at each batch size,
each beside the same decode dense, and report the TPOT speedup, the batch
union's active fraction and the quality proxy (docs/ffn-moe.md).`,
		Args: cobra.NoArgs,
		RunE: userRunE(func(cmd *cobra.Command, _ []string) error {
			var bs []int
			for _, s := range strings.Split(batches, ",") {
				b, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil || b < 1 {
					return usererr.New("--batches %s: need positive integers separated by commas", batches)
				}
				bs = append(bs, b)
			}
			var ms []string
			for _, s := range strings.Split(methods, ",") {
				s = strings.TrimSpace(s)
				if s == actsparse.None || !slices.Contains(actsparse.Methods, s) {
					return usererr.New("--methods %s: unknown technique %q (allowed: %s)", methods, s, strings.Join(actsparse.Methods[1:], ", "))
				}
				ms = append(ms, s)
			}
			type line struct{ label, set string }
			var lines []line
			for _, me := range ms {
				if vary == "" {
					lines = append(lines, line{me, ""})
					continue
				}
				key, vals, ok := strings.Cut(vary, "=")
				if !ok || vals == "" {
					return usererr.New("--vary %s: want KEY=V1,V2,... (e.g. activation_sparsity.neuron_spread=0,2,4.25)", vary)
				}
				for _, v := range strings.Split(vals, ",") {
					short := key[strings.LastIndex(key, ".")+1:]
					lines = append(lines, line{fmt.Sprintf("%s %s=%s", me, short, v), key + "=" + v})
				}
			}
			m, err := llm.Resolve(workload)
			if err != nil {
				return err
			}
			var pts []report.FFNBatchPoint
			done, total := 0, len(lines)*len(bs)
			for _, ln := range lines {
				more := append(append([]string(nil), sets...), "activation_sparsity.method="+strings.Fields(ln.label)[0])
				if ln.set != "" {
					more = append(more, ln.set)
				}
				cfg, err := configs.Load(config, more)
				if err != nil {
					return err
				}
				for _, b := range bs {
					// Each point is a sparse and a dense decode: at a long
					// prompt the whole command runs minutes.
					progressOf(cmd).set(fmt.Sprintf("ffn-batch: %s at batch %d (point %d of %d)", ln.label, b, done+1, total))
					done++
					res, err := inference.SimulateActSparse(cfg, m, inference.LLMOptions{Phase: inference.PhaseDecode, Prompt: prompt, Gen: gen, Batch: b, Seed: seed})
					if err != nil {
						return err
					}
					r := report.NewFFN(res).FFN
					pts = append(pts, report.FFNBatchPoint{Method: ln.label, Batch: b, TPOTSpeedup: r.TPOTSpeedup,
						ActiveFractionBatchUnion: r.ActiveFractionBatchUnion, OutputRelError: r.OutputRelError})
				}
			}
			title := fmt.Sprintf("%s on %s: decode at context %d, FFN activation sparsity", m.Name, config, prompt)
			if plotPath != "" {
				if err := report.WriteFFNBatchPlot(plotPath, title, pts); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", plotPath)
			}
			return report.FFNBatchTable(cmd.OutOrStdout(), title, pts)
		}),
	}
	fl := cmd.Flags()
	fl.StringVarP(&config, "config", "c", "llm-128x128", "architecture: embedded name or YAML path")
	fl.StringVarP(&workload, "workload", "w", "llama-3.1-8b", "LLM zoo model or Hugging Face config.json")
	fl.StringArrayVar(&sets, "set", nil, "override a config field (repeatable), e.g. activation_sparsity.target=0.7")
	fl.StringVar(&methods, "methods", strings.Join(actsparse.Methods[1:], ","), "techniques, comma-separated")
	fl.StringVar(&batches, "batches", "1,2,4,8,16,32,64", "batch sizes, comma-separated")
	fl.IntVar(&prompt, "prompt", 1024, "tokens in the cache when decoding starts")
	fl.IntVar(&gen, "gen", 8, "decode steps per point")
	fl.Int64Var(&seed, "seed", 1, "seed of the synthetic activations")
	fl.StringVar(&plotPath, "plot", "", "write the speedup-against-batch plot (.png or .svg)")
	fl.StringVar(&vary, "vary", "", "one line per value of a config key for each technique, KEY=V1,V2,... (e.g. activation_sparsity.neuron_spread=0,2,4.25)")
	return cmd
}
