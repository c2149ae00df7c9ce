package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefusesInputsNotRead: a key the run does not read, and a file
// given where another kind is expected, exit 2 with one line naming the
// key (file) and what applies — issue 27 items 7 and 8; each case ran
// with exit 0 (the key ignored) or said only "unrecognised file type",
// "unknown field" or "is a directory" before.
func TestRefusesInputsNotRead(t *testing.T) {
	dir := t.TempDir()
	hf := `{"_name_or_path": "Qwen/Qwen2.5-0.5B", "model_type": "qwen2", "hidden_size": 256, "intermediate_size": 512,
  "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 1000}`
	model := filepath.Join(dir, "my", "config.json")
	os.MkdirAll(filepath.Dir(model), 0o755)
	os.WriteFile(model, []byte(hf), 0o644)
	empty := filepath.Join(dir, "empty")
	os.MkdirAll(empty, 0o755)
	dec := []string{"run", "-c", "llm-128x128", "-w", "llama-3.2-1b", "--phase", "decode", "--prompt", "64", "--gen", "2"}
	set := func(kv ...string) []string {
		out := append([]string(nil), dec...)
		for _, s := range kv {
			out = append(out, "--set", s)
		}
		return out
	}
	out := filepath.Join(dir, "sw")
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"budget on dsa", set("kv_sparsity.method=dsa", "kv_sparsity.budget=512"),
			[]string{"--set kv_sparsity.budget=512: field kv_sparsity.budget: does not apply to kv_sparsity.method dsa; use kv_sparsity.k"}},
		{"budget on hisa", set("kv_sparsity.method=hisa", "kv_sparsity.budget=512"), []string{"kv_sparsity.budget", "use kv_sparsity.k"}},
		{"budget on mustafar", set("kv_sparsity.method=mustafar", "kv_sparsity.budget=512"), []string{"kv_sparsity.budget", "use kv_sparsity.sparsity"}},
		{"page_size on evict", set("kv_sparsity.method=evict", "kv_sparsity.page_size=32"),
			[]string{"field kv_sparsity.page_size: does not apply to kv_sparsity.method evict; evict reads kv_sparsity.budget, kv_sparsity.sink, kv_sparsity.recent"}},
		{"k on quest, at its default", set("kv_sparsity.method=quest", "kv_sparsity.k=2048"), []string{"field kv_sparsity.k", "use kv_sparsity.budget"}},
		{"budget without a method", set("kv_sparsity.budget=512"), []string{"field kv_sparsity.budget: does not apply to kv_sparsity.method none", "set kv_sparsity.method"}},
		{"moe.routing on a dense model", set("moe.routing=zipf"), []string{"moe.routing: llama-3.2-1b is a dense model (no experts)"}},
		{"moe.chunk on a dense model", set("moe.chunk=4"), []string{"moe.chunk: llama-3.2-1b is a dense model"}},
		{"sweep over budget on dsa", []string{"sweep", "-c", "llm-128x128", "-w", "llama-3.2-1b", "--phase", "decode", "--prompt", "256", "--gen", "2",
			"--set", "kv_sparsity.method=dsa", "--grid", "kv_sparsity.budget=256,512", "--out", out},
			[]string{"--grid point 0 (kv_sparsity.budget=256)", "does not apply to kv_sparsity.method dsa; use kv_sparsity.k"}},
		{"sweep over moe on a dense model", []string{"sweep", "-c", "llm-128x128", "-w", "llama-3.2-1b", "--phase", "decode", "--prompt", "256", "--gen", "2",
			"--grid", "moe.routing=uniform,zipf", "--out", out}, []string{"--grid point 0", "moe.routing: llama-3.2-1b is a dense model"}},
		{"sweep with a method point that does not read --set budget", []string{"sweep", "-c", "llm-128x128", "-w", "llama-3.2-1b", "--phase", "decode",
			"--prompt", "256", "--gen", "2", "--set", "kv_sparsity.budget=256", "--grid", "kv_sparsity.method=quest,dsa", "--out", out},
			[]string{"--grid point 1 (kv_sparsity.method=dsa)", "field kv_sparsity.budget: does not apply to kv_sparsity.method dsa"}},
		{"config.json without --phase", []string{"run", "-w", model},
			[]string{"--workload " + model + ": a Hugging Face config.json (an LLM), which runs only as an LLM phase: sparsesim run --phase prefill, decode or generate"}},
		{"config.json as --config", []string{"run", "-c", model},
			[]string{"--config " + model + ": this looks like a model (Hugging Face config.json); use --workload " + model}},
		{"model directory as --workload", []string{"run", "-w", filepath.Dir(model)},
			[]string{"--workload " + filepath.Dir(model) + ": is a directory; did you mean its Hugging Face config (--workload " + model}},
		{"model directory as an LLM --workload", append(append([]string(nil), dec[:3]...), "-w", filepath.Dir(model), "--phase", "decode", "--prompt", "8", "--gen", "2"),
			[]string{"is a directory; did you mean its Hugging Face config (--workload " + model}},
		{"directory as --workload", []string{"run", "-w", empty}, []string{"--workload " + empty + ": is a directory, not a workload file"}},
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
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a refused sweep wrote %s", out)
	}
	// What the method reads still runs; so does a method on the grid
	// that reads the --set key at every point, and moe keys on an MoE
	// model's config are not refused for the model's sake.
	for _, args := range [][]string{
		set("kv_sparsity.method=dsa", "kv_sparsity.k=512", "kv_sparsity.sample_steps=1", "kv_sparsity.sample_layers=1", "kv_sparsity.sample_heads=1"),
		{"run", "-c", "llm-128x128", "-w", model, "--phase", "decode", "--prompt", "8", "--gen", "2"},
	} {
		if code, _, errs := run(t, args...); code != 0 {
			t.Errorf("%v: exit %d: %s", args, code, errs)
		}
	}
	code, stdout, errs := run(t, "run", "-c", "llm-128x128", "-w", model, "--phase", "decode", "--prompt", "8", "--gen", "2")
	if code != 0 || !strings.Contains(stdout, "Qwen2.5-0.5B decode") {
		t.Errorf("config.json named from _name_or_path: exit %d %s\n%s", code, errs, stdout)
	}
}
