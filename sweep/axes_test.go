package sweep

import (
	"slices"
	"strings"
	"testing"
)

// The run axes are grid keys for the kinds of point that read them, and
// refused, naming the kind, for the others; their values must be sizes.
func TestCheckAxisKinds(t *testing.T) {
	for _, c := range []struct {
		key, phase, bad string // bad: a substring of the refusal, "" to accept
	}{
		{"batch", "decode", ""},
		{"prompt", "generate", ""},
		{"gen", "decode", ""},
		{"workload", "generate", ""},
		{"workload", "inference", ""},
		{"batch", "training", ""},
		{"pe_array.rows", "decode", ""},
		{"prompt", "inference", "applies to LLM sweeps only"},
		{"gen", "training", "applies to LLM sweeps only"},
		{"pe_array.rowz", "decode", "pe_array.rowz"},
	} {
		err := CheckAxis(Axis{Key: c.key, Values: []string{"8"}}, c.phase)
		switch {
		case c.bad == "" && err != nil:
			t.Errorf("%s on %s: refused: %v", c.key, c.phase, err)
		case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad)):
			t.Errorf("%s on %s: %v, want a refusal with %q", c.key, c.phase, err, c.bad)
		}
	}
	for _, v := range []string{"0", "-2", "2.5", "x"} {
		if err := CheckAxis(Axis{Key: "prompt", Values: []string{"16", v}}, "decode"); err == nil || !strings.Contains(err.Error(), "positive integer") {
			t.Errorf("prompt=16,%s: %v", v, err)
		}
	}
	// ParseAxis expands ranges for run axes as for config fields.
	a, err := ParseAxis("batch=1:8:x2")
	if err != nil || !slices.Equal(a.Values, []string{"1", "2", "4", "8"}) || CheckAxis(a, "decode") != nil {
		t.Errorf("batch=1:8:x2: %v %v", a, err)
	}
}

// A point applies its run axes to the spec's fields and its config axes to
// the --set overrides, leaving the sweep's spec as it was.
func TestSpecAt(t *testing.T) {
	s := Spec{Config: "llm-128x128", Workload: "llama-3.2-1b", Phase: "generate", Batch: 1, Prompt: 512, Gen: 128, Sets: []string{"dram.model=ideal"}}
	p := Point{Params: []Param{{"batch", "4"}, {"pe_array.rows", "64"}, {"prompt", "64"}, {"gen", "3"}, {"workload", "gpt2-small"}}}
	got, err := s.At(p)
	if err != nil {
		t.Fatal(err)
	}
	if got.Batch != 4 || got.Prompt != 64 || got.Gen != 3 || got.Workload != "gpt2-small" ||
		!slices.Equal(got.Sets, []string{"dram.model=ideal", "pe_array.rows=64"}) {
		t.Errorf("At: %+v", got)
	}
	if s.Batch != 1 || len(s.Sets) != 1 || s.Workload != "llama-3.2-1b" {
		t.Errorf("At changed the sweep's spec: %+v", s)
	}
}

// The job scripts' flags carry an LLM sweep's --prompt and --gen (and no
// --seq, which LLM sweeps refuse), so a shard runs the points a local
// sweep does.
func TestArgsCarryLLMSizes(t *testing.T) {
	s := Spec{Config: "c", Workload: "w", Phase: "decode", Batch: 2, Prompt: 64, Gen: 3}
	args := strings.Join(s.Args(), " ")
	if !strings.Contains(args, "--prompt 64 --gen 3 --phase decode") || strings.Contains(args, "--seq") {
		t.Errorf("LLM args: %s", args)
	}
	s.Phase = "inference"
	if args := strings.Join(s.Args(), " "); strings.Contains(args, "--prompt") || !strings.Contains(args, "--seq 0") {
		t.Errorf("inference args: %s", args)
	}
}
