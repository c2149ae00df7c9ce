package main

import (
	"bytes"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sparsesim/sparsesim/explain"
	"github.com/sparsesim/sparsesim/internal/usererr"
)

func newExplainCmd() *cobra.Command {
	var o explain.Options
	var format string
	var topics []string
	long := "Explain how the modelled hardware works on a small seeded example, with the\nreal kernels and timing models. Topics:\n"
	for _, t := range explain.Topics() {
		topics = append(topics, t.Name)
		long += "  " + t.Name + strings.Repeat(" ", 10-len(t.Name)) + t.Summary + "\n"
	}
	cmd := &cobra.Command{
		Use:       "explain TOPIC",
		Short:     "Teach a topic (" + strings.Join(topics, ", ") + ") step by step on a seeded example",
		Long:      long,
		Args:      cobra.ExactArgs(1),
		ValidArgs: topics,
		RunE: userRunE(func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return usererr.New("--format %s: explain writes text or json", format)
			}
			if o.FigureDir != "" {
				if err := os.MkdirAll(o.FigureDir, 0o755); err != nil {
					return usererr.New("--figures %s: %v", o.FigureDir, err)
				}
			}
			if o.Size < 0 || o.Size > 4096 {
				return usererr.New("--size must be from 0 (default) to 4096, got %d", o.Size)
			}
			d, err := explain.Run(args[0], o)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if format == "json" {
				err = d.JSON(&buf)
			} else {
				err = d.Text(&buf)
			}
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(buf.Bytes())
			return err
		}),
	}
	cmd.Flags().Int64Var(&o.Seed, "seed", 1, "seed of the example")
	cmd.Flags().IntVar(&o.Size, "size", 0, "size of the example (0: the topic's default)")
	cmd.Flags().StringVarP(&format, "format", "f", "text", "text or json")
	cmd.Flags().StringVar(&o.FigureDir, "figures", "", "write PNG figures into this directory")
	return cmd
}
