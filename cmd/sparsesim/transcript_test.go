package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var textBlock = regexp.MustCompile("(?s)```text\n(.*?)```")

// Every "$ sparsesim ..." transcript in the docs prints what the docs
// say, byte for byte (stdout and stderr together), so quoted messages and
// percentages cannot drift from the tool.
func TestDocTranscripts(t *testing.T) {
	root, _ := filepath.Abs("../..")
	files, _ := filepath.Glob(filepath.Join(root, "docs", "tutorials", "*.md"))
	more, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	files = append(append(files, more...), filepath.Join(root, "README.md"))
	checked := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range textBlock.FindAllStringSubmatch(string(b), -1) {
			lines := strings.Split(strings.TrimRight(m[1], "\n"), "\n")
			if !strings.HasPrefix(lines[0], "$ sparsesim ") {
				continue
			}
			args := splitWords(strings.TrimPrefix(lines[0], "$ sparsesim "))
			_, out, errs := run(t, args...)
			got := strings.TrimRight(out+errs, "\n")
			want := strings.Join(lines[1:], "\n")
			if got != want {
				t.Errorf("%s: %s\n got: %s\nwant: %s", filepath.Base(file), lines[0], got, want)
			}
			checked++
		}
	}
	if checked < 2 {
		t.Errorf("checked %d transcripts", checked)
	}
}
