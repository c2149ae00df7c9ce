package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// The inputs issue 14 found accepted or ignored: each is now one line,
// exit 2, naming what is wrong.
func TestRefusedInputs(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.yaml")
	os.WriteFile(empty, nil, 0o644)
	elf := filepath.Join(dir, "a.out")
	os.WriteFile(elf, []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00>\x00"), 0o644)
	big := filepath.Join(dir, "big.csv")
	os.WriteFile(big, []byte("Layer, M, N, K,\nL1,99999999999,99999999,99999999,\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--set", "pe_array.rows=40.7"}, "pe_array.rows: expected an integer"},
		{[]string{"run", "-c", empty}, "empty config"},
		{[]string{"run", "-c", elf}, "binary data at byte 0"},
		{[]string{"run", "--seq", "128"}, "resnet18 is a CNN"},
		{[]string{"run", "--seq", "-1"}, "--seq must be at least 0"},
		{[]string{"sweep", "--grid", "pe_array.rowz=16,32", "--out", filepath.Join(dir, "d")}, "unknown field pe_array.rowz"},
		{[]string{"run", "-w", big}, "more than a 64-bit count holds"},
		{[]string{"run", "-w", "bert-base", "--seq", "100000"}, "raise it with --max-work"},
		{[]string{"run", "-c", "spatten", "-w", "bert-base", "--seq", "100000"}, "512 position embeddings"},
		{[]string{"explain", "systolic", "--size", "4096"}, "raise it with --max-size"},
		{[]string{"explain"}, "cascade, nm, pquant, systolic, topk"},
		{[]string{"configs", "--show", "nosuch"}, "no embedded config"},
	} {
		code, out, errs := run(t, c.args...)
		if code != 2 || out != "" || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want one line with %q", c.args, code, errs, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "d")); err == nil {
		t.Error("the refused sweep created its directory")
	}
}

func TestVersionFlag(t *testing.T) {
	code, out, _ := run(t, "--version")
	code2, out2, _ := run(t, "version")
	if code != 0 || code2 != 0 || out != out2 || !strings.HasPrefix(out, "sparsesim ") {
		t.Errorf("--version %q, version %q", out, out2)
	}
}

// Completion offers --set paths, --phase values and configs --show names.
func TestCompletions(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"__complete", "run", "--set", "pe_"}, "pe_array.rows="},
		{[]string{"__complete", "sweep", "--phase", ""}, "training"},
		{[]string{"__complete", "configs", "--show", ""}, "spatten-1-8"},
		// The LLM zoo (issue 27, item 12g) and the phases that run it.
		{[]string{"__complete", "run", "--workload", ""}, "llama-3.2-1b"},
		{[]string{"__complete", "run", "--workload", ""}, "resnet18"},
		{[]string{"__complete", "sweep", "--workload", "ll"}, "llama-3.1-8b"},
		{[]string{"__complete", "ffn-batch", "--workload", ""}, "mistral-7b"},
		{[]string{"__complete", "moe-batch", "--workload", ""}, "mixtral-8x7b"},
		{[]string{"__complete", "run", "--phase", ""}, "decode"},
		{[]string{"__complete", "sweep", "--phase", ""}, "generate"},
	} {
		_, out, _ := run(t, c.args...)
		if !strings.Contains(out, c.want) {
			t.Errorf("%v: %q lacks %q", c.args, out, c.want)
		}
	}
	// Each name once, and only names the command takes.
	for _, c := range []struct {
		args []string
		not  string
	}{
		{[]string{"__complete", "moe-batch", "--workload", ""}, "llama-3.1-8b"},
		{[]string{"__complete", "ffn-batch", "--workload", ""}, "resnet18"},
		{[]string{"__complete", "trace", "gen", "--workload", ""}, "llama-3.1-8b"},
		{[]string{"__complete", "trace", "gen", "--phase", ""}, "decode"},
	} {
		if _, out, _ := run(t, c.args...); strings.Contains(out, c.not) {
			t.Errorf("%v offers %q: %q", c.args, c.not, out)
		}
	}
	if _, out, _ := run(t, "__complete", "run", "--workload", ""); strings.Count(out, "gpt2-small\n") != 1 {
		t.Errorf("run --workload: gpt2-small not offered once: %q", out)
	}
}

// A panic anywhere in a command is an internal error: one line with the
// command line, exit 1 (not 2, the bad-input code).
func TestPanicIsInternalError(t *testing.T) {
	testCommands = []*cobra.Command{{Use: "boom", RunE: userRunE(func(*cobra.Command, []string) error { panic("kaboom") })}}
	defer func() { testCommands = nil }()
	code, _, errs := run(t, "boom", "arg1")
	if code != 1 || !strings.Contains(errs, "internal error: kaboom") || !strings.Contains(errs, "sparsesim boom arg1") {
		t.Errorf("exit %d: %q", code, errs)
	}
}
