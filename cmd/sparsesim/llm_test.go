package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stripSim decodes a JSON report and drops the sim block (host timings,
// events, memo counters).
func stripSim(t *testing.T, s string) ([]byte, map[string]any) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	delete(m, "sim")
	b, _ := json.Marshal(m)
	return b, m
}

// TestRunLLMGenerateJSON: the documented llm block is there, and the
// memoized run's report equals --no-memo's byte for byte outside sim, for
// a dense and a MoE model.
func TestRunLLMGenerateJSON(t *testing.T) {
	for _, c := range []struct{ model, batch string }{{"llama-3.2-1b", "1"}, {"olmoe-1b-7b", "2"}} {
		args := []string{"run", "--config", "llm-128x128", "--set", "pe_array.rows=512", "--set", "pe_array.cols=512",
			"--workload", c.model, "--phase", "generate", "--prompt", "64", "--gen", "16", "--batch", c.batch, "--format", "json"}
		code, memo, errs := run(t, args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		code, one, errs := run(t, append(args, "--no-memo")...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		a, m := stripSim(t, memo)
		b, _ := stripSim(t, one)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: memoized and --no-memo reports differ outside sim", c.model)
		}
		l := m["llm"].(map[string]any)
		for _, k := range []string{"ttft_seconds", "tpot_seconds", "tpot_p50_seconds", "tpot_p99_seconds", "tokens_per_second",
			"prompt", "gen", "batch", "decode_dram_bytes", "prefill_dram_bytes"} {
			if _, ok := l[k]; !ok {
				t.Errorf("llm block lacks %s", k)
			}
		}
		for _, k := range []string{"decode_dram_bytes", "prefill_dram_bytes"} {
			split := l[k].(map[string]any)
			for _, f := range []string{"weights", "kv", "activations"} {
				if v, ok := split[f].(float64); !ok || (f != "kv" && v <= 0) {
					t.Errorf("%s.%s = %v", k, f, split[f])
				}
			}
		}
		if l["ttft_seconds"].(float64) <= 0 || l["tpot_p99_seconds"].(float64) < l["tpot_p50_seconds"].(float64) {
			t.Errorf("%s: implausible latencies %v", c.model, l)
		}
		if n := len(m["steps"].([]any)); n != 15 {
			t.Errorf("%s: %d decode steps, want gen-1 = 15", c.model, n)
		}
	}
}

// TestRunLLMTableAndPlot: the table names the phases and classes and fits
// 80 columns; the step plot is written.
func TestRunLLMTableAndPlot(t *testing.T) {
	png := filepath.Join(t.TempDir(), "steps.png")
	code, out, errs := run(t, "run", "--config", "edge-32x32", "--workload", "gpt2-small", "--phase", "decode",
		"--prompt", "32", "--gen", "4", "--step-plot", png)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"TPOT mean", "decode:", "attention", "lm_head", "vector", "roofline"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > 80 {
			t.Errorf("line of %d columns: %s", n, line)
		}
	}
	if st, err := os.Stat(png); err != nil || st.Size() < 1000 {
		t.Errorf("step plot: %v", err)
	}
}

// TestRunLLMConfigJSON: --workload takes a Hugging Face config.json.
func TestRunLLMConfigJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny", "config.json")
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, []byte(`{"model_type": "llama", "hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 2,
  "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 1000, "torch_dtype": "bfloat16"}`), 0o644)
	code, out, errs := run(t, "run", "--config", "llm-128x128", "--workload", path, "--phase", "generate", "--prompt", "16", "--gen", "4")
	if code != 0 || !strings.Contains(out, "tiny generate") {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
}

// TestRunLLMBadInput: one line, exit 2.
func TestRunLLMBadInput(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "config.json")
	os.WriteFile(missing, []byte(`{"hidden_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 1000}`), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--workload", "llama-3.2-1b", "--phase", "chat"}, "--phase chat"},
		{[]string{"--phase", "generate"}, "needs --workload"},
		{[]string{"--workload", "nosuch", "--phase", "decode"}, "not an LLM zoo model"},
		{[]string{"--workload", missing, "--phase", "decode"}, "field intermediate_size"},
		{[]string{"--workload", "mixtral-8x7b", "--phase", "generate"}, "does not fit"},
		{[]string{"--workload", "llama-3.2-1b", "--phase", "generate", "--gen", "0"}, "--gen"},
		{[]string{"--workload", "llama-3.2-1b", "--phase", "generate", "--set", "kv_cache.dtype=fp4"}, "kv_cache.dtype"},
		{[]string{"--workload", "llama-3.2-1b", "--phase", "generate", "--set", "vector.lanes=0"}, "vector.lanes"},
		{[]string{"--workload", "llama-3.2-1b", "--phase", "generate", "--step-plot", "x.txt", "--gen", "2", "--prompt", "4"}, "--step-plot"},
		{[]string{"--workload", "resnet18", "--step-plot", "x.png"}, "--step-plot"},
	} {
		code, _, errs := run(t, append([]string{"run", "--config", "llm-128x128"}, c.args...)...)
		if code != 2 || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", c.args, code, errs, c.want)
		}
	}
}

// The report's model is the model the run used: llama's config.json has no
// head_dim, so it is hidden_size / num_attention_heads (128), not 0.
func TestRunLLMReportsDerivedHeadDim(t *testing.T) {
	code, out, errs := run(t, "run", "-c", "llm-128x128", "-w", "llama-3.1-8b", "--phase", "decode", "--prompt", "64", "--gen", "2", "-f", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var m struct {
		Model struct {
			HeadDim int `json:"head_dim"`
		} `json:"model"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	if m.Model.HeadDim != 128 {
		t.Errorf("model.head_dim %d, want 4096 / 32 = 128", m.Model.HeadDim)
	}
}
