package sweep

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/report"
)

// DefaultObjectives are minimised by the Pareto front: cycles and energy,
// or with an FPGA target cycles against LUTs and DSPs.
func DefaultObjectives(fpga bool) []string {
	if fpga {
		return []string{"cycles", "lut", "dsp"}
	}
	return []string{"cycles", "energy_pj"}
}

// CheckObjectives rejects names that are not metrics.
func CheckObjectives(obj []string) error {
	for _, o := range obj {
		if !IsMetric(o) {
			return usererr.New("--objectives %s: unknown metric (known: %s)", o, strings.Join(MetricNames, ", "))
		}
	}
	return nil
}

// Pareto returns the successful rows no other row dominates (all
// objectives ≤ and one <), in point order.
func Pareto(rows []Row, obj []string) []Row {
	var ok []Row
	var vals [][]float64 // objectives per row, computed once
	for _, r := range rows {
		if r.Metrics == nil {
			continue
		}
		all := r.Metrics.All()
		v := make([]float64, len(obj))
		for i, o := range obj {
			x, ok := all[o]
			if !ok {
				x = math.Inf(1) // does not apply: never better than a value
			}
			v[i] = x
		}
		ok, vals = append(ok, r), append(vals, v)
	}
	var front []Row
	for i, a := range ok {
		va := vals[i]
		dominated := false
		for j := range ok {
			if i == j {
				continue
			}
			vb := vals[j]
			le, lt := true, false
			for k := range vb {
				le = le && vb[k] <= va[k]
				lt = lt || vb[k] < va[k]
			}
			if le && lt {
				dominated = true
				break
			}
		}
		if !dominated {
			front = append(front, a)
		}
	}
	return front
}

// WritePareto writes pareto.csv (the front's rows) and prints it as a table.
func WritePareto(dir string, keys, obj []string, front []Row, w io.Writer) error {
	var buf bytes.Buffer
	buf.Write(csvHeader(keys))
	for _, r := range front {
		buf.Write(r.csvLine(keys))
	}
	if err := report.WriteFileAtomic(dir+"/pareto.csv", buf.Bytes()); err != nil {
		return err
	}
	if w == nil {
		return nil
	}
	fmt.Fprintf(w, "Pareto front over %s (%d points):\n", strings.Join(obj, ", "), len(front))
	tb := report.NewTable(w)
	header := []any{"point"}
	for _, k := range keys {
		header = append(header, k)
	}
	for _, o := range obj {
		header = append(header, o)
	}
	tb.Header(header...)
	for _, r := range front {
		row := []any{r.Point}
		for _, k := range keys {
			row = append(row, r.Params[k])
		}
		for _, o := range obj {
			v, ok := r.Metrics.Get(o)
			if !ok {
				row = append(row, "")
				continue
			}
			row = append(row, strconv.FormatFloat(v, 'g', 6, 64))
		}
		_ = tb.Append(row...)
	}
	return tb.Render()
}
