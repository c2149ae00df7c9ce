package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/sparsesim/sparsesim/energy/catalog"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/rtl"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

func newRTLCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "rtl", Short: "Verilog units: test vectors from the Go model, synthesis resource tables"}
	cmd.AddCommand(newRTLVectorsCmd(), newRTLSynthCmd(), newRTLCosimCmd(), newRTLFitCmd())
	return cmd
}

func newRTLVectorsCmd() *cobra.Command {
	var unit, out string
	var params []string
	var n int
	var seed int64
	cmd := &cobra.Command{
		Use:     "vectors",
		Short:   "Write a unit's test vectors (in.hex, exp.hex), its test bench (tb.v) and source into a directory",
		Example: "  sparsesim rtl vectors --unit nm_pe --param N=2 --param M=8 -n 10000 -o vec && cd vec && iverilog -g2005 -s tb tb.v nm_pe.v && vvp -n a.out",
		Args:    cobra.NoArgs,
		RunE: userRunE(func(cmd *cobra.Command, _ []string) error {
			u, ok := rtl.Units[unit]
			if !ok {
				return usererr.New("--unit %s: unknown unit (allowed: %s)", unit, strings.Join(rtl.Names(), ", "))
			}
			given := map[string]int{}
			for _, kv := range params {
				k, v, ok := strings.Cut(kv, "=")
				iv, err := strconv.Atoi(v)
				if !ok || err != nil {
					return usererr.New("--param %s: expected NAME=integer", kv)
				}
				given[k] = iv
			}
			p, err := u.Resolve(given)
			if err != nil {
				return usererr.New("--param: %v", err)
			}
			if n < 1 || out == "" {
				return usererr.New("need -n ≥ 1 and -o DIR")
			}
			if err := rtl.Prepare(u, p, n, seed, out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s (%s): %d vectors in %s (latency the Go model uses: %d cycles)\n",
				u.Name, rtl.ParamString(p), n, out, u.Latency)
			return nil
		}),
	}
	cmd.Flags().StringVar(&unit, "unit", "", "unit: "+strings.Join(rtl.Names(), ", "))
	cmd.Flags().StringArrayVar(&params, "param", nil, "a Verilog parameter NAME=value (repeatable; others default)")
	cmd.Flags().IntVarP(&n, "count", "n", 10000, "vectors")
	cmd.Flags().Int64Var(&seed, "seed", 1, "random seed")
	cmd.Flags().StringVarP(&out, "out", "o", "", "output directory")
	return cmd
}

func newRTLSynthCmd() *cobra.Command {
	var out, only string
	cmd := &cobra.Command{
		Use:   "synth",
		Short: "Synthesise every unit at every parameter set, and whole arrays, with yosys (generic and synth_xilinx -family xcup) into a resource table",
		Long: `Units: yosys synth and synth_xilinx of each rtl/src unit at each parameter
set. Arrays: synth_xilinx of the whole weight-stationary array (sa_array,
PEs and skew lines) at the sizes of catalog.ArrayFitSizes (the FPGA model's
per-PE fit) and catalog.ArrayCheckSizes (kept out of the fit to measure its
error). --only units|arrays keeps the other kind's rows of the -o file.`,
		Args: cobra.NoArgs,
		RunE: userRunE(func(cmd *cobra.Command, _ []string) error {
			if !rtl.Available("yosys") {
				return usererr.New("yosys is not installed (apt-get install -y yosys)")
			}
			if only != "all" && only != "units" && only != "arrays" {
				return usererr.New("--only %s: expected all, units or arrays", only)
			}
			if only != "all" && out == "" {
				return usererr.New("--only %s needs -o FILE (the other rows are kept from it)", only)
			}
			var jobs []func() (rtl.SynthResult, error)
			if only != "arrays" {
				for _, name := range rtl.Names() {
					u := rtl.Units[name]
					for _, s := range u.Sets {
						p, _ := u.Resolve(s)
						jobs = append(jobs, func() (rtl.SynthResult, error) { return rtl.Synth(u, p) })
					}
				}
			}
			if only != "units" {
				for _, a := range append(append([]catalog.ArraySize(nil), catalog.ArrayFitSizes...), catalog.ArrayCheckSizes...) {
					jobs = append(jobs, func() (rtl.SynthResult, error) { return rtl.SynthArray(a) })
				}
			}
			progressOf(cmd).set(fmt.Sprintf("rtl synth: %d yosys runs", len(jobs)))
			var rows []string
			if only != "all" {
				old, err := os.ReadFile(out)
				if err != nil {
					return usererr.New("-o %s: %v", out, err)
				}
				lines := strings.Split(strings.TrimSpace(string(old)), "\n")
				for _, l := range lines[1:] {
					isArray := strings.HasPrefix(l, catalog.ArrayUnit+",")
					if (only == "arrays") != isArray {
						rows = append(rows, l+"\n")
					}
				}
			}
			results := make([]string, len(jobs))
			errs := make([]error, len(jobs))
			var wg sync.WaitGroup
			var mu sync.Mutex
			finished := 0
			sem := make(chan struct{}, defaultJobs())
			for i, job := range jobs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					r, err := job()
					results[i], errs[i] = r.CSV(), err
					fmt.Fprintf(cmd.ErrOrStderr(), "%s %s: LUT %d FF %d DSP %d\n", r.Unit, rtl.ParamString(r.Params), r.LUT, r.FF, r.DSP)
					mu.Lock()
					finished++
					progressOf(cmd).set(fmt.Sprintf("rtl synth: %d of %d yosys runs done", finished, len(jobs)))
					mu.Unlock()
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					return err
				}
			}
			rows = append(rows, results...)
			sort.Strings(rows)
			data := rtl.SynthCSVHeader + strings.Join(rows, "")
			if out == "" {
				_, err := cmd.OutOrStdout().Write([]byte(data))
				return err
			}
			return report.WriteFileAtomic(out, []byte(data))
		}),
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the table here (the FPGA model reads energy/catalog/rtl_resources.csv)")
	cmd.Flags().StringVar(&only, "only", "all", "all, units or arrays (the other rows are kept from -o)")
	return cmd
}

// parseGEMM reads MxNxK.
func parseGEMM(s string) (m, n, k int, err error) {
	parts := strings.Split(strings.ToLower(s), "x")
	if len(parts) != 3 {
		return 0, 0, 0, fmt.Errorf("expected MxNxK such as 64x64x64")
	}
	var v [3]int
	for i, p := range parts {
		if v[i], err = strconv.Atoi(p); err != nil || v[i] < 1 {
			return 0, 0, 0, fmt.Errorf("expected MxNxK with positive integers, got %q", p)
		}
	}
	return v[0], v[1], v[2], nil
}

func newRTLCosimCmd() *cobra.Command {
	var rows, cols, wb int
	var pattern, gemm, df, sim, out string
	var seed int64
	cmd := &cobra.Command{
		Use:   "cosim",
		Short: "Run a GEMM on the Verilog weight-stationary array (verilator, iverilog as fallback) and compare cycles with the model and outputs with the Go kernels",
		Long: `Maps the GEMM with the simulator's mapper, writes the fold schedule, the
weight tiles and the activations as memory images, runs the R x C array with
its fold controller on ideal memories, and prints JSON: rtl_cycles (cycle
index in which the last output leaves the array), model_cycles (the
simulator's ideal-DRAM compute cycles), outputs_match and max_abs_error
against nm.SparseGEMM / nm.DenseGEMMRef. Verilator builds are cached per
parameter set (rtl.CacheDir, $SPARSESIM_RTL_CACHE).`,
		Example: "  sparsesim rtl cosim --rows 8 --cols 8 --nm 2:4 --gemm 64x64x64",
		Args:    cobra.NoArgs,
		RunE: userRunE(func(cmd *cobra.Command, _ []string) error {
			if df != "ws" {
				return usererr.New("--dataflow %s: the Verilog array is weight-stationary only (allowed: ws)", df)
			}
			p, err := nm.Parse(pattern)
			if err != nil {
				return usererr.New("--nm %s: %v", pattern, err)
			}
			m, n, k, err := parseGEMM(gemm)
			if err != nil {
				return usererr.New("--gemm %s: %v", gemm, err)
			}
			if wb != 1 && wb != 2 {
				return usererr.New("--weight-buffers %d: expected 1 or 2", wb)
			}
			spec := rtl.CosimSpec{Rows: rows, Cols: cols, Pattern: p, M: m, N: n, K: k, Seed: seed, WeightBuffers: wb}
			if err := spec.Check(); err != nil {
				return usererr.New("rtl cosim: %v", err)
			}
			switch sim {
			case "auto":
				sim = "verilator"
				if !rtl.Available("verilator") {
					sim = "iverilog"
				}
			case "verilator", "iverilog":
			default:
				return usererr.New("--sim %s: unknown simulator (allowed: auto, verilator, iverilog)", sim)
			}
			if !rtl.Available(sim) {
				return usererr.New("--sim %s: not installed (apt-get install -y iverilog verilator)", sim)
			}
			// A size's first verilator build takes about a minute (then
			// it is cached): say so rather than sit silent.
			progressOf(cmd).set(fmt.Sprintf("rtl cosim: %dx%d array, %s, GEMM %dx%dx%d on %s (a new size's verilator build takes about a minute)", rows, cols, pattern, m, n, k, sim))
			res, err := rtl.Cosim(spec, sim)
			if err != nil {
				return err
			}
			b, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				return err
			}
			b = append(b, '\n')
			if out != "" {
				if err := report.WriteFileAtomic(out, b); err != nil {
					return err
				}
			} else if _, err := cmd.OutOrStdout().Write(b); err != nil {
				return err
			}
			if !res.CyclesMatch || !res.OutputsMatch {
				return fmt.Errorf("rtl cosim: cycles_match=%v outputs_match=%v", res.CyclesMatch, res.OutputsMatch)
			}
			return nil
		}),
	}
	cmd.Flags().IntVar(&rows, "rows", 8, "array rows (kept weights along K)")
	cmd.Flags().IntVar(&cols, "cols", 8, "array columns (outputs along N)")
	cmd.Flags().StringVar(&pattern, "nm", "dense", "weight pattern: dense or N:M (M up to 16)")
	cmd.Flags().StringVar(&gemm, "gemm", "64x64x64", "GEMM MxNxK: (M x K) activations times (K x N) weights")
	cmd.Flags().IntVar(&wb, "weight-buffers", 1, "weight registers per PE: 1, or 2 for the shadow-weight array (pe_array.weight_buffers)")
	cmd.Flags().StringVar(&df, "dataflow", "ws", "dataflow of the array (the RTL is weight stationary)")
	cmd.Flags().StringVar(&sim, "sim", "auto", "simulator: auto (verilator, else iverilog), verilator, iverilog")
	cmd.Flags().Int64Var(&seed, "seed", 1, "seed of the random operands")
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the JSON here instead of stdout")
	return cmd
}

func newRTLFitCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "fit",
		Short: "Print the FPGA model's per-PE fit of the synthesised arrays and its error on the sizes kept out of it",
		Args:  cobra.NoArgs,
		RunE: userRunE(func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			tb := report.NewTable(w)
			tb.Header("W", "M", "pts", "LUT/PE", "FF/PE", "DSP/PE", "LUT/(R+C)", "FF/(R+C)", "fit err")
			seen := map[[2]int]bool{}
			for _, a := range catalog.ArrayFitSizes {
				fam := [2]int{a.W, a.M}
				if seen[fam] {
					continue
				}
				seen[fam] = true
				f, ok := catalog.FitArray(a.M, a.W)
				if !ok {
					_ = tb.Append(a.W, a.M, 0, "no fit", "", "", "", "", "")
					continue
				}
				_ = tb.Append(a.W, a.M, f.Points, fmt.Sprintf("%.1f", f.PerPE[0]), fmt.Sprintf("%.1f", f.PerPE[1]), fmt.Sprintf("%.2f", f.PerPE[2]),
					fmt.Sprintf("%.1f", f.PerEdge[0]), fmt.Sprintf("%.1f", f.PerEdge[1]), fmt.Sprintf("%.1f%%", f.MaxFitErrPercent))
			}
			if err := tb.Render(); err != nil {
				return err
			}
			checks, err := catalog.CheckArrayFits()
			if err != nil {
				return usererr.New("rtl fit: %v", err)
			}
			fmt.Fprintln(w, "\nSizes kept out of the fit: yosys / fit (error)")
			tb = report.NewTable(w)
			tb.Header("array", "W", "M", "LUT", "FF", "DSP")
			for _, c := range checks {
				cell := func(j int) string {
					return fmt.Sprintf("%.0f / %.0f (%+.1f%%)", c.Yosys[j], c.Fit[j], c.ErrPercent[j])
				}
				_ = tb.Append(fmt.Sprintf("%dx%d", c.Size.R, c.Size.C), c.Size.W, c.Size.M, cell(0), cell(1), cell(2))
			}
			return tb.Render()
		}),
	}
}
