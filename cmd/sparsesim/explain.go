package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sparsesim/sparsesim/explain"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/limits"
)

func newExplainCmd() *cobra.Command {
	var o explain.Options
	var format string
	var topics []string
	var maxSize int64
	long := "Explain how the modelled hardware works on a small seeded example, with the\nreal kernels and timing models. Topics:\n"
	for _, t := range explain.Topics() {
		topics = append(topics, t.Name)
		long += "  " + t.Name + strings.Repeat(" ", 10-len(t.Name)) + t.Summary + "\n"
	}
	cmd := &cobra.Command{
		Use:   "explain TOPIC",
		Short: "Teach a topic (" + strings.Join(topics, ", ") + ") step by step on a seeded example",
		Long:  long,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usererr.New("explain needs one topic (got %d): %s", len(args), strings.Join(topics, ", "))
			}
			return nil
		},
		ValidArgs: topics,
		RunE: userRunE(func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return usererr.New("--format %s: explain writes text or json", format)
			}
			if o.Size < 0 {
				return usererr.New("--size must be at least 0 (0: the topic's default), got %d", o.Size)
			}
			if err := limits.ExplainSize.Check("explain "+args[0], float64(o.Size), maxSize); err != nil {
				return err
			}
			if _, err := explain.Run(args[0], explain.Options{Seed: 1, Size: 1}); err != nil {
				return err // an unknown topic, before any directory is made
			}
			if o.FigureDir != "" {
				if err := os.MkdirAll(o.FigureDir, 0o755); err != nil {
					return usererr.New("--figures %s: %v", o.FigureDir, err)
				}
			}
			progressOf(cmd).set("explain " + args[0])
			d, err := explain.Run(args[0], o)
			if err != nil {
				return err
			}
			for _, f := range d.Figures {
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", f)
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
	cmd.Flags().Int64Var(&maxSize, "max-size", limits.ExplainSize.Default, "refuse a larger --size (docs/limits.md)")
	return cmd
}
