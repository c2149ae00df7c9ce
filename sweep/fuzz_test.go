package sweep

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/internal/usererr"
)

// FuzzPlotResults feeds mangled results.jsonl files to `plot`: reading
// them and building the x/y figure either works, with a figure that
// passes its picture checks, or fails with one user-error line.
func FuzzPlotResults(f *testing.F) {
	f.Add([]byte(`{"point":0,"params":{"pe_array.rows":"8","dataflow":"ws"},"metrics":{"pes":64,"cycles":1000,"utilization":0.5,"energy_pj":1.4e11}}
{"point":1,"params":{"pe_array.rows":"16","dataflow":"os"},"metrics":{"pes":128,"cycles":600,"utilization":0.4,"energy_pj":1.2e11}}
{"point":2,"params":{"pe_array.rows":"16","dataflow":"os"},"error":"bad"}
`), "pe_array.rows", "cycles", "dataflow")
	f.Add([]byte(`{"point":0,"params":{"x":"1"},"metrics":{"cycles":-5}}`+"\n"), "x", "cycles", "")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text []byte, x, y, color string) {
		p := filepath.Join(dir, "results.jsonl")
		if err := os.WriteFile(p, text, 0o644); err != nil {
			t.Fatal(err)
		}
		rows, _, err := ReadRows(p)
		if err != nil {
			if !usererr.Is(err) || strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("read: %v", err)
			}
			return
		}
		fig, err := XYFigure(rows, x, y, color)
		if err != nil {
			if !usererr.Is(err) || strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("figure: %v", err)
			}
			return
		}
		if err := fig.Check(); err != nil {
			t.Fatalf("figure of %d rows: %v", len(rows), err)
		}
	})
}
