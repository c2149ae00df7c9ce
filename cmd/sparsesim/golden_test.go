package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The golden-output test: representative commands whose outputs, minus host
// timings, are hashed into testdata/golden_outputs.txt (one hash and one
// command a line). A layout change must leave every hash alone; a change that
// moves a number updates the hash with `go test ./cmd/sparsesim -run
// TestGoldenOutputs -update-golden` and says in its commit which number
// changed and why.
//
// In a command, $REF is shared/reference beside the checkout and $OUT a
// directory shared by the file's commands in order (so a trace written by one
// line can be run by the next). A command that writes --out files hashes
// those files (sorted by name, PNG/SVG left out) after its stdout.
var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden_outputs.txt from this tree's outputs")

const goldenFile = "testdata/golden_outputs.txt"

// hostKeys are JSON keys whose values are host measurements (time, the CPU
// kernel's speed, build caches), not simulated results.
var hostKeys = map[string]bool{
	"wall_seconds": true, "events_per_second": true, "simulated_cycles_per_second": true,
	"kernel_seconds": true, "cpu_seconds": true, "cpu_energy_j": true,
	"build_cached": true, "build_seconds": true, "cpu_threads": true,
}

// commandHostKeys adds keys that are host-derived only in one command:
// compare's speedup and energy ratio divide by the CPU's time, and rtl
// cosim's sim_seconds is the HDL simulator's wall time.
var commandHostKeys = map[string][]string{
	"compare": {"speedup", "energy_ratio"},
	"rtl":     {"sim_seconds"},
}

type goldenLine struct {
	hash string
	cmd  string
}

func readGolden(t *testing.T) []goldenLine {
	t.Helper()
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []goldenLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		hash, cmd, ok := strings.Cut(s, "  ")
		if !ok {
			t.Fatalf("%s: line %q is not `hash  command`", goldenFile, s)
		}
		lines = append(lines, goldenLine{hash, strings.TrimSpace(cmd)})
	}
	return lines
}

func writeGolden(t *testing.T, lines []goldenLine) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# Golden outputs (cmd/sparsesim/golden_test.go): sha256[:16] of each command's\n")
	b.WriteString("# output minus host timings. Update with -update-golden and say why in the commit.\n")
	for _, l := range lines {
		fmt.Fprintf(&b, "%s  %s\n", l.hash, l.cmd)
	}
	if err := os.WriteFile(goldenFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// normalizeOutput drops host timings from a JSON document; other text is
// hashed as printed.
func normalizeOutput(t *testing.T, out []byte, drop map[string]bool) []byte {
	t.Helper()
	trimmed := bytes.TrimSpace(out)
	if len(trimmed) == 0 || (trimmed[0] != '{' && trimmed[0] != '[') {
		return out
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var docs []any
	for dec.More() {
		var v any
		if err := dec.Decode(&v); err != nil {
			return out // not JSON after all (a table starting with '['): hash as is
		}
		docs = append(docs, stripKeys(v, drop))
	}
	b, err := json.Marshal(docs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func stripKeys(v any, drop map[string]bool) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if drop[k] {
				delete(x, k)
				continue
			}
			x[k] = stripKeys(e, drop)
		}
	case []any:
		for i, e := range x {
			x[i] = stripKeys(e, drop)
		}
	}
	return v
}

// normalizeCSV blanks the columns named like host timings.
func normalizeCSV(b []byte, drop map[string]bool) []byte {
	lines := strings.Split(string(b), "\n")
	if len(lines) == 0 {
		return b
	}
	header := strings.Split(lines[0], ",")
	var cols []int
	for i, h := range header {
		if drop[h] {
			cols = append(cols, i)
		}
	}
	if len(cols) == 0 {
		return b
	}
	for li := 1; li < len(lines); li++ {
		f := strings.Split(lines[li], ",")
		for _, c := range cols {
			if c < len(f) {
				f[c] = ""
			}
		}
		lines[li] = strings.Join(f, ",")
	}
	return []byte(strings.Join(lines, "\n"))
}

func goldenHash(t *testing.T, cmd string, ref, out string) (string, error) {
	t.Helper()
	cmd = strings.ReplaceAll(strings.ReplaceAll(cmd, "$REF", ref), "$OUT", out)
	args := strings.Fields(cmd)
	drop := map[string]bool{}
	for k := range hostKeys {
		drop[k] = true
	}
	for _, k := range commandHostKeys[args[0]] {
		drop[k] = true
	}
	var outFiles []string
	for i, a := range args {
		if (a == "--out" || a == "-o") && i+1 < len(args) {
			outFiles = append(outFiles, args[i+1])
		}
	}
	before := map[string]bool{}
	for _, p := range outFiles {
		before[p] = true
	}
	var stdout, stderr bytes.Buffer
	if code := execute(args, &stdout, &stderr); code != 0 {
		return "", fmt.Errorf("exit %d: %s", code, stderr.String())
	}
	h := sha256.New()
	// Paths under $OUT differ per run and $REF per machine (a workload's
	// source names its file); hash them as written in the golden file.
	printed := bytes.ReplaceAll(stdout.Bytes(), []byte(out), []byte("$OUT"))
	printed = bytes.ReplaceAll(printed, []byte(ref), []byte("$REF"))
	h.Write(normalizeOutput(t, printed, drop))
	if dump := os.Getenv("GOLDEN_DUMP"); dump != "" {
		os.WriteFile(filepath.Join(dump, fmt.Sprintf("%x.out", sha256.Sum256([]byte(cmd)))), normalizeOutput(t, printed, drop), 0o644)
	}
	for _, p := range outFiles {
		paths := []string{p}
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			ents, _ := os.ReadDir(p)
			paths = paths[:0]
			for _, e := range ents {
				paths = append(paths, filepath.Join(p, e.Name()))
			}
			sort.Strings(paths)
		}
		for _, f := range paths {
			if ext := filepath.Ext(f); ext == ".png" || ext == ".svg" {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "\x00%s\x00", filepath.Base(f))
			if filepath.Ext(f) == ".csv" {
				b = normalizeCSV(b, drop)
			} else if filepath.Ext(f) == ".jsonl" {
				var parts [][]byte
				for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
					parts = append(parts, normalizeOutput(t, line, drop))
				}
				b = bytes.Join(parts, []byte("\n"))
			} else {
				b = normalizeOutput(t, b, drop)
			}
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// TestGoldenOutputs runs every command of testdata/golden_outputs.txt and
// checks its hash. rtl cosim lines need verilator or iverilog and are skipped
// (named in the log) without them.
func TestGoldenOutputs(t *testing.T) {
	if testing.Short() {
		t.Skip("golden outputs run ~25 simulations")
	}
	ref, err := filepath.Abs("../../../shared/reference")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ref); err != nil {
		t.Skipf("no shared/reference beside the checkout: %v", err)
	}
	out := t.TempDir()
	_, errV := exec.LookPath("verilator")
	_, errI := exec.LookPath("iverilog")
	haveHDL := errV == nil || errI == nil
	lines := readGolden(t)
	changed := false
	for i, l := range lines {
		if strings.HasPrefix(l.cmd, "rtl ") && !haveHDL {
			t.Logf("skipped (no verilator or iverilog): %s", l.cmd)
			continue
		}
		got, err := goldenHash(t, l.cmd, ref, out)
		if err != nil {
			t.Errorf("%s: %v", l.cmd, err)
			continue
		}
		if got != l.hash {
			if *updateGolden {
				lines[i].hash = got
				changed = true
				continue
			}
			t.Errorf("golden output changed: %s\n  want %s, got %s (a changed number needs -update-golden and a sentence in the commit)", l.cmd, l.hash, got)
		}
	}
	if changed {
		writeGolden(t, lines)
	}
}

// The normalizer must not hide simulated numbers: a changed cycle count
// changes the hash, a changed wall time does not.
func TestGoldenNormalizerKeepsNumbers(t *testing.T) {
	drop := map[string]bool{"wall_seconds": true}
	a := normalizeOutput(t, []byte(`{"total":{"cycles":10},"sim":{"wall_seconds":1.5}}`), drop)
	b := normalizeOutput(t, []byte(`{"total":{"cycles":10},"sim":{"wall_seconds":9.25}}`), drop)
	c := normalizeOutput(t, []byte(`{"total":{"cycles":11},"sim":{"wall_seconds":1.5}}`), drop)
	if !bytes.Equal(a, b) {
		t.Error("a host timing changed the normalized output")
	}
	if bytes.Equal(a, c) {
		t.Error("a changed cycle count left the normalized output alone")
	}
	csvA := normalizeCSV([]byte("cycles,wall_seconds\n10,1.5\n"), drop)
	csvB := normalizeCSV([]byte("cycles,wall_seconds\n10,2.5\n"), drop)
	csvC := normalizeCSV([]byte("cycles,wall_seconds\n12,1.5\n"), drop)
	if !bytes.Equal(csvA, csvB) || bytes.Equal(csvA, csvC) {
		t.Error("CSV normalizer: host column not blanked or a number hidden")
	}
}
