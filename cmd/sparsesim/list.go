package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/workloads"
)

func newConfigsCmd() *cobra.Command {
	var show string
	cmd := &cobra.Command{
		Use:   "configs",
		Short: "List the embedded architectures (or print one with --show NAME)",
		Args:  cobra.NoArgs,
		RunE: userRunE(func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if show != "" {
				b, ok := configs.EmbeddedSource(show)
				if !ok {
					return usererr.New("--show %s: no embedded config of that name (embedded: %s)", show, strings.Join(configs.Embedded(), ", "))
				}
				_, err := out.Write(b)
				return err
			}
			tb := report.NewTable(out)
			tb.Header("name", "array", "dataflow", "clock MHz", "DRAM", "description")
			for _, n := range configs.Embedded() {
				c, err := configs.Load(n, nil)
				if err != nil {
					return err
				}
				tb.Append(n, fmt.Sprintf("%dx%d %s", c.PEArray.Rows, c.PEArray.Cols, c.PEArray.DType), c.Dataflow,
					c.ClockMHz, dramSummary(c), c.Description)
			}
			return tb.Render()
		}),
	}
	cmd.Flags().StringVar(&show, "show", "", "print the YAML of one embedded architecture")
	return cmd
}

// dramSummary describes the memory as the simulation uses it: an ideal
// DRAM answers every request at once, so its bandwidth field is unused and
// not shown.
func dramSummary(c *configs.Config) string {
	switch c.DRAM.Model {
	case configs.DRAMIdeal:
		return "ideal (no bandwidth limit)"
	case configs.DRAMDetailed:
		return fmt.Sprintf("detailed %dx%s", c.DRAM.Channels, c.DRAM.Preset)
	}
	return fmt.Sprintf("%s %dx%.1f GB/s", c.DRAM.Model, c.DRAM.Channels, c.DRAM.BandwidthGBps)
}

func newWorkloadsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "workloads",
		Short: "List the model zoo",
		Args:  cobra.NoArgs,
		RunE: userRunE(func(cmd *cobra.Command, _ []string) error {
			tb := report.NewTable(cmd.OutOrStdout())
			tb.Header("name", "layers", "GMACs", "default seq", "description", "source")
			for _, m := range workloads.Models() {
				w, err := m.Build(workloads.Params{})
				if err != nil {
					return err
				}
				seq := "-"
				if m.DefaultSeq > 0 {
					seq = fmt.Sprint(m.DefaultSeq)
				}
				tb.Append(m.Name, len(w.Layers), fmt.Sprintf("%.2f", float64(w.MACs())/1e9), seq, m.Description, m.Source)
			}
			if err := tb.Render(); err != nil {
				return err
			}
			return listLLMs(cmd.OutOrStdout())
		}),
	}
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: userRunE(func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), versionLine())
			return nil
		}),
	}
}
