package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunMoEBlock: a MoE run's JSON has the documented moe block, a
// trace-routed run follows the trace, and the report is reproducible.
func TestRunMoEBlock(t *testing.T) {
	dir := t.TempDir()
	tr := filepath.Join(dir, "r.trace")
	// Every token of every layer picks experts 0..7 of OLMoE's 64.
	if err := os.WriteFile(tr, []byte("moe-trace v1 experts=64 k=8\n* 0,1,2,3,4,5,6,7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"run", "--config", "llm-128x128", "--workload", "olmoe-1b-7b", "--phase", "decode",
		"--prompt", "16", "--gen", "3", "--batch", "4", "--format", "json"}
	for _, c := range []struct {
		sets    []string
		touched float64
	}{{nil, -1}, {[]string{"--set", "moe.routing=trace", "--set", "moe.trace=" + tr}, 8}} {
		args := append(append([]string{}, base...), c.sets...)
		code, out, errs := run(t, args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		_, again, _ := run(t, args...)
		a, m := stripSim(t, out)
		b, _ := stripSim(t, again)
		if !bytes.Equal(a, b) {
			t.Errorf("%v: two runs differ outside sim", c.sets)
		}
		blk, ok := m["moe"].(map[string]any)
		if !ok {
			t.Fatalf("%v: no moe block", c.sets)
		}
		for _, k := range []string{"experts_touched_mean", "load_max_over_mean", "dropped_tokens", "load_by_rank", "experts_touched_chunk_mean"} {
			if _, ok := blk[k]; !ok {
				t.Errorf("moe block lacks %s", k)
			}
		}
		if c.touched > 0 && blk["experts_touched_mean"].(float64) != c.touched {
			t.Errorf("trace routing touched %v experts, want %v", blk["experts_touched_mean"], c.touched)
		}
	}
	png := filepath.Join(dir, "load.png")
	if code, _, errs := run(t, append(base[:len(base)-2], "--moe-plot", png)...); code != 0 {
		t.Fatalf("--moe-plot: exit %d: %s", code, errs)
	}
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("--moe-plot wrote no PNG (%v)", err)
	}
}

// TestMoEInputErrors: bad routing inputs exit 2 with one line naming the
// file, line and field, or the key or flag.
func TestMoEInputErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.trace")
	if err := os.WriteFile(bad, []byte("moe-trace v1 experts=64 k=8\n0 0,1,2,3,4,5,6,64\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	llm := []string{"run", "--config", "llm-128x128", "--workload", "olmoe-1b-7b", "--phase", "decode", "--prompt", "8", "--gen", "2"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{append(llm, "--set", "moe.routing=trace", "--set", "moe.trace="+bad), bad + ":2: field experts: \"64\" is not an expert from 0 to 63"},
		{append(llm, "--set", "moe.routing=trace", "--set", "moe.trace="+filepath.Join(dir, "none")), "moe.trace " + filepath.Join(dir, "none")},
		{append(llm, "--set", "moe.routing=zipf", "--set", "moe.imbalance=-1"), "--set moe.imbalance=-1: field moe.imbalance"},
		{append(llm, "--set", "moe.capacity_factor=0.001"), "field moe.capacity_factor"},
		{append(llm, "--set", "moe.execution=lazy"), "field moe.execution: unknown execution \"lazy\""},
		{append(llm, "--set", "moe.trace=x"), "field moe.trace: a trace is only read with moe.routing=trace"},
		{[]string{"run", "--config", "llm-128x128", "--workload", "llama-3.2-1b", "--phase", "decode", "--prompt", "8", "--gen", "2", "--moe-plot", filepath.Join(dir, "x.png")}, "--moe-plot"},
		{[]string{"moe-batch", "--workload", "llama-3.2-1b", "--batches", "1"}, "--workload llama-3.2-1b: a dense model has no experts"},
		{[]string{"moe-batch", "--batches", "4,2"}, "--batches [4 2]: sizes must be at least 1 and increasing"},
	} {
		code, _, errs := run(t, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%v: exit %d, %q; want exit 2 with %q", c.args, code, errs, c.want)
		}
	}
}
