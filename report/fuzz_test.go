package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/arch/engines"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads"
)

// FuzzPlotTimeline feeds mangled timeline files to `plot --timeline`.
func FuzzPlotTimeline(f *testing.F) {
	cfg, _ := configs.Load("systolic-32x32", nil)
	tl := arch.NewTimeline(300)
	if _, err := engines.SimulateTimeline(cfg, workloads.Workload{Layers: []workloads.Layer{workloads.GEMM("a", 64, 64, 64)}}, tl); err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	_ = tl.WriteJSON(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte(`{"traceEvents":[{"name":"thread_name","ph":"M","tid":1,"args":{"name":"u"}},{"name":"a","ph":"X","ts":0,"dur":-1,"tid":1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tf, err := arch.ParseTimeline(b)
		if err != nil {
			return // the CLI wraps this as a user error
		}
		fig, _, err := TimelineFigure(tf, "tl.json")
		if err != nil {
			if !usererr.Is(err) || strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("%v", err)
			}
			return
		}
		_ = fig
	})
}
