package sweep

import (
	"encoding/json"
	"strings"
	"testing"
)

// Metrics that do not apply (FPGA resources on an ASIC point, speedup
// over dense on a dense point) are absent from the JSON and empty in the
// CSV, never 0.
func TestNotApplicableMetricsAreEmpty(t *testing.T) {
	r := Row{Point: 0, Params: map[string]string{}, Metrics: &Metrics{PEs: 64, Cycles: 100, EnergyPJ: ptr(5.0)}}
	b, _ := json.Marshal(r)
	for _, k := range []string{"lut", "dsp", "est_clock_mhz", "speedup_vs_dense"} {
		if strings.Contains(string(b), `"`+k+`"`) {
			t.Errorf("JSON has %s: %s", k, b)
		}
		if _, ok := r.Metrics.Get(k); ok {
			t.Errorf("Get(%s) claims a value", k)
		}
	}
	cells := strings.Split(strings.TrimSpace(string(r.csvLine(nil))), ",")
	for i, n := range MetricNames {
		switch n {
		case "lut", "ff", "dsp", "bram36", "uram", "est_clock_mhz", "speedup_vs_dense":
			if cells[1+i] != "" {
				t.Errorf("CSV %s = %q", n, cells[1+i])
			}
		case "pes":
			if cells[1+i] != "64" {
				t.Errorf("CSV pes = %q", cells[1+i])
			}
		}
	}
	if !IsMetric("lut") || CheckObjectives([]string{"cycles", "lut"}) != nil {
		t.Error("lut is a metric")
	}
	// An objective that applies to no point does not make every point
	// optimal by reading 0.
	a := Row{Point: 0, Metrics: &Metrics{Cycles: 10}}
	b2 := Row{Point: 1, Metrics: &Metrics{Cycles: 20}}
	if f := Pareto([]Row{a, b2}, []string{"cycles", "lut"}); len(f) != 1 || f[0].Point != 0 {
		t.Errorf("front %v", f)
	}
}

// An FPGA design whose buffers fit BRAM uses no URAM: that is a measured
// 0, written as 0, not left empty as if the point had no URAM figure.
func TestMeasuredZeroIsWritten(t *testing.T) {
	spec := Spec{Config: "sat-vcu1525", Workload: topo, Batch: 1, Phase: "inference",
		Sets: []string{"buffers.ifmap_kb=64", "buffers.filter_kb=64", "buffers.ofmap_kb=64"}}
	r := RunPoint(spec, Point{})
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	if v, ok := r.Metrics.Get("uram"); !ok || v != 0 {
		t.Fatalf("uram %g (applies %v)", v, ok)
	}
	if c := strings.Split(string(r.csvLine(nil)), ",")[1+metricIndex["uram"]]; c != "0" {
		t.Errorf("CSV uram %q", c)
	}
	if !strings.Contains(string(r.jsonLine()), `"uram":0,`) {
		t.Errorf("JSON %s", r.jsonLine())
	}
}
