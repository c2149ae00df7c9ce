package main

import (
	"fmt"
	"io"

	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// listLLMs prints the LLM zoo for `sparsesim workloads`.
func listLLMs(w io.Writer) error {
	fmt.Fprintln(w, "\nLLMs for --phase prefill, decode or generate (or give a Hugging Face config.json path):")
	tb := report.NewTable(w)
	tb.Header("name", "shape", "source")
	for _, m := range llm.Models() {
		_ = tb.Append(m.Name, m.Describe(), m.Source)
	}
	return tb.Render()
}
