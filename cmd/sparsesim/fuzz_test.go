package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/arch/engines"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/explain"
	"github.com/sparsesim/sparsesim/workloads"
)

// chooser turns fuzz bytes into choices; past the end it picks 0.
type chooser struct {
	b []byte
	i int
}

func (c *chooser) n(k int) int {
	if k <= 1 {
		return 0
	}
	if c.i >= len(c.b) {
		return 0
	}
	v := int(c.b[c.i])
	c.i++
	return v % k
}

func (c *chooser) of(s []string) string { return s[c.n(len(s))] }

// mangle returns base with a few byte-level edits driven by c: flips,
// insertions of interesting bytes, deletions, a truncation.
func (c *chooser) mangle(base []byte) []byte {
	b := append([]byte(nil), base...)
	for edits := c.n(4); edits > 0 && len(b) > 0; edits-- {
		at := (c.n(256)*256 + c.n(256)) % len(b)
		switch c.n(4) {
		case 0:
			b[at] ^= byte(1 << c.n(8))
		case 1:
			ins := []byte{'-', '9', '0', '.', ',', '\n', ':', 0, 0xff, '#', ' ', 'e'}[c.n(12)]
			b = append(b[:at], append([]byte{ins}, b[at:]...)...)
		case 2:
			b = append(b[:at], b[min(len(b), at+1+c.n(16)):]...)
		case 3:
			b = b[:at]
		}
	}
	return b
}

// fuzzFiles are the input files a CLI execution may name, written fresh
// (mangled) into dir.
type fuzzFiles struct {
	yaml, cfg, topo, spatten, trace, npy, timeline, results string
}

var (
	seedTrace, seedTimeline, seedResults []byte
	seedOnce                             bool
)

// seeds builds, once, a real trace, timeline and results file to mangle.
func seeds(t testing.TB, dir string) {
	if seedOnce {
		return
	}
	seedOnce = true
	topo := filepath.Join(dir, "seed.csv")
	os.WriteFile(topo, []byte("Layer, M, N, K,\na, 16, 24, 32,\nb, 8, 8, 64,\n"), 0o644)
	tr := filepath.Join(dir, "seed.trace")
	if code := execute([]string{"trace", "gen", "-w", topo, "-o", tr}, &bytes.Buffer{}, &bytes.Buffer{}); code == 0 {
		seedTrace, _ = os.ReadFile(tr)
	}
	cfg, _ := configs.Load(configs.DefaultName, nil)
	tl := arch.NewTimeline(200)
	if _, err := engines.SimulateTimeline(cfg, workloads.Workload{Layers: []workloads.Layer{workloads.GEMM("a", 64, 64, 64)}}, tl); err == nil {
		var b bytes.Buffer
		_ = tl.WriteJSON(&b)
		seedTimeline = b.Bytes()
	}
	sw := filepath.Join(dir, "seedsweep")
	if code := execute([]string{"sweep", "-q", "-w", topo, "--grid", "pe_array.rows=8,16", "--grid", "dataflow=os,ws", "--out", sw, "-j", "1"}, &bytes.Buffer{}, &bytes.Buffer{}); code == 0 {
		seedResults, _ = os.ReadFile(filepath.Join(sw, "results.jsonl"))
	}
}

func writeFuzzFiles(c *chooser, dir string) fuzzFiles {
	yamlBase, _ := configs.EmbeddedSource(c.of(configs.Embedded()))
	cfgBase, _ := os.ReadFile("../../../shared/reference/scalesim/scale.cfg")
	spattenBase, _ := os.ReadFile("../../../shared/reference/spatten/small.csv")
	if len(spattenBase) > 2048 {
		spattenBase = spattenBase[:2048]
	}
	npyBase, _ := os.ReadFile("../../docs/examples/weights_128x32_int8.npy")
	f := fuzzFiles{}
	for _, x := range []struct {
		dst  *string
		name string
		base []byte
	}{
		{&f.yaml, "arch.yaml", yamlBase},
		{&f.cfg, "arch.cfg", cfgBase},
		{&f.topo, "topo.csv", []byte("Layer, M, N, K,\nL1, 64, 32, 128,\nL2, 7, 300, 9,\n")},
		{&f.spatten, "rows.csv", spattenBase},
		{&f.trace, "w.trace", seedTrace},
		{&f.npy, "w.npy", npyBase},
		{&f.timeline, "tl.json", seedTimeline},
		{&f.results, "results.jsonl", seedResults},
	} {
		*x.dst = filepath.Join(dir, x.name)
		os.WriteFile(*x.dst, c.mangle(x.base), 0o644)
	}
	return f
}

var setValues = []string{"0", "1", "-1", "2", "16", "33", "40.7", "x", "2:4", "1:8", "dense", "ideal", "channel", "detailed",
	"ddr4-2400", "hbm2", "ws", "os", "is", "1e9", "", "true", "fp16", "xcvu9p", "spatten", "systolic", "[1, 2]"}

// cliArgs decodes one command line from the fuzz input.
func cliArgs(c *chooser, f fuzzFiles, out string) []string {
	cfgs := append(configs.Embedded(), f.yaml, f.cfg, "nosuch", "")
	wls := append(workloads.Names(), f.topo, f.spatten, "nosuch.csv")
	paths := configs.FieldPaths()
	set := func() string {
		p := c.of(paths)
		if strings.HasSuffix(p, ".") {
			p += "mac_int8"
		}
		return p + "=" + c.of(setValues)
	}
	// Work is capped so one execution stays well under a second; a bigger
	// input is refused (exit 2), which is an allowed outcome.
	caps := []string{"--max-work", "15000", "--max-kernel-macs", "20000000"}
	// Mostly the small mangled files (an exhausted input picks 0: the
	// topology CSV); a zoo model one time in five.
	small := func() string {
		if c.n(5) == 4 {
			return c.of(wls)
		}
		return c.of([]string{f.topo, f.topo, f.topo, f.spatten})
	}
	var a []string
	switch c.n(7) {
	case 0, 1:
		a = append([]string{"run"}, caps...)
		a = append(a, "-w", small())
		for k := c.n(6); k > 0; k-- {
			switch c.n(12) {
			case 0:
				a = append(a, "-c", c.of(cfgs))
			case 1:
				a = append(a, "-w", c.of(wls))
			case 2, 3:
				a = append(a, "--set", set())
			case 4:
				a = append(a, "--format", c.of([]string{"table", "json", "csv", "yaml"}))
			case 5:
				a = append(a, "--batch", c.of([]string{"1", "2", "0", "-3", "x", "1.5"}))
			case 6:
				a = append(a, "--seq", c.of([]string{"0", "16", "-1", "100000", "x"}))
			case 7:
				a = append(a, "--phase", c.of([]string{"inference", "training", "x"}))
			case 8:
				a = append(a, "--timeline", filepath.Join(out, "tl-out.json"), "--timeline-max-events", c.of([]string{"0", "50", "100000"}))
			case 9:
				a = append(a, "--trace", f.trace)
			case 10:
				a = append(a, c.of([]string{"--functional", "--breakdown", "--allow-overfit"}))
			case 11:
				a = append(a, "-o", filepath.Join(out, "report.out"))
			}
		}
		if slices.Contains(a, "--trace") {
			// --trace with -w is refused up front; keep the replay
			// reachable.
			a = dropFlag(a, "-w")
		}
	case 2:
		a = append([]string{"sweep", "-q", "-j", "1", "--out", filepath.Join(out, "sw"), "--max-points", "4", "-w", small()}, caps...)
		for k := 1 + c.n(2); k > 0; k-- {
			a = append(a, "--grid", strings.SplitN(set(), "=", 2)[0]+"="+c.of(setValues)+","+c.of(setValues))
		}
		for k := c.n(3); k > 0; k-- {
			switch c.n(4) {
			case 0:
				a = append(a, "-c", c.of(cfgs))
			case 1:
				a = append(a, "-w", c.of(wls))
			case 2:
				a = append(a, "--set", set())
			case 3:
				a = append(a, "--zip")
			}
		}
	case 3:
		if c.n(2) == 0 {
			a = []string{"trace", "info", f.trace}
		} else {
			a = []string{"trace", "gen", "-o", filepath.Join(out, "gen.trace"), "-c", c.of(cfgs), "-w", c.of([]string{f.topo, "nosuch"}),
				"--seed", c.of([]string{"1", "-5", "x"})}
			if c.n(3) == 0 {
				a = append(a, "--weights", "a="+f.npy)
			}
		}
	case 4:
		var topics []string
		for _, t := range explain.Topics() {
			topics = append(topics, t.Name)
		}
		a = []string{"explain", c.of(append(topics, "bogus")), "--size", c.of([]string{"0", "1", "3", "9", "64", "300", "-1"}),
			"--seed", c.of([]string{"1", "7", "0"}), "-f", c.of([]string{"text", "json", "csv"})}
		if c.n(8) == 0 {
			a = append(a, "--figures", filepath.Join(out, "figs"))
		}
	case 5:
		a = []string{"compare", "--runs", "1", "--case", c.of([]string{"gemm", "nm", "attention", "all", "x"}),
			"--m", c.of([]string{"8", "33", "0", "5000"}), "--n", c.of([]string{"8", "16"}), "--k", c.of([]string{"16", "7"}),
			"--nm", c.of([]string{"2:4", "1:8", "4:2", "x"}), "-c", c.of(cfgs)}
		if c.n(3) == 0 {
			a = append(a, "--weights", f.npy)
		}
	case 6:
		if c.n(2) == 0 {
			a = []string{"plot", "--timeline", f.timeline, "-o", filepath.Join(out, "tl.png")}
		} else {
			cols := []string{"pe_array.rows", "dataflow", "cycles", "utilization", "energy_pj", "pes", "nosuch"}
			a = []string{"plot", f.results, "--x", c.of(cols), "--y", c.of(cols), "-o", filepath.Join(out, c.of([]string{"p.png", "p.svg", "p.txt"}))}
			if c.n(2) == 0 {
				a = append(a, "--color", c.of(cols))
			}
		}
	}
	return a
}

// dropFlag removes every "flag value" pair from args.
func dropFlag(args []string, flag string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == flag && i+1 < len(args) {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

var (
	usageHint = regexp.MustCompile(`^run 'sparsesim( [a-z]+)* --help' for usage$`)
	countKey  = regexp.MustCompile(`(?i)cycles|bytes|macs|events|count|folds|tokens`)
)

// checkOutcome enforces the contract: exit 0 with a valid report, or exit
// 2 with one line naming the input (plus cobra's usage hint); never exit
// 1 (an internal error or a recovered panic), never a negative count.
func checkOutcome(t *testing.T, args []string, code int, stdout, stderr string) {
	t.Helper()
	cmdline := strings.Join(args, " ")
	switch code {
	case 0:
		if strings.Contains(cmdline, "json") && strings.HasPrefix(strings.TrimSpace(stdout), "{") {
			var v any
			if err := json.Unmarshal([]byte(stdout), &v); err != nil {
				t.Fatalf("%s: exit 0 with invalid JSON: %v", cmdline, err)
			}
			if k, n, bad := negativeCount(v, ""); bad {
				t.Fatalf("%s: report has %s = %g", cmdline, k, n)
			}
		}
		if strings.Contains(stdout, "map[") || strings.Contains(stderr, "map[") {
			t.Fatalf("%s: Go map syntax in user text", cmdline)
		}
	case 2:
		lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
		if !strings.HasPrefix(lines[0], "sparsesim: ") || len(lines) > 2 || len(lines) == 2 && !usageHint.MatchString(lines[1]) {
			t.Fatalf("%s: exit 2 without one clean line: %q", cmdline, stderr)
		}
		if strings.Contains(lines[0], "panic") || strings.Contains(lines[0], "map[") {
			t.Fatalf("%s: %q", cmdline, lines[0])
		}
	default:
		t.Fatalf("%s: exit %d: %s", cmdline, code, stderr)
	}
}

func negativeCount(v any, key string) (string, float64, bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if kk, n, bad := negativeCount(e, k); bad {
				return kk, n, true
			}
		}
	case []any:
		for _, e := range x {
			if kk, n, bad := negativeCount(e, key); bad {
				return kk, n, true
			}
		}
	case float64:
		if x < 0 && countKey.MatchString(key) && !strings.Contains(key, "delta") {
			return key, x, true
		}
	}
	return "", 0, false
}

// runBounded executes one command line with a deadline: a hang past it
// fails the test.
func runBounded(t *testing.T, args []string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- execute(args, &out, &errb) }()
	select {
	case code := <-done:
		return code, out.String(), errb.String()
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: still running after 60 s", strings.Join(args, " "))
	}
	return 0, "", ""
}

// FuzzCLI drives run, sweep, trace, explain, compare and plot with random
// flag sets over every embedded config, zoo workload, DRAM model and
// preset, and mangled input files (configs, topology and SpAtten CSVs,
// traces, .npy, timelines, sweep results). Every timeline a successful
// run writes must pass arch.CheckTimeline.
func FuzzCLI(f *testing.F) {
	for _, s := range []string{"", "\x00", "\x01\x01", "\x00\x05\x02\x03", "\x02\x01", "\x03\x01", "\x04\x00", "\x05", "\x06\x00", "\x06\x01",
		"\x00\x03\x08\x08", "\x00\x03\x02\x02\x0a\x00\x02", "\x01\x05\x01\x0c"} {
		f.Add([]byte(s))
	}
	// Long random inputs reach deep flag combinations at once; they also
	// run as plain regression cases in every `go test`.
	r := rand.New(rand.NewSource(14))
	for i := 0; i < 30; i++ {
		b := make([]byte, 64)
		r.Read(b)
		f.Add(b)
	}
	base := f.TempDir()
	seeds(f, base)
	n := 0
	f.Fuzz(func(t *testing.T, data []byte) {
		n++
		dir := filepath.Join(base, fmt.Sprintf("x%d", n))
		os.MkdirAll(dir, 0o755)
		defer os.RemoveAll(dir)
		c := &chooser{b: data}
		files := writeFuzzFiles(c, dir)
		args := cliArgs(c, files, dir)
		code, stdout, stderr := runBounded(t, args)
		if log := os.Getenv("SPARSESIM_FUZZ_LOG"); log != "" {
			// Outcome tally for the report: exit code, command, first error line.
			if lf, err := os.OpenFile(log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
				fmt.Fprintf(lf, "%d\t%s\t%s\n", code, strings.Join(args, " "), strings.SplitN(stderr, "\n", 2)[0])
				lf.Close()
			}
		}
		checkOutcome(t, args, code, stdout, stderr)
		if code == 0 && args[0] == "run" {
			if b, err := os.ReadFile(filepath.Join(dir, "tl-out.json")); err == nil {
				tf, err := arch.ParseTimeline(b)
				if err != nil {
					t.Fatalf("%s: timeline is not JSON: %v", strings.Join(args, " "), err)
				}
				if err := arch.CheckTimeline(tf); err != nil {
					t.Fatalf("%s: invalid timeline: %v", strings.Join(args, " "), err)
				}
			}
		}
	})
}
