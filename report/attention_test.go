package report

import (
	"testing"

	"github.com/sparsesim/sparsesim/arch/engines"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/traces"
	"github.com/sparsesim/sparsesim/workloads"
)

const spattenTrace = "../../shared/reference/spatten/summary-gpt2-small-wikitext2-per8.csv"

// An attention run's layers overlap in time and share the run out; every
// per-layer field must still mean what docs/report.md says. The bounds
// are physical: no window can do more MACs than the engine's multipliers
// can in its cycles, and no unit can be busy longer than the window.
// (Before the fix, BERT-base's layer9 reported utilization 1.113 and
// compute 48,455 in 48,454 cycles; GPT-2-small's layer7 1016.)
func TestAttentionLayerAccounting(t *testing.T) {
	for _, tc := range []struct{ cfg, workload string }{
		{"spatten", "bert-base"},
		{"spatten", "gpt2-small"},
		{"spatten", spattenTrace},
		{"spatten-1-8", spattenTrace},
	} {
		cfg, err := configs.Load(tc.cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		w, err := traces.LoadFor(cfg, tc.workload, workloads.Params{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := engines.Simulate(cfg, w)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := New(res, nil)
		if err != nil {
			t.Fatal(err)
		}
		name := tc.cfg + " " + tc.workload
		mults := float64(cfg.Attention.QKMultipliers + cfg.Attention.PVMultipliers)
		var cycles, windowMACs int64
		for _, l := range rep.Layers {
			if l.WindowMACs == nil {
				t.Fatalf("%s %s: no window_macs", name, l.Name)
			}
			wm := *l.WindowMACs
			if l.Utilization > 1 || float64(wm) > mults*float64(l.Cycles) {
				t.Errorf("%s %s: utilization %.4f (window_macs %d, macs %d, in %d cycles on %g multipliers)", name, l.Name, l.Utilization, wm, l.MACs, l.Cycles, mults)
			}
			if want := float64(wm) / (mults * float64(l.Cycles)); l.Cycles > 0 && l.Utilization != want {
				t.Errorf("%s %s: utilization %g, window_macs / (cycles × multipliers) = %g", name, l.Name, l.Utilization, want)
			}
			if l.ComputeCycles > l.Cycles {
				t.Errorf("%s %s: compute %d cycles > cycles %d", name, l.Name, l.ComputeCycles, l.Cycles)
			}
			if l.StallCycles < 0 || l.StallCycles+l.ComputeCycles < l.Cycles {
				t.Errorf("%s %s: stalls %d + compute %d do not cover cycles %d", name, l.Name, l.StallCycles, l.ComputeCycles, l.Cycles)
			}
			cycles += l.Cycles
			windowMACs += wm
		}
		// The layers partition the run: their cycles and the MACs done in
		// them add up to the run's.
		if cycles != rep.Total.Cycles {
			t.Errorf("%s: layers' cycles add up to %d, total.cycles %d", name, cycles, rep.Total.Cycles)
		}
		if windowMACs != rep.Total.MACs {
			t.Errorf("%s: layers' window_macs add up to %d, total.macs %d", name, windowMACs, rep.Total.MACs)
		}
		if rep.Total.Utilization > 1 {
			t.Errorf("%s: total utilization %.4f", name, rep.Total.Utilization)
		}
	}
}
