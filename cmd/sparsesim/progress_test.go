package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sparsesim/sparsesim/rtl"
)

// fakeTerminal makes every stderr a terminal and records the progress
// labels commands set, until the returned restore.
func fakeTerminal(on bool) (labels func() []string, restore func()) {
	var mu sync.Mutex
	var got []string
	oldTerm, oldShown := isTerminal, progressShown
	isTerminal = func(io.Writer) bool { return on }
	progressShown = func(l string) {
		mu.Lock()
		got = append(got, l)
		mu.Unlock()
	}
	return func() []string {
			mu.Lock()
			defer mu.Unlock()
			return append([]string(nil), got...)
		}, func() {
			isTerminal, progressShown = oldTerm, oldShown
		}
}

// Off a terminal (a pipe, a file, a test's buffer) no progress is
// started and the command's writers are not wrapped: its output is
// byte for byte what it always was.
func TestProgressOffWithoutTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.Create(filepath.Join(t.TempDir(), "err.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, w := range []*os.File{w, f} {
		if isTerminal(w) {
			t.Errorf("%s taken for a terminal", w.Name())
		}
	}
	if isTerminal(&bytes.Buffer{}) {
		t.Error("a buffer taken for a terminal")
	}
	var buf bytes.Buffer
	p := startProgress(&buf, "x")
	if p.on || p.writer(&buf) != &buf {
		t.Error("progress on, or the writer wrapped, off a terminal")
	}
	p.set("y")
	p.stop()
	if buf.Len() != 0 {
		t.Errorf("wrote %q off a terminal", buf.String())
	}
	labels, restore := fakeTerminal(false)
	defer restore()
	if code, _, errs := run(t, "run", "-w", "gpt2-small", "--seq", "16"); code != 0 {
		t.Fatal(errs)
	}
	if l := labels(); len(l) != 0 {
		t.Errorf("labels set off a terminal: %q", l)
	}
}

// Every command that can run long says what it is doing on a terminal
// (issue 27, item 9): checked through a faked terminal and the labels
// set, not the drawing, so it does not depend on timing. Every command
// runs under userRunE's progress; this table checks that the long ones
// name their work, and that their stdout is the same with a terminal
// as without (progress goes to stderr only).
func TestLongCommandsShowProgress(t *testing.T) {
	dir := t.TempDir()
	tr := filepath.Join(dir, "g.trace")
	cases := []struct {
		args []string
		want string
		need string // a tool the command needs, else skipped
		same bool   // run again off the terminal: stdout must not change
	}{
		{[]string{"run", "-w", "gpt2-small", "--seq", "16"}, "simulating gpt2-small", "", true},
		{[]string{"run", "-c", "spatten", "-w", "bert-base", "--seq", "16", "--breakdown"}, "breakdown: bert-base on spatten", "", false},
		{[]string{"run", "-c", "llm-128x128", "-w", "llama-3.2-1b", "--phase", "decode", "--prompt", "32", "--gen", "2"}, "simulating llama-3.2-1b decode", "", true},
		{[]string{"run", "-c", "llm-128x128", "-w", "llama-3.2-1b", "--phase", "prefill", "--prompt", "32"}, "simulating llama-3.2-1b prefill", "", false},
		{[]string{"run", "-c", "llm-128x128", "-w", "llama-3.2-1b", "--phase", "decode", "--prompt", "64", "--gen", "1",
			"--set", "kv_sparsity.method=quest", "--set", "kv_sparsity.budget=32", "--breakdown"}, "KV-sparsity breakdown: llama-3.2-1b", "", false},
		{[]string{"ffn-batch", "--workload", "llama-3.2-1b", "--methods", "relu", "--batches", "1", "--prompt", "32", "--gen", "1"}, "ffn-batch: relu at batch 1 (point 1 of 1)", "", false},
		{[]string{"moe-batch", "--workload", "olmoe-1b-7b", "--prompt", "16", "--gen", "1", "--batches", "1"}, "moe-batch: olmoe-1b-7b", "", false},
		{[]string{"compare", "--runs", "1", "--case", "gemm", "--m", "8", "--n", "8", "--k", "8"}, "compare: gemm case", "", false},
		{[]string{"trace", "gen", "-w", "resnet18", "-o", tr}, "trace gen: resnet18", "", false},
		{[]string{"sweep", "-w", "gpt2-small", "--seq", "16", "--grid", "pe_array.rows=32", "-o", filepath.Join(dir, "sw")}, "sweep: its own bar", "", false},
		{[]string{"explain", "nm"}, "explain nm", "", true},
		{[]string{"rtl", "fit"}, "rtl fit", "", false},
		{[]string{"rtl", "cosim", "--rows", "2", "--cols", "2", "--gemm", "4x4x4", "--sim", "iverilog"}, "rtl cosim: 2x2 array", "iverilog", true},
		// synth's label is set before its yosys runs; an -o that does
		// not exist stops it there, so the test runs no synthesis.
		{[]string{"rtl", "synth", "--only", "units", "-o", filepath.Join(dir, "none.csv")}, "rtl synth:", "yosys", false},
	}
	for _, c := range cases {
		if c.need != "" && !rtl.Available(c.need) {
			t.Logf("%v: %s not installed, skipped", c.args, c.need)
			continue
		}
		name := strings.Join(c.args[:min(2, len(c.args))], " ")
		labels, restore := fakeTerminal(true)
		if c.args[0] == "sweep" {
			os.RemoveAll(filepath.Join(dir, "sw"))
		}
		code, termOut, errs := run(t, c.args...)
		got := labels()
		restore()
		if !slicesContain(got, c.want) {
			t.Errorf("%s: progress labels %q lack %q (exit %d: %s)", name, got, c.want, code, errs)
		}
		if code != 0 || !c.same {
			continue // a refusal, or not run twice to keep the test short
		}
		code2, pipeOut, _ := run(t, c.args...)
		if code2 != code || untimed(pipeOut) != untimed(termOut) {
			t.Errorf("%s: stdout differs with a terminal:\n%s\nwithout:\n%s", name, termOut, pipeOut)
		}
	}
}

// untimed drops the lines that report wall time, which differ run to run.
func untimed(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, "simulated in") && !strings.Contains(l, "_seconds\"") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func slicesContain(labels []string, want string) bool {
	for _, l := range labels {
		if strings.Contains(l, want) {
			return true
		}
	}
	return false
}

// The spinner never lands inside output: a write through the command's
// writers first clears the spinner's line on the terminal.
func TestProgressClearsBeforeOutput(t *testing.T) {
	_, restore := fakeTerminal(true)
	defer restore()
	var term, out bytes.Buffer
	p := startProgress(&term, "working")
	p.draw() // as the timer would, without waiting for it
	w := p.writer(&out)
	if _, err := w.Write([]byte("table\n")); err != nil {
		t.Fatal(err)
	}
	p.stop()
	if out.String() != "table\n" {
		t.Errorf("stdout %q", out.String())
	}
	s := term.String()
	if !strings.Contains(s, "working") || !strings.Contains(s, "\r\033[K") {
		t.Errorf("terminal %q: no spinner, or not cleared before output", s)
	}
}
