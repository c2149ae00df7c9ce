package main

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sparsesim/sparsesim/workloads/llm"
)

// The listings, compare and the default run print nothing wider than 80
// columns (runes: box-drawing characters are three bytes each).
func TestOutputsWithin80(t *testing.T) {
	for _, args := range [][]string{
		{"workloads"}, {"configs"}, {"run"},
		{"compare", "--case", "gemm,nm,attention", "--m", "32", "--n", "32", "--k", "64", "--runs", "1"},
	} {
		code, out, errs := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		for i, l := range strings.Split(out, "\n") {
			if n := utf8.RuneCountInString(l); n > 80 {
				t.Errorf("%v: line %d is %d columns: %s", args, i+1, n, l)
			}
		}
	}
	// The sources left out at 80 columns are behind --wide.
	_, out, _ := run(t, "workloads", "--wide")
	for _, m := range llm.Models() {
		if !strings.Contains(out, m.Source) {
			t.Errorf("workloads --wide lacks %s's source %s", m.Name, m.Source)
		}
	}
}
