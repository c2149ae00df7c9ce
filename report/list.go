package report

import (
	"fmt"
	"io"
	"strconv"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// ConfigsTable writes `sparsesim configs`: the parameters, then the
// descriptions wrapped to fit Width (beside the parameters they would not
// fit); wide puts them in one table however wide it gets.
func ConfigsTable(w io.Writer, cfgs []*configs.Config, wide bool) error {
	header := []string{"name", "array", "dataflow", "MHz", "DRAM"}
	if wide {
		header = append(header, "description")
	}
	params := FitTable{Header: header, Wrap: 1}
	desc := FitTable{Header: []string{"name", "description"}, Wrap: 1}
	for _, c := range cfgs {
		row := []string{c.Name, c.ArrayName(), c.Dataflow,
			strconv.FormatFloat(c.ClockMHz, 'f', -1, 64), dramSummary(c)}
		if wide {
			row = append(row, c.Description)
		}
		params.Rows = append(params.Rows, row)
		desc.Rows = append(desc.Rows, []string{c.Name, c.Description})
	}
	if err := params.Render(w); err != nil {
		return err
	}
	if !wide {
		fmt.Fprintln(w)
		if err := desc.Render(w); err != nil {
			return err
		}
	}
	lines{w}.Printf("every field of one: sparsesim configs --show NAME")
	return nil
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

// ZooModel is a zoo entry with the size of its default build.
type ZooModel struct {
	workloads.Model
	Layers int
	MACs   int64
}

// WorkloadsTable writes `sparsesim workloads`: the layer-list zoo and the
// LLM zoo, descriptions wrapped to fit Width; wide adds each model's
// source, however wide the tables get.
func WorkloadsTable(w io.Writer, zoo []ZooModel, llms []llm.Model, wide bool) error {
	header := []string{"name", "layers", "GMACs", "seq", "description"}
	lheader := []string{"name", "shape"}
	wrap := 4
	if wide {
		header, lheader, wrap = append(header, "source"), append(lheader, "source"), -1
	}
	tb := FitTable{Header: header, Wrap: wrap}
	for _, m := range zoo {
		seq := "-"
		if m.DefaultSeq > 0 {
			seq = strconv.Itoa(m.DefaultSeq)
		}
		row := []string{m.Name, strconv.Itoa(m.Layers), fmt.Sprintf("%.2f", float64(m.MACs)/1e9), seq, m.Description}
		if wide {
			row = append(row, m.Source)
		}
		tb.Rows = append(tb.Rows, row)
	}
	if err := tb.Render(w); err != nil {
		return err
	}
	p := lines{w}
	p.Printf("seq: the default --seq of transformers")
	fmt.Fprintln(w)
	p.Printf("LLMs for --phase prefill, decode or generate (or a Hugging Face config.json):")
	lt := FitTable{Header: lheader, Wrap: 1}
	if wide {
		lt.Wrap = -1
	}
	for _, m := range llms {
		row := []string{m.Name, m.Describe()}
		if wide {
			row = append(row, m.Source)
		}
		lt.Rows = append(lt.Rows, row)
	}
	if err := lt.Render(w); err != nil {
		return err
	}
	if !wide {
		p.Printf("where each model's shapes come from: sparsesim workloads --wide")
	}
	return nil
}
