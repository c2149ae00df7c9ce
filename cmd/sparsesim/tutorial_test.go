package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var shBlock = regexp.MustCompile("(?s)```sh\n(.*?)```")

// splitWords is enough of a shell for the tutorials: words separated by
// blanks, single or double quotes grouping, backslash-newline continuing.
func splitWords(line string) []string {
	var words []string
	var cur strings.Builder
	quote := byte(0)
	in := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// Every command in docs/tutorials runs, from the repository root, and
// succeeds — so the tutorials never rot.
func TestTutorials(t *testing.T) {
	if testing.Short() {
		t.Skip("tutorials take ~30 s")
	}
	root, _ := filepath.Abs("../..")
	files, _ := filepath.Glob(filepath.Join(root, "docs", "tutorials", "*.md"))
	if len(files) < 6 {
		t.Fatalf("found %d tutorial files", len(files))
	}
	wd, _ := os.Getwd()
	if err := os.Chdir(root); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	defer os.RemoveAll(filepath.Join(root, "out"))
	commands := 0
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, m := range shBlock.FindAllStringSubmatch(string(b), -1) {
			text := strings.ReplaceAll(m[1], "\\\n", " ")
			for _, line := range strings.Split(text, "\n") {
				line = strings.TrimSpace(line)
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				words := splitWords(line)
				if words[0] != "sparsesim" {
					t.Errorf("%s: sh block line is not a sparsesim command: %s", filepath.Base(f), line)
					continue
				}
				commands++
				if code, _, errs := run(t, words[1:]...); code != 0 {
					t.Errorf("%s: `%s` exited %d: %s", filepath.Base(f), line, code, errs)
				}
			}
		}
	}
	if commands < 25 {
		t.Errorf("only %d tutorial commands ran", commands)
	}
	for _, fig := range []string{"out/tutorial-b/nm_mask.png", "out/tutorial-d/cascade_tokens.png", "out/tutorial-e/timeline.png", "out/tutorial-e/cycles.png"} {
		if st, err := os.Stat(filepath.Join(root, fig)); err != nil || st.Size() == 0 {
			t.Errorf("tutorial figure %s missing", fig)
		}
	}
}
