package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/inference"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// newMoEBatchCmd is `sparsesim moe-batch`: decode TPOT of a MoE model with
// dynamic and padded expert execution over batch sizes.
func newMoEBatchCmd() *cobra.Command {
	var (
		config, workload, format, out, plotPath string
		sets                                    []string
		prompt, gen                             int
		batches                                 []int
		seed                                    int64
	)
	cmd := &cobra.Command{
		Use:   "moe-batch",
		Short: "Decode TPOT of a MoE model against batch size, untouched experts skipped vs every expert padded",
		Long: `Run a MoE model's decode at each --batches size twice: dynamic execution
(each expert over the tokens routed to it, experts no token chose skipped) and
padded (every expert over the same slot count, as static-shape GShard/Switch
implementations run), and report experts touched, both TPOTs and the speedup
(docs/ffn-moe.md). Routing follows the config's moe block (--set moe.routing=zipf ...).`,
		Example: `  sparsesim moe-batch --config llm-128x128 --set dram.capacity_gb=128 --workload mixtral-8x7b \
      --prompt 256 --gen 4 --batches 1,2,4,8,16,32,64 --plot tpot.png`,
		Args: cobra.NoArgs,
		RunE: userRunE(func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil || format == "scalesim" {
				return usererr.New("--format %s: unknown format (allowed: %s)", format, strings.Join(report.Formats, ", "))
			}
			if len(batches) == 0 {
				return usererr.New("--batches: give at least one batch size")
			}
			for i, b := range batches {
				if b < 1 || (i > 0 && b <= batches[i-1]) {
					return usererr.New("--batches %v: sizes must be at least 1 and increasing", batches)
				}
			}
			cfg, err := configs.Load(config, sets)
			if err != nil {
				return err
			}
			m, err := llm.Resolve(workload)
			if err != nil {
				return err
			}
			progressOf(cmd).set(fmt.Sprintf("moe-batch: %s decode on %s, %d batch sizes, dynamic and padded", m.Name, cfg.Name, len(batches)))
			pts, err := inference.SweepMoEBatch(cfg, m, inference.LLMOptions{Phase: inference.PhaseDecode, Prompt: prompt, Gen: gen, Seed: seed}, batches)
			if err != nil {
				return err
			}
			rep := report.NewMoEBatch(m.Name, cfg.Name, cfg.MoE.Routing, prompt, gen, cfg.ClockMHz, pts)
			if plotPath != "" {
				if err := rep.WritePlot(plotPath); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", plotPath)
			}
			var buf bytes.Buffer
			if err := rep.Render(&buf, format); err != nil {
				return err
			}
			return writeOut(cmd, out, buf.Bytes())
		}),
	}
	fl := cmd.Flags()
	fl.StringVarP(&config, "config", "c", "llm-128x128", "architecture: embedded name or YAML path")
	fl.StringVarP(&workload, "workload", "w", "olmoe-1b-7b", "MoE LLM: zoo name or Hugging Face config.json")
	fl.StringArrayVar(&sets, "set", nil, "override a config field: key=value (repeatable), e.g. moe.routing=zipf")
	fl.IntVar(&prompt, "prompt", 256, "tokens already in each sequence's cache")
	fl.IntVar(&gen, "gen", 4, "decode steps per batch size")
	fl.IntSliceVar(&batches, "batches", []int{1, 2, 4, 8, 16, 32, 64}, "batch sizes, increasing")
	fl.Int64Var(&seed, "seed", 1, "routing seed")
	fl.StringVarP(&format, "format", "f", "table", "output format: "+strings.Join(report.Formats, ", "))
	fl.StringVarP(&out, "out", "o", "", "write the report to this file (atomically) instead of stdout")
	fl.StringVar(&plotPath, "plot", "", "write TPOT and speedup against batch size (.png or .svg)")
	return cmd
}

// writeMoEPlot writes run --moe-plot's expert load histogram.
func writeMoEPlot(cmd *cobra.Command, rep *report.LLMReport, path string) error {
	if path == "" {
		return nil
	}
	if err := rep.WriteMoEPlot(path); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", path)
	return nil
}
