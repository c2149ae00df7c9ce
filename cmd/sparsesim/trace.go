package main

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/traces"
	"github.com/sparsesim/sparsesim/workloads"
)

func newTraceCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "trace", Short: "Generate and inspect sparsesim traces (docs/trace.md)"}
	cmd.AddCommand(newTraceGenCmd(), newTraceInfoCmd())
	return cmd
}

func newTraceGenCmd() *cobra.Command {
	var cfgRef, workload, out, phase string
	var sets, weights []string
	var seed int64
	var batch, seq int
	cmd := &cobra.Command{
		Use:     "gen",
		Short:   "Run a workload's reference kernels on seeded data and write its trace",
		Example: "  sparsesim trace gen --workload bert-base --config spatten --seed 1 -o bert.trace\n  sparsesim run --config spatten --trace bert.trace",
		Args:    cobra.NoArgs,
		RunE: userRunE(func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usererr.New("-o FILE is required")
			}
			if phase != "inference" && phase != "training" {
				return usererr.New("--phase %s: unknown phase (allowed: inference, training)", phase)
			}
			if err := checkSeq(seq, workload, ""); err != nil {
				return err
			}
			cfg, err := configs.Load(cfgRef, sets)
			if err != nil {
				return err
			}
			wmap := map[string]string{}
			for _, kv := range weights {
				name, file, ok := strings.Cut(kv, "=")
				if !ok || name == "" || file == "" {
					return usererr.New("--weights %s: expected LAYER=FILE.npy", kv)
				}
				wmap[name] = file
			}
			var buf bytes.Buffer
			progressOf(cmd).set(fmt.Sprintf("trace gen: %s reference kernels on %s", workload, cfg.Name))
			h, err := traces.Generate(cfg, traces.GenOptions{Workload: workload, Params: workloads.Params{Batch: batch, SeqLen: seq},
				Training: phase == "training", Seed: seed, Generator: "sparsesim " + version, Weights: wmap}, &buf)
			if err != nil {
				return err
			}
			if err := report.WriteFileAtomic(out, buf.Bytes()); err != nil {
				return usererr.New("-o %s: %v", out, err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (%s, %s engine, seed %d)\n", out, h.Workload, h.Engine, h.Seed)
			return nil
		}),
	}
	fl := cmd.Flags()
	fl.StringVarP(&cfgRef, "config", "c", configs.DefaultName, "architecture (its engine, sparsity and attention settings shape the trace)")
	fl.StringArrayVar(&sets, "set", nil, "override a config field")
	fl.StringVarP(&workload, "workload", "w", traces.DefaultWorkload, "zoo model or workload file")
	fl.Int64Var(&seed, "seed", 1, "seed of the synthetic weights and activations")
	fl.IntVar(&batch, "batch", 1, "batch size")
	fl.IntVar(&seq, "seq", 0, "sequence length (0: model default)")
	fl.StringVar(&phase, "phase", "inference", "inference or training")
	fl.StringArrayVar(&weights, "weights", nil, "LAYER=FILE.npy: prune this layer's real K×N weights instead of seeded ones (repeatable)")
	fl.StringVarP(&out, "out", "o", "", "trace file to write")
	return cmd
}

func newTraceInfoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "info FILE",
		Short: "Summarise a trace: header, op counts, MACs, N:M and attention facts (streams the file)",
		Args:  cobra.ExactArgs(1),
		RunE: userRunE(func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return usererr.New("%s: %v", args[0], err)
			}
			defer f.Close()
			var gemms, attns, kept, groups, requant, queries int64
			var macs int64
			h, err := traces.ReadTrace(args[0], f, func(_ traces.Header, op traces.Op) error {
				switch op.Op {
				case "gemm":
					gemms++
					macs += op.Layer.MACs()
					if op.NM != nil {
						kept += op.NM.Kept
						groups += op.NM.Groups
					}
				case "attn":
					attns++
					requant += int64(op.Attn.RequantQueries)
					queries += int64(op.Attn.Queries)
				}
				return nil
			})
			if err != nil {
				return err
			}
			o := cmd.OutOrStdout()
			fmt.Fprintf(o, "%s v%d by %s, seed %d\nworkload %s (%s), engine %s, shapes %s\n", h.Format, h.Version, h.Generator, h.Seed, h.Workload, h.Source, h.Engine, shapeList(h.Shapes))
			fmt.Fprintf(o, "ops: %d gemm (%d dense-equivalent MACs), %d attention rows\n", gemms, macs, attns)
			if groups > 0 {
				fmt.Fprintf(o, "N:M: %d groups, %d weights kept (%.3f per group)\n", groups, kept, float64(kept)/float64(groups))
			}
			if attns > 0 {
				fmt.Fprintf(o, "attention: %d queries, %d needed key LSBs (%.1f%%)\n", queries, requant, 100*float64(requant)/float64(max(queries, 1)))
			}
			return nil
		}),
	}
}

// shapeList writes a trace's shapes as "context=128 heads=12", sorted.
func shapeList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}
