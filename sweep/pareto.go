package sweep

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/report"
)

// DefaultObjectives are the Pareto front's objectives: cycles and
// energy, or with an FPGA target cycles against LUTs and DSPs.
func DefaultObjectives(fpga bool) []string {
	if fpga {
		return []string{"cycles", "lut", "dsp"}
	}
	return []string{"cycles", "energy_pj"}
}

// maximised are the metrics where more is better (a rate, a speedup, a
// share, a recall); every other metric (times, cycles, traffic, energy,
// resources, mass_lost, output_rel_error) is better smaller. The front
// minimises, so it negates these (objectiveValues).
var maximised = map[string]bool{
	"utilization": true, "gops": true, "gops_per_w": true, "speedup_vs_dense": true, "est_clock_mhz": true,
	"tokens_per_second": true, "attention_speedup": true, "tpot_speedup": true, "mass_recall": true,
}

// Maximised reports whether the Pareto front prefers more of a metric.
func Maximised(name string) bool { return maximised[name] }

// ObjectiveText names an objective with its direction ("min cycles",
// "max tokens_per_second") for titles and headers.
func ObjectiveText(name string) string {
	if maximised[name] {
		return "max " + name
	}
	return "min " + name
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

// objectiveValues appends a row's objectives (vals in MetricNames order)
// to dst as ParetoIndices minimises them: a maximised metric negated, and
// one that does not apply to the row +Inf, never better than a value.
func objectiveValues(dst, vals []float64, obj []string) []float64 {
	for _, o := range obj {
		x := vals[metricIndex[o]]
		switch {
		case math.IsNaN(x):
			x = math.Inf(1)
		case maximised[o]:
			x = -x
		}
		dst = append(dst, x)
	}
	return dst
}

// Pareto returns the successful rows no other row dominates (every
// objective as good, in its direction, and one better), in point order.
func Pareto(rows []Row, obj []string) []Row {
	var ok []Row
	var vals []float64 // objectives per row, computed once, flat
	for _, r := range rows {
		if r.Metrics == nil {
			continue
		}
		vals = objectiveValues(vals, r.Metrics.Values(), obj)
		ok = append(ok, r)
	}
	var front []Row
	for _, i := range ParetoIndices(vals, len(obj)) {
		front = append(front, ok[i])
	}
	return front
}

// ParetoIndices returns, in increasing order, the indices of the
// non-dominated points among len(vals)/k points of k objectives each
// (vals[i*k+j] is objective j of point i; all minimised; a point is
// dominated when another is ≤ in every objective and < in one, so equal
// points are all kept).
//
// Points are sorted lexicographically first, because a dominating point
// always sorts before the one it dominates. With two objectives one pass
// then keeps the running minimum of the second objective: O(n log n).
// With more, each point is compared against the front found so far
// (domination is transitive, so that suffices): O(n log n + n·front).
func ParetoIndices(vals []float64, k int) []int {
	if k == 0 || len(vals) == 0 {
		return nil
	}
	n := len(vals) / k
	v := func(i, j int) float64 { return vals[i*k+j] }
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		ia, ib := order[a], order[b]
		for j := 0; j < k; j++ {
			if x, y := v(ia, j), v(ib, j); x != y {
				return x < y
			}
		}
		return ia < ib
	})
	var front []int
	switch k {
	case 1:
		for _, i := range order {
			if v(i, 0) == v(order[0], 0) {
				front = append(front, i)
			}
		}
	case 2:
		// Within a run of equal first objectives (sorted by the second),
		// a point is dominated if the run's first is better in the second
		// objective, or if an earlier run (better first) is no worse in it.
		best := math.Inf(1) // least second objective of the earlier runs
		for s := 0; s < n; {
			e := s
			for e < n && v(order[e], 0) == v(order[s], 0) {
				e++
			}
			runMin := v(order[s], 1)
			for _, i := range order[s:e] {
				// (s == 0: no earlier run; this also keeps a front when an
				// objective applies to no point and reads +Inf everywhere.)
				if y := v(i, 1); y == runMin && (s == 0 || y < best) {
					front = append(front, i)
				}
			}
			best = math.Min(best, runMin)
			s = e
		}
	default:
		for _, i := range order {
			dominated := false
			for _, f := range front {
				if dominates(vals[f*k:f*k+k], vals[i*k:i*k+k]) {
					dominated = true
					break
				}
			}
			if !dominated {
				front = append(front, i)
			}
		}
	}
	sort.Ints(front)
	return front
}

// dominates reports whether a is ≤ b in every objective and < in one.
func dominates(a, b []float64) bool {
	lt := false
	for j := range a {
		if a[j] > b[j] {
			return false
		}
		lt = lt || a[j] < b[j]
	}
	return lt
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
	fmt.Fprintf(w, "Pareto front over %s (%d points):\n", objectivesText(obj), len(front))
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

// objectivesText lists objectives with their directions.
func objectivesText(obj []string) string {
	t := make([]string, len(obj))
	for i, o := range obj {
		t[i] = ObjectiveText(o)
	}
	return strings.Join(t, ", ")
}
