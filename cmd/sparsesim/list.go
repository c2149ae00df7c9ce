package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

func newConfigsCmd() *cobra.Command {
	var show string
	var wide bool
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
			var cfgs []*configs.Config
			for _, n := range configs.Embedded() {
				c, err := configs.Load(n, nil)
				if err != nil {
					return err
				}
				cfgs = append(cfgs, c)
			}
			return report.ConfigsTable(out, cfgs, wide)
		}),
	}
	cmd.Flags().StringVar(&show, "show", "", "print the YAML of one embedded architecture")
	cmd.Flags().BoolVar(&wide, "wide", false, "one table, descriptions beside the parameters (wider than 80 columns)")
	return cmd
}

func newWorkloadsCmd() *cobra.Command {
	var wide bool
	cmd := &cobra.Command{
		Use:   "workloads",
		Short: "List the model zoo",
		Args:  cobra.NoArgs,
		RunE: userRunE(func(cmd *cobra.Command, _ []string) error {
			var zoo []report.ZooModel
			for _, m := range workloads.Models() {
				w, err := m.Build(workloads.Params{})
				if err != nil {
					return err
				}
				zoo = append(zoo, report.ZooModel{Model: m, Layers: len(w.Layers), MACs: w.MACs()})
			}
			return report.WorkloadsTable(cmd.OutOrStdout(), zoo, llm.Models(), wide)
		}),
	}
	cmd.Flags().BoolVar(&wide, "wide", false, "add each model's source (wider than 80 columns)")
	return cmd
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
