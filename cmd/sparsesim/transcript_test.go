package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var textBlock = regexp.MustCompile("(?s)```text\n(.*?)```")

var updateTranscripts = flag.Bool("update-transcripts", false, "rewrite the docs' transcripts with this tree's output (review the diff: prose around them may quote the numbers)")

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
		doc := string(b)
		changed := false
		doc = textBlock.ReplaceAllStringFunc(doc, func(block string) string {
			m := textBlock.FindStringSubmatch(block)
			lines := strings.Split(strings.TrimRight(m[1], "\n"), "\n")
			if !strings.HasPrefix(lines[0], "$ sparsesim ") {
				return block
			}
			args := splitWords(strings.TrimPrefix(lines[0], "$ sparsesim "))
			_, out, errs := run(t, args...)
			got := strings.TrimRight(out+errs, "\n")
			want := strings.Join(lines[1:], "\n")
			checked++
			if got == want {
				return block
			}
			if *updateTranscripts {
				changed = true
				return "```text\n" + lines[0] + "\n" + got + "\n```"
			}
			t.Errorf("%s: %s\n got: %s\nwant: %s", filepath.Base(file), lines[0], got, want)
			return block
		})
		if changed {
			if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if checked < 2 {
		t.Errorf("checked %d transcripts", checked)
	}
}
