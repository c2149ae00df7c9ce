package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/rtl"
)

func newRTLCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "rtl", Short: "Verilog units: test vectors from the Go model, synthesis resource tables"}
	cmd.AddCommand(newRTLVectorsCmd(), newRTLSynthCmd())
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
	var out string
	cmd := &cobra.Command{
		Use:   "synth",
		Short: "Synthesise every unit at every parameter set with yosys (generic and synth_xilinx -family xcup) into a resource table",
		Args:  cobra.NoArgs,
		RunE: userRunE(func(cmd *cobra.Command, _ []string) error {
			if !rtl.Available("yosys") {
				return usererr.New("yosys is not installed (apt-get install -y yosys)")
			}
			type job struct {
				u *rtl.Unit
				p map[string]int
			}
			var jobs []job
			for _, name := range rtl.Names() {
				u := rtl.Units[name]
				for _, s := range u.Sets {
					p, _ := u.Resolve(s)
					jobs = append(jobs, job{u, p})
				}
			}
			rows := make([]string, len(jobs))
			errs := make([]error, len(jobs))
			var wg sync.WaitGroup
			sem := make(chan struct{}, defaultJobs())
			for i, j := range jobs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					r, err := rtl.Synth(j.u, j.p)
					rows[i], errs[i] = r.CSV(), err
					fmt.Fprintf(cmd.ErrOrStderr(), "%s %s: LUT %d FF %d DSP %d\n", j.u.Name, rtl.ParamString(j.p), r.LUT, r.FF, r.DSP)
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					return err
				}
			}
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
	return cmd
}
