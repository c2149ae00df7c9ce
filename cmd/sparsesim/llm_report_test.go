package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
)

var llmRunArgs = []string{"run", "-c", "llm-128x128", "-w", "gpt2-small", "--phase", "generate", "--prompt", "32", "--gen", "3", "--batch", "2"}

// The CSV of a generate run is one table: its class rows, a total row per
// phase and the run's row, which carries TTFT, TPOT, tokens per second and
// energy — the JSON's llm figures, to the CSV's 10 digits.
func TestLLMCSVHasLatencyAndEnergy(t *testing.T) {
	code, js, errs := run(t, append(llmRunArgs, "-f", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		Raw map[string]any `json:"llm"`
	}
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, append(llmRunArgs, "-f", "csv")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	var runRow []string
	totals := map[string][]string{}
	for _, r := range recs[1:] {
		if len(r) != len(recs[0]) {
			t.Fatalf("row %v has %d cells, header %d", r, len(r), len(recs[0]))
		}
		if r[col["class"]] == "total" {
			if r[col["phase"]] == "run" {
				runRow = r
			} else {
				totals[r[col["phase"]]] = r
			}
		}
	}
	if runRow == nil || totals["prefill"] == nil || totals["decode"] == nil {
		t.Fatalf("no run or phase total rows:\n%s", out)
	}
	for _, k := range []string{"ttft_seconds", "tpot_seconds", "tokens_per_second", "energy_pj", "energy_per_token_pj", "tokens"} {
		i, ok := col[k]
		if !ok {
			t.Fatalf("CSV has no %s column", k)
		}
		got, err := strconv.ParseFloat(runRow[i], 64)
		want := rep.Raw[k].(float64)
		if err != nil || math.Abs(got-want) > 1e-9*math.Abs(want) || want <= 0 {
			t.Errorf("run row %s = %q, JSON %g", k, runRow[i], want)
		}
	}
	// TTFT is the prefill's time; tokens_per_second the output tokens over
	// TTFT plus the decode's time.
	ttft, _ := strconv.ParseFloat(totals["prefill"][col["seconds"]], 64)
	dec, _ := strconv.ParseFloat(totals["decode"][col["seconds"]], 64)
	if got := rep.Raw["ttft_seconds"].(float64); math.Abs(got-ttft) > 1e-9*ttft {
		t.Errorf("TTFT %g, prefill total row %g", got, ttft)
	}
	if got, want := rep.Raw["tokens_per_second"].(float64), 2*3/(ttft+dec); math.Abs(got-want) > 1e-6*want {
		t.Errorf("tokens/s %g, want %g", got, want)
	}
	// A class row leaves the run-wide cells empty; a decode run's row has
	// no TTFT.
	if r := recs[1]; r[col["ttft_seconds"]] != "" || r[col["tokens"]] != "" || r[col["energy_pj"]] == "" {
		t.Errorf("class row %v", r)
	}
	code, out, _ = run(t, "run", "-c", "llm-128x128", "-w", "gpt2-small", "--phase", "decode", "--prompt", "32", "--gen", "2", "-f", "csv")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := strings.Split(lines[len(lines)-1], ",")
	if code != 0 || last[0] != "run" || last[col["ttft_seconds"]] != "" || last[col["tpot_seconds"]] == "" {
		t.Errorf("decode run row %v", last)
	}
}

// An LLM run's energy: every phase priced (> 0), its per-token figure the
// phase's energy over the tokens it processes (prefill: batch × prompt;
// decode: batch × steps), the run's the phases' sum over the output
// tokens, and the table shows them.
func TestLLMEnergy(t *testing.T) {
	code, js, errs := run(t, append(llmRunArgs, "-f", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		LLM struct {
			EnergyPJ         float64 `json:"energy_pj"`
			EnergyPerTokenPJ float64 `json:"energy_per_token_pj"`
			AveragePowerW    float64 `json:"average_power_w"`
		} `json:"llm"`
		Phases []struct {
			Name    string  `json:"name"`
			Steps   int     `json:"steps"`
			Seconds float64 `json:"seconds"`
			Tokens  int     `json:"tokens"`
			Energy  struct {
				TotalPJ     float64            `json:"total_pj"`
				ByComponent map[string]float64 `json:"by_component_pj"`
				ByClass     map[string]float64 `json:"by_class_pj"`
			} `json:"energy"`
			EnergyPerTokenPJ float64 `json:"energy_per_token_pj"`
			Classes          []struct {
				Class    string  `json:"class"`
				EnergyPJ float64 `json:"energy_pj"`
			} `json:"classes"`
		} `json:"phases"`
	}
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Phases) != 2 {
		t.Fatalf("%d phases", len(rep.Phases))
	}
	const batch, prompt, gen = 2, 32, 3
	var total, seconds float64
	for _, p := range rep.Phases {
		tokens := batch * prompt
		if p.Name == "decode" {
			tokens = batch * (gen - 1) // generate: the prefill yields the first token
		}
		e := p.Energy
		if e.TotalPJ <= 0 || e.ByComponent["pe_array"] <= 0 || e.ByComponent["dram"] <= 0 || e.ByComponent["leakage"] <= 0 {
			t.Errorf("%s: energy %+v", p.Name, e)
		}
		if p.Tokens != tokens || p.EnergyPerTokenPJ != e.TotalPJ/float64(tokens) {
			t.Errorf("%s: %d tokens, %g pJ/token; want %d and %g", p.Name, p.Tokens, p.EnergyPerTokenPJ, tokens, e.TotalPJ/float64(tokens))
		}
		var classes, byClass float64
		for _, c := range p.Classes {
			classes += c.EnergyPJ
		}
		for _, v := range e.ByClass {
			byClass += v
		}
		// The operator classes' own energy is the phase's but its leakage.
		if d := e.TotalPJ - e.ByComponent["leakage"] - classes; math.Abs(d) > 1e-9*e.TotalPJ || math.Abs(byClass-e.TotalPJ) > 1e-9*e.TotalPJ {
			t.Errorf("%s: classes %g + leakage %g, by class %g, total %g", p.Name, classes, e.ByComponent["leakage"], byClass, e.TotalPJ)
		}
		total += e.TotalPJ
		seconds += p.Seconds
	}
	if s := rep.LLM; s.EnergyPJ != total || s.EnergyPerTokenPJ != total/(batch*gen) || math.Abs(s.AveragePowerW-total*1e-12/seconds) > 1e-9*s.AveragePowerW {
		t.Errorf("llm block %+v; phases %g pJ over %g s", s, total, seconds)
	}
	_, table, _ := run(t, llmRunArgs...)
	for _, want := range []string{"/token, ", "W average", "energy leaves out the vector unit's"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

// An N:M setting on an LLM run is in the report's header lines, with the
// pattern the PEs run when they support another.
func TestLLMHeaderShowsNM(t *testing.T) {
	_, dense, _ := run(t, llmRunArgs...)
	if strings.Contains(dense, "N:M") {
		t.Errorf("a dense run mentions N:M:\n%s", dense)
	}
	for _, c := range []struct {
		sets []string
		want string
	}{
		{[]string{"--set", "sparsity.nm=2:4"}, "weights N:M 2:4 (sparsity.nm) on GEMMs with a weight operand"},
		{[]string{"--set", "sparsity.nm=1:4", "--set", "sparsity.supported=2:4"}, "weights N:M 1:4 (sparsity.nm, run as 2:4)"},
	} {
		code, out, errs := run(t, append(append([]string(nil), llmRunArgs...), c.sets...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.sets, code, errs)
		}
		head := strings.Join(strings.SplitN(out, "\n", 6)[:5], "\n")
		if !strings.Contains(head, c.want) {
			t.Errorf("%v: header lacks %q:\n%s", c.sets, c.want, head)
		}
	}
}
