package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/workloads/llm"
)

// Refusals say what is wrong and what to do, on one line, exit 2.
func TestLLMRefusalsSayWhatToDo(t *testing.T) {
	m, ok := llm.Lookup("llama-3.2-1b")
	if !ok {
		t.Fatal("llama-3.2-1b not in the LLM zoo")
	}
	llmRun := []string{"run", "--config", "llm-128x128", "--workload", m.Name, "--phase", "decode", "--prompt", "64", "--gen", "2"}
	for _, c := range []struct {
		name   string
		args   []string
		want   []string
		unwant string
	}{
		// Dense LLM run: --breakdown compares KV-sparsity methods; it used
		// to be listed among flags that "do not apply" to LLM phases.
		{"breakdown without a kv method", append(llmRun, "--breakdown"),
			[]string{"--breakdown", "kv_sparsity.method is none", "--set kv_sparsity.method="}, "do not apply"},
		// An LLM zoo name without --phase used to be "not a zoo model".
		{"LLM zoo model without --phase", []string{"run", "--workload", m.Name},
			[]string{"LLM zoo model", "--phase prefill, decode or generate"}, "not a zoo model"},
		{"LLM zoo model with --seq", []string{"run", "--workload", m.Name, "--seq", "16"},
			[]string{"LLM zoo model", "--prompt"}, "is a file"},
		// More sampled layers (heads) than the model has used to be
		// clamped silently.
		{"sample_layers above the model's", append(llmRun, "--set", "kv_sparsity.method=quest", "--set", fmt.Sprintf("kv_sparsity.sample_layers=%d", m.NumHiddenLayers+1)),
			[]string{fmt.Sprintf("kv_sparsity.sample_layers=%d", m.NumHiddenLayers+1), fmt.Sprintf("at most %d", m.NumHiddenLayers)}, ""},
		{"sample_heads above the model's", append(llmRun, "--set", "kv_sparsity.method=quest", "--set", fmt.Sprintf("kv_sparsity.sample_heads=%d", m.KVHeads()+1)),
			[]string{fmt.Sprintf("kv_sparsity.sample_heads=%d", m.KVHeads()+1), fmt.Sprintf("at most %d", m.KVHeads())}, ""},
	} {
		code, _, errs := run(t, c.args...)
		if code != 2 || strings.Count(strings.TrimRight(errs, "\n"), "\n") != 0 {
			t.Errorf("%s: exit %d, %q; want exit 2 and one line", c.name, code, errs)
		}
		for _, w := range c.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%s: %q lacks %q", c.name, errs, w)
			}
		}
		if c.unwant != "" && strings.Contains(errs, c.unwant) {
			t.Errorf("%s: %q still says %q", c.name, errs, c.unwant)
		}
	}
	// Every layer is allowed.
	args := append(llmRun, "--set", "kv_sparsity.method=quest", "--set", fmt.Sprintf("kv_sparsity.sample_layers=%d", m.NumHiddenLayers))
	if code, _, errs := run(t, args...); code != 0 {
		t.Errorf("sample_layers = the model's %d layers: exit %d: %s", m.NumHiddenLayers, code, errs)
	}
}
