package sweep

import (
	"testing"
)

// TestLLMDecodeSweep: a sweep over Quest's budget runs decode points
// whose metrics carry the kv_sparsity figures; a larger budget loses
// less attention mass and costs more time per token.
func TestLLMDecodeSweep(t *testing.T) {
	spec := Spec{Config: "llm-128x128", Workload: "llama-3.2-1b", Phase: "decode", Prompt: 2048, Gen: 3, Batch: 1,
		Sets: []string{"kv_sparsity.method=quest", "kv_sparsity.sample_steps=2"},
		Axes: []Axis{{Key: "kv_sparsity.budget", Values: []string{"256", "1024"}}}, Objectives: []string{"seconds", "mass_lost"}}
	pts, err := Points(spec.Axes, spec.Zip)
	if err != nil {
		t.Fatal(err)
	}
	var rows []Row
	for _, p := range pts {
		r := RunPoint(spec, p)
		if r.Error != "" || r.Metrics == nil {
			t.Fatalf("point %d: %s", p.Index, r.Error)
		}
		rows = append(rows, r)
	}
	a, b := rows[0].Metrics, rows[1].Metrics
	if a.MassLost <= b.MassLost || a.Seconds >= b.Seconds || a.AttentionSpeedup <= b.AttentionSpeedup {
		t.Errorf("budget 256: %+v\nbudget 1024: %+v", a, b)
	}
	if a.MassRecall+a.MassLost != 1 || a.Cycles <= 0 {
		t.Errorf("metrics %+v", a)
	}
}
