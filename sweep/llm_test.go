package sweep

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/inference"
	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/workloads/llm"
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
	a, b := rows[0].Metrics.All(), rows[1].Metrics.All()
	if a["mass_lost"] <= b["mass_lost"] || a["seconds"] >= b["seconds"] || a["attention_speedup"] <= b["attention_speedup"] {
		t.Errorf("budget 256: %v\nbudget 1024: %v", a, b)
	}
	if a["mass_recall"]+a["mass_lost"] != 1 || a["cycles"] <= 0 {
		t.Errorf("metrics %v", a)
	}
}

// An LLM point carries the run JSON's llm figures under the llm block's
// own names (ttft_seconds only when the point runs a prefill), and the
// run's energy; the systolic run's stalls, traffic split and GOPS, which
// an LLM run does not report, are absent from its JSON and empty in its
// CSV, not 0.
func TestLLMPointMetricsApplyOrAreAbsent(t *testing.T) {
	for _, phase := range []string{"decode", "generate"} {
		spec := Spec{Config: "llm-128x128", Workload: "llama-3.2-1b", Phase: phase, Prompt: 128, Gen: 3, Batch: 1}
		r := RunPoint(spec, Point{})
		if r.Error != "" {
			t.Fatalf("%s: %s", phase, r.Error)
		}
		// The run's own report, as `run --phase` writes its llm block.
		cfg, err := configs.Load(spec.Config, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := llm.Resolve(spec.Workload)
		res, err := inference.SimulateLLM(cfg, m, inference.LLMOptions{Phase: phase, Prompt: spec.Prompt, Gen: spec.Gen, Batch: 1})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(report.NewLLM(res).LLM)
		var block map[string]any
		json.Unmarshal(b, &block)
		for _, k := range []string{"tpot_seconds", "tokens_per_second", "ttft_seconds", "energy_pj", "energy_per_token_pj"} {
			want, inBlock := block[k].(float64)
			got, ok := r.Metrics.Get(k)
			switch {
			case !inBlock:
				t.Errorf("the run JSON's llm block has no %s", k)
			case want == 0 && ok:
				t.Errorf("%s: %s = %g, but the phase has none", phase, k, got)
			case want != 0 && (!ok || got != want):
				t.Errorf("%s: %s = %g (applies %v), run JSON %g", phase, k, got, ok, want)
			}
		}
		if _, ok := r.Metrics.Get("ttft_seconds"); ok != (phase == "generate") {
			t.Errorf("%s: ttft_seconds applies: %v", phase, ok)
		}
		// dram_bytes is a decode step's mean, as the seconds it goes with.
		var steps, stepBytes float64
		for _, st := range res.Steps {
			steps++
			stepBytes += float64(st.Bytes.Total())
		}
		if got, ok := r.Metrics.Get("dram_bytes"); !ok || math.Abs(got-stepBytes/steps) > 1e-6*got {
			t.Errorf("%s: dram_bytes %g (applies %v), the steps' mean %g", phase, got, ok, stepBytes/steps)
		}
		j := string(r.jsonLine())
		cells := strings.Split(strings.TrimSpace(string(r.csvLine(nil))), ",")
		for _, k := range []string{"stall_cycles", "utilization", "dram_read_bytes", "dram_write_bytes", "gops", "gops_per_w"} {
			if strings.Contains(j, `"`+k+`"`) {
				t.Errorf("%s: JSON has %s: %s", phase, k, j)
			}
			if c := cells[1+metricIndex[k]]; c != "" {
				t.Errorf("%s: CSV %s = %q", phase, k, c)
			}
		}
		for _, k := range []string{"pes", "cycles", "seconds", "tpot_seconds", "tokens_per_second", "energy_pj",
			"energy_compute_pj", "energy_sram_pj", "energy_dram_pj", "energy_other_pj", "power_w", "energy_per_token_pj"} {
			if c := cells[1+metricIndex[k]]; c == "" || c == "0" {
				t.Errorf("%s: CSV %s = %q", phase, k, c)
			}
		}
	}
}

// A measured zero is a value: a KV method that keeps every token loses
// no attention mass, and mass_lost reads 0 (in the JSON, the CSV, read
// back, and as an objective), not "does not apply" — which would drop the
// best point off the speed–quality front and break its plot.
func TestLLMZeroMassLostIsAValue(t *testing.T) {
	cfg, err := configs.Load("llm-128x128", nil)
	if err != nil {
		t.Fatal(err)
	}
	point := func(i int, tpot, recall float64) Row {
		rep := &report.LLMReport{LLM: report.LLMSummary{TPOTSeconds: tpot, TokensPerSecond: 1 / tpot},
			KVSparsity: &report.KVSparsity{AttentionSpeedup: 1, TPOTSpeedup: 1, MassRecall: recall}}
		return Row{Point: i, Params: map[string]string{"kv_sparsity.budget": strconv.Itoa(i)}, Metrics: llmMetrics(cfg, rep)}
	}
	rows := []Row{point(0, 0.02, 0.8), point(1, 0.03, 1)}
	full := rows[1]
	if v, ok := full.Metrics.Get("mass_lost"); !ok || v != 0 {
		t.Fatalf("recall 1: mass_lost %g (applies %v)", v, ok)
	}
	if !strings.Contains(string(full.jsonLine()), `"mass_lost":0,`) {
		t.Errorf("JSON: %s", full.jsonLine())
	}
	keys := []string{"kv_sparsity.budget"}
	if c := strings.Split(string(full.csvLine(keys)), ",")[2+metricIndex["mass_lost"]]; c != "0" {
		t.Errorf("CSV mass_lost %q", c)
	}
	var back Row
	if err := json.Unmarshal(full.jsonLine(), &back); err != nil || back.Metrics.MassLost == nil || *back.Metrics.MassLost != 0 {
		t.Errorf("read back: %+v %v", back.Metrics, err)
	}
	obj := []string{"seconds", "mass_lost"}
	front := Pareto(rows, obj)
	if len(front) != 2 {
		t.Errorf("front %v, want both points", front)
	}
	f, err := ParetoFigure(rows, front, obj)
	check(t, "pareto_zero_mass_lost", f, err)
}
