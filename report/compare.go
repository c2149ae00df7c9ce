package report

import (
	"fmt"
	"io"

	"github.com/sparsesim/sparsesim/compare"
)

// CompareTable writes `sparsesim compare`'s results within Width: the
// agreement and the time and energy in two tables (ten columns do not fit
// one), each case's shape and tolerance below them (docs/trace.md).
func CompareTable(w io.Writer, results []compare.Result) error {
	g := func(v float64) string { return fmt.Sprintf("%.3g", v) }
	agree := FitTable{Header: []string{"case", "config", "match", "max abs err", "max rel err"}, Wrap: 1}
	speed := FitTable{Header: []string{"case", "CPU time", "accel time", "speedup", "energy ratio"}, Wrap: -1}
	for _, r := range results {
		agree.Rows = append(agree.Rows, []string{r.Case, r.Config, fmt.Sprint(r.Match), g(r.MaxAbsError), g(r.MaxRelError)})
		speed.Rows = append(speed.Rows, []string{r.Case, humanSeconds(r.CPUSeconds), humanSeconds(r.SimSeconds),
			fmt.Sprintf("%.1fx", r.Speedup), fmt.Sprintf("%.0fx", r.EnergyRatio)})
	}
	if err := agree.Render(w); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if err := speed.Render(w); err != nil {
		return err
	}
	p := lines{w}
	for _, r := range results {
		p.Printf("%s: %s; tolerance %s", r.Case, r.Shape, r.Tolerance)
	}
	// The CPU settings come from the same flags for every case: once,
	// unless they differ.
	same := true
	for _, r := range results {
		same = same && r.CPUThreads == results[0].CPUThreads && r.Runs == results[0].Runs && r.CPUWatts == results[0].CPUWatts
	}
	for i, r := range results {
		if same && i > 0 {
			break
		}
		who := "CPU"
		if !same {
			who = r.Case + ": CPU"
		}
		p.Printf("%s time: median of %d runs on %d threads", who, r.Runs, r.CPUThreads)
		p.Printf("%s energy: %.0f W (assumed) × CPU time; energy ratio: CPU ÷ accelerator", who, r.CPUWatts)
	}
	p.Printf("accel time: the accelerator's simulated time (cycles ÷ MHz), not wall time")
	return nil
}
