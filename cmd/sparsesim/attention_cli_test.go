package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// --seq beyond a model's position embeddings and --batch/--seq on a trace
// are refused with exit 2; --batch B runs B sequences; layers come in
// execution order and workload.layers counts them.
func TestAttentionWorkloadFlags(t *testing.T) {
	trace := "../../../shared/reference/spatten/small.csv"
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"run", "-c", "spatten", "-w", "bert-base", "--seq", "100000"}, "at most 512"},
		{[]string{"run", "-c", "spatten", "-w", "gpt2-small", "--seq", "1000"}, "at most 992"},
		{[]string{"run", "-c", "spatten", "-w", "vit-b16", "--seq", "300"}, "at most 197"},
		{[]string{"run", "-c", "spatten", "-w", trace, "--batch", "2"}, "fixes its own"},
		{[]string{"run", "-c", "spatten", "-w", trace, "--seq", "64"}, "fix their sizes"},
		{[]string{"run", "-c", "spatten", "-w", "bert-base", "--batch", "65"}, "at most 64"},
	} {
		code, _, errs := run(t, c.args...)
		if code != 2 || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, %q; want exit 2 mentioning %q", c.args, code, errs, c.msg)
		}
	}
	rows := func(args ...string) (float64, []string, float64) {
		code, out, errs := run(t, append([]string{"run", "-c", "spatten", "-w", "bert-base", "--seq", "32", "-f", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var m struct {
			Workload  struct{ Layers float64 }
			Layers    []struct{ Name string }
			Attention struct{ Queries float64 }
		}
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, l := range m.Layers {
			names = append(names, l.Name)
		}
		return m.Attention.Queries, names, m.Workload.Layers
	}
	q1, names, layers := rows()
	q3, _, _ := rows("--batch", "3")
	if q3 != 3*q1 || q1 == 0 {
		t.Errorf("--batch 3 ran %v queries, one sequence %v", q3, q1)
	}
	if layers != 12 || len(names) != 12 || names[2] != "layer2" || names[10] != "layer10" {
		t.Errorf("workload.layers %v, layers %v: want 12 in execution order", layers, names)
	}
}

// The speed targets, whole command: gpt2-medium and BERT-base
// --breakdown under 3 s each (docs/spatten.md, Speed).
func BenchmarkRunGPT2MediumSpAtten(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var out, errb bytes.Buffer
		if code := execute([]string{"run", "-c", "spatten", "-w", "gpt2-medium"}, &out, &errb); code != 0 {
			b.Fatalf("exit %d: %s", code, errb.String())
		}
	}
}

func BenchmarkRunBERTBaseBreakdown(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var out, errb bytes.Buffer
		if code := execute([]string{"run", "-c", "spatten", "-w", "bert-base", "--breakdown"}, &out, &errb); code != 0 {
			b.Fatalf("exit %d: %s", code, errb.String())
		}
	}
}
