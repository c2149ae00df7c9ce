package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sparsesim/sparsesim/compare"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/traces"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

var errMismatch = errors.New("simulated and CPU results disagree")

func newCompareCmd() *cobra.Command {
	var (
		cases, cfgRef, attnCfg, nmPat, weights, acts, format, out string
		sets                                                      []string
		m, n, k, runs                                             int
		seed                                                      int64
		watts                                                     float64
	)
	cmd := &cobra.Command{
		Use:   "compare",
		Short: "Run the Go reference kernel on the CPU and the functional simulation on the same inputs; report agreement, speedup and energy",
		Long: `compare runs each case twice: the Go reference kernel on this CPU (median of
--runs, all cores) and the functional simulation of the accelerator's datapath,
on the same seeded (or .npy) inputs. Integers must match bit for bit, floats
within a tolerance derived from the data type. It reports CPU time, simulated
accelerator time, speedup and the energy ratio (CPU energy = --cpu-watts × CPU
time). Exit status 1 when any case disagrees. With no flags: a dense GEMM, an
N:M GEMM and a pruned attention head.`,
		Args: cobra.NoArgs,
		RunE: userRunE(func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil || format == "csv" {
				return usererr.New("--format %s: compare writes table or json", format)
			}
			for _, d := range []struct {
				name string
				v    int
			}{{"--m", m}, {"--n", n}, {"--k", k}} {
				if d.v < 1 || d.v > 4096 {
					return usererr.New("%s must be from 1 to 4096, got %d", d.name, d.v)
				}
			}
			if !(watts > 0) {
				return usererr.New("--cpu-watts must be positive, got %g", watts)
			}
			opt := compare.Options{Runs: runs, CPUWatts: watts, Seed: seed}
			var results []compare.Result
			want := map[string]bool{}
			for _, c := range strings.Split(cases, ",") {
				switch c {
				case "all":
					want["gemm"], want["nm"], want["attention"] = true, true, true
				case "gemm", "nm", "attention":
					want[c] = true
				default:
					return usererr.New("--case %s: unknown case (allowed: all, gemm, nm, attention)", c)
				}
			}
			x := compare.RandomInts(m, k, seed, 100)
			w := compare.RandomInts(k, n, seed+1, 100)
			if acts != "" || weights != "" {
				if acts == "" || weights == "" {
					return usererr.New("--activations and --weights go together (X is M×K, W is K×N)")
				}
				var err error
				if x, w, err = loadPair(acts, weights); err != nil {
					return err
				}
			}
			for _, c := range []string{"gemm", "nm", "attention"} {
				if !want[c] {
					continue
				}
				var r compare.Result
				progressOf(cmd).set("compare: " + c + " case, CPU kernel and functional simulation")
				switch c {
				case "gemm", "nm":
					pat := nm.Pattern{}
					set := append([]string(nil), sets...)
					if c == "nm" {
						p, err := nm.Parse(nmPat)
						if err != nil || p.Dense() {
							return usererr.New("--nm %s: need an N:M pattern", nmPat)
						}
						pat = p
						set = append(set, "sparsity.nm="+nmPat)
					}
					cfg, err := configs.Load(cfgRef, set)
					if err != nil {
						return err
					}
					if r, err = compare.GEMM(cfg, x, w, pat, opt); err != nil {
						return usererr.New("%s: %v", c, err)
					}
				case "attention":
					cfg, err := configs.Load(attnCfg, nil)
					if err != nil {
						return err
					}
					a := compare.DefaultAttention
					at := cfg.Attention
					a.MSB, a.LSB, a.Tau = at.MSBBits, at.LSBBits, at.Tau
					if r, err = compare.Attention(cfg, a, opt); err != nil {
						return err
					}
				}
				results = append(results, r)
			}
			var buf bytes.Buffer
			if format == "json" {
				enc := json.NewEncoder(&buf)
				enc.SetIndent("", "  ")
				_ = enc.Encode(map[string]any{"schema_version": report.SchemaVersion, "results": results})
			} else {
				if err := report.CompareTable(&buf, results); err != nil {
					return err
				}
			}
			if err := writeOut(cmd, out, buf.Bytes()); err != nil {
				return err
			}
			for _, r := range results {
				if !r.Match {
					return fmt.Errorf("%w: %s (%s)", errMismatch, r.Case, r.Detail)
				}
			}
			return nil
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&cases, "case", "all", "cases: all, gemm, nm, attention (comma-separated)")
	fl.StringVarP(&cfgRef, "config", "c", configs.DefaultName, "architecture for the GEMM cases")
	fl.StringArrayVar(&sets, "set", nil, "override a field of the GEMM config")
	fl.StringVar(&attnCfg, "attention-config", "spatten", "architecture for the attention case")
	fl.StringVar(&nmPat, "nm", "2:4", "pattern of the N:M case")
	fl.IntVar(&m, "m", 256, "GEMM M (rows of X)")
	fl.IntVar(&n, "n", 256, "GEMM N (columns of W)")
	fl.IntVar(&k, "k", 256, "GEMM K")
	fl.StringVar(&acts, "activations", "", ".npy X (M×K) instead of seeded data")
	fl.StringVar(&weights, "weights", "", ".npy W (K×N) instead of seeded data")
	fl.Int64Var(&seed, "seed", 1, "seed of the inputs")
	fl.IntVar(&runs, "runs", 5, "CPU timing runs (median reported)")
	fl.Float64Var(&watts, "cpu-watts", compare.DefaultCPUWatts, "CPU power for the energy ratio (assumption: desktop package power under load)")
	fl.StringVarP(&format, "format", "f", "table", "table or json")
	fl.StringVarP(&out, "out", "o", "", "write to this file (atomically)")
	return cmd
}

func loadPair(acts, weights string) (x, w nm.Matrix[float64], err error) {
	a, err := traces.ReadNPY(acts)
	if err != nil {
		return x, w, err
	}
	b, err := traces.ReadNPY(weights)
	if err != nil {
		return x, w, err
	}
	if a.Cols() != b.Rows() {
		return x, w, usererr.New("%s is %dx%d but %s is %dx%d: X's columns must equal W's rows (K)", acts, a.Rows(), a.Cols(), weights, b.Rows(), b.Cols())
	}
	return nm.Matrix[float64]{Rows: a.Rows(), Cols: a.Cols(), Data: a.Data}, nm.Matrix[float64]{Rows: b.Rows(), Cols: b.Cols(), Data: b.Data}, nil
}
