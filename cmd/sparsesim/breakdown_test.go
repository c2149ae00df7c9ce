package main

import (
	"encoding/json"
	"testing"
)

// --breakdown's first row (no technique) is the same run as the
// standalone one with every technique switched off: same cycles.
func TestBreakdownDenseRowMatchesStandaloneRun(t *testing.T) {
	trace := "../../../shared/reference/spatten/small.csv"
	code, out, errs := run(t, "run", "-c", "spatten", "-w", trace, "--breakdown", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var b struct {
		Breakdown []struct{ Cycles int64 } `json:"breakdown"`
	}
	if err := json.Unmarshal([]byte(out), &b); err != nil || len(b.Breakdown) == 0 {
		t.Fatalf("%v %s", err, out)
	}
	code, out, errs = run(t, "run", "-c", "spatten", "-w", trace, "--format", "json", "--set", "attention.token_pruning=false",
		"--set", "attention.head_pruning=false", "--set", "attention.local_v_pruning=false", "--set", "attention.progressive_quant=false")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r struct {
		Total struct{ Cycles int64 } `json:"total"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if b.Breakdown[0].Cycles != r.Total.Cycles {
		t.Errorf("breakdown dense row %d cycles, standalone run %d", b.Breakdown[0].Cycles, r.Total.Cycles)
	}
}
