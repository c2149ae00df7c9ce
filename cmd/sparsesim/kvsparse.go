package main

import (
	"bytes"

	"github.com/spf13/cobra"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// runKVSparse runs a decode with kv_sparsity.method set: the report, or
// with --breakdown every method's row (written here; nil report).
func runKVSparse(cmd *cobra.Command, f runFlags, cfg *configs.Config, m llm.Model, o arch.LLMOptions) (*report.LLMReport, error) {
	if f.breakdown {
		rows, err := report.KVBreakdown(cfg, m, o)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := report.RenderKVBreakdown(&buf, rows, f.format); err != nil {
			return nil, err
		}
		return nil, writeOut(cmd, f.out, buf.Bytes())
	}
	r, err := arch.SimulateKVSparse(cfg, m, o)
	if err != nil {
		return nil, err
	}
	return report.NewKVSparsity(r), nil
}
