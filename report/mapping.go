package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/arch/systolic"
	"github.com/sparsesim/sparsesim/internal/usererr"
)

// MappingSearch is one layer's mapper search as --explain-mapping prints
// it: the choice and every candidate compared, in analytic rank order.
type MappingSearch struct {
	Layer      string                      `json:"layer"`
	Choice     arch.MappingChoice          `json:"choice"`
	Candidates []systolic.MappingCandidate `json:"candidates"`
}

// RenderMappingSearch writes the search as a table or JSON.
func RenderMappingSearch(w io.Writer, layer string, c arch.MappingChoice, rows []systolic.MappingCandidate, format string) error {
	switch format {
	case "json":
		return writeJSON(w, MappingSearch{Layer: layer, Choice: c, Candidates: rows})
	case "table":
	default:
		return usererr.New("--format %s: --explain-mapping writes table or json", format)
	}
	fmt.Fprintf(w, "%s: %s mapping %s, time tile %d × %d\n", layer, c.Search, c.Order, c.TimeTile, c.TimeTiles)
	fmt.Fprintf(w, "loops, outermost first: %s\n", c.Loops)
	fmt.Fprintf(w, "%s\n", wrap(c.Why, Width))
	fmt.Fprintf(w, "objective %s; order: R row folds, C column folds, T time tiles,\noutermost first; * the one that runs\n", c.Objective)
	t := NewTable(w)
	t.Header([]string{"", "df", "order", "tile", "est cycles", "est MB", "psums", "simulated"})
	mb := func(b int64) string { return strconv.FormatFloat(float64(b)/1e6, 'f', 3, 64) }
	for _, r := range rows {
		mark, sim := "", "-"
		if r.Chosen {
			mark = "*"
		}
		switch {
		case r.Stopped:
			sim = "stopped"
		case r.Simulated:
			sim = strconv.FormatFloat(r.Value, 'g', 7, 64)
		}
		psums := "spill"
		if r.PsumsOnChip {
			psums = "on chip"
		}
		_ = t.Append([]string{mark, r.Dataflow, r.Order, fmt.Sprintf("%d×%d", r.TimeTile, r.TimeTiles),
			strconv.FormatInt(r.EstCycles, 10), mb(r.EstBytes), psums, sim})
	}
	return t.Render()
}

// wrap breaks s at spaces into lines of at most width characters.
func wrap(s string, width int) string {
	var out []byte
	line := 0
	for i, word := range strings.Fields(s) {
		n := utf8.RuneCountInString(word)
		if i > 0 && line+1+n > width {
			out = append(out, '\n')
			line = 0
		} else if i > 0 {
			out = append(out, ' ')
			line++
		}
		out = append(out, word...)
		line += n
	}
	return string(out)
}
