package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := execute(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunDefault(t *testing.T) {
	code, out, errs := run(t, "run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"resnet18 on systolic-32x32", "ws", "channel", "layer4.1.conv2", "total"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
}

// The documented JSON keys exist, and two runs agree byte for byte once the
// sim block (host timings) is removed.
func TestJSONKeysAndDeterminism(t *testing.T) {
	strip := func(s string) ([]byte, map[string]any) {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		sim := m["sim"].(map[string]any)
		delete(m, "sim")
		b, _ := json.Marshal(m)
		return b, sim
	}
	args := []string{"run", "--workload", "mobilenet", "--format", "json"}
	_, a, _ := run(t, args...)
	_, b, _ := run(t, args...)
	ja, sim := strip(a)
	jb, _ := strip(b)
	if !bytes.Equal(ja, jb) {
		t.Error("two identical runs differ outside the sim block")
	}
	var m map[string]any
	json.Unmarshal([]byte(a), &m)
	for _, k := range []string{"schema_version", "config", "workload", "layers", "total", "sim"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing top-level key %s", k)
		}
	}
	layer := m["layers"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "m", "n", "k", "macs", "cycles", "stall_cycles", "utilization", "mapping_efficiency", "dram_read_bytes", "dram_write_bytes"} {
		if _, ok := layer[k]; !ok {
			t.Errorf("missing layer key %s", k)
		}
	}
	total := m["total"].(map[string]any)
	for _, k := range []string{"cycles", "stall_cycles", "macs", "utilization", "dram_read_bytes", "dram_write_bytes", "seconds"} {
		if _, ok := total[k]; !ok {
			t.Errorf("missing total key %s", k)
		}
	}
	for _, k := range []string{"events", "wall_seconds"} {
		if _, ok := sim[k]; !ok {
			t.Errorf("missing sim key %s", k)
		}
	}
	// mobilenet's depthwise layers stay grouped: dw1 is 32 groups of 3·3·1.
	for _, l := range m["layers"].([]any) {
		l := l.(map[string]any)
		if l["name"] == "dw1" && (l["groups"].(float64) != 32 || l["k"].(float64) != 9 || l["n"].(float64) != 1) {
			t.Errorf("dw1 lowered as %v", l)
		}
	}
}

func TestCSVAndAtomicOut(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.csv")
	code, out, errs := run(t, "run", "-w", "alexnet", "-f", "csv", "-o", p)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errs)
	}
	f, _ := os.Open(p)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+8+1 || rows[len(rows)-1][0] != "TOTAL" {
		t.Errorf("alexnet CSV has %d rows, want header + 8 layers + TOTAL", len(rows))
	}
	// The memory columns carry the JSON's memory block: per layer, the
	// bytes by kind add up to dram_read_bytes and dram_write_bytes.
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	num := func(r []string, name string) int64 {
		i, ok := col[name]
		if !ok {
			t.Fatalf("CSV has no column %s", name)
		}
		v, err := strconv.ParseInt(r[i], 10, 64)
		if err != nil {
			t.Fatalf("column %s: %v", name, err)
		}
		return v
	}
	for _, r := range rows[1 : len(rows)-1] {
		if len(r) != len(rows[0]) {
			t.Fatalf("row %s has %d fields, header %d", r[0], len(r), len(rows[0]))
		}
		var rd, wr int64
		for _, k := range []string{"ifmap", "filter", "metadata", "ofmap", "psum", "extra"} {
			rd += num(r, "memory_read_"+k)
			wr += num(r, "memory_write_"+k)
		}
		if rd != num(r, "dram_read_bytes") || wr != num(r, "dram_write_bytes") {
			t.Errorf("%s: memory columns read %d write %d, dram_read_bytes %d dram_write_bytes %d", r[0], rd, wr, num(r, "dram_read_bytes"), num(r, "dram_write_bytes"))
		}
		if r[col["memory_input"]] == "" || r[col["memory_bound"]] == "" {
			t.Errorf("%s: memory_input/memory_bound empty", r[0])
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
	code, _, errs = run(t, "run", "-o", filepath.Join(p, "under-a-file.txt"))
	if code != 2 || !strings.Contains(errs, "--out") {
		t.Errorf("unwritable --out: exit %d, %s", code, errs)
	}
}

func TestBadInputExitsTwo(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("pe_array:\n  rows: -4\n"), 0o644)
	for _, args := range [][]string{
		{"run", "--bogus"},
		{"run", "--format", "xml"},
		{"run", "--config", "nonesuch"},
		{"run", "--config", bad},
		{"run", "--workload", "lenet"},
		{"run", "--set", "pe_array.rows"},
		{"run", "--batch", "0"},
		{"frobnicate"},
		{"run", "extra-arg"},
	} {
		code, _, errs := run(t, args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errs)
		}
		first := strings.SplitN(errs, "\n", 2)[0]
		if !strings.HasPrefix(first, "sparsesim: ") || strings.Contains(errs, "panic") {
			t.Errorf("%v: stderr %q", args, errs)
		}
	}
	_, _, errs := run(t, "run", "--config", bad)
	if !strings.Contains(errs, "bad.yaml:2: field pe_array.rows") {
		t.Errorf("config error lacks file:line and field: %s", errs)
	}
}

func TestListCommands(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"configs"}, []string{"systolic-32x32", "scalesim-32x32"}},
		{[]string{"workloads"}, []string{"resnet18", "resnet50", "alexnet", "mobilenet", "vgg16", "bert-base", "bert-large", "gpt2-small", "gpt2-medium", "vit-b16"}},
		{[]string{"version"}, []string{"sparsesim", "akita"}},
		{[]string{"configs", "--show", "systolic-32x32"}, []string{"pe_array:", "dataflow: ws"}},
		{[]string{"completion", "bash"}, []string{"bash completion"}},
	} {
		code, out, errs := run(t, tc.args...)
		if code != 0 {
			t.Errorf("%v: exit %d %s", tc.args, code, errs)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q", tc.args, w)
			}
		}
	}
}

// A sparse training run reports the SAT columns and the dense baseline.
func TestSparseTrainingRun(t *testing.T) {
	code, out, errs := run(t, "run", "-c", "sat-vcu1525", "-w", "alexnet", "--phase", "training", "-f", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	total := m["total"].(map[string]any)
	sp := total["speedup_vs_dense"].(float64)
	if sp <= 1 || sp > 2 || total["dense_cycles"].(float64) <= total["cycles"].(float64) {
		t.Errorf("2:8 training speedup %v outside (1, 2]", sp)
	}
	if total["mask_gen_cycles"].(float64) <= 0 || total["metadata_bytes"].(float64) <= 0 {
		t.Error("no mask generation or metadata reported")
	}
	phases := total["phase_cycles"].(map[string]any)
	for _, p := range []string{"fwd", "bwd_data", "bwd_weight", "update"} {
		if phases[p] == nil {
			t.Errorf("phase %s missing", p)
		}
	}
	code, out, _ = run(t, "run", "-w", "resnet18", "--set", "sparsity.nm=2:4")
	if code != 0 || !strings.Contains(out, "speedup") || !strings.Contains(out, "2:4") {
		t.Errorf("sparse table lacks the N:M columns (exit %d)", code)
	}
	if code, _, _ = run(t, "run", "--phase", "bogus"); code != 2 {
		t.Errorf("--phase bogus: exit %d", code)
	}
}

func TestSpAttenRuns(t *testing.T) {
	trace := "../../../shared/reference/spatten/summary-gpt2-small-wikitext2-per8.csv"
	code, out, errs := run(t, "run", "-c", "spatten", "-w", trace, "-f", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	a := m["attention"].(map[string]any)
	if a["rows"].(float64) != 4608 || a["requant_queries"].(float64) != 323 {
		t.Errorf("attention block %v", a)
	}
	code, out, errs = run(t, "run", "-c", "spatten", "-w", trace, "--breakdown", "-f", "json")
	if code != 0 {
		t.Fatalf("breakdown exit %d: %s", code, errs)
	}
	var b struct{ Breakdown []map[string]any }
	if err := json.Unmarshal([]byte(out), &b); err != nil || len(b.Breakdown) != 5 {
		t.Fatalf("breakdown %v %v", b, err)
	}
	last := b.Breakdown[4]
	// The testbench's reading of -1 widths (8 bits, keys + 4 LSBs):
	// 8.82x with queries and outputs (docs/spatten.md).
	if d := last["dram_reduction_total"].(float64); d < 8.75 || d > 8.9 {
		t.Errorf("all techniques cut DRAM %.2fx, want 8.82x", d)
	}
	// A systolic config cannot run an attention trace, and vice versa.
	if code, _, errs = run(t, "run", "-w", trace); code != 2 || !strings.Contains(errs, "engine") {
		t.Errorf("systolic config on a SpAtten trace: exit %d %s", code, errs)
	}
	if code, _, _ = run(t, "run", "-c", "spatten", "-w", "resnet18"); code != 2 {
		t.Errorf("spatten config on resnet18: exit %d", code)
	}
	if code, _, _ = run(t, "run", "--breakdown"); code != 2 {
		t.Errorf("--breakdown on a systolic config: exit %d", code)
	}
}

func TestFPGAFitAndEnergyBlock(t *testing.T) {
	big := []string{"run", "-c", "sat-vcu1525", "-w", "alexnet", "--set", "pe_array.rows=128", "--set", "pe_array.cols=128"}
	code, _, errs := run(t, big...)
	if code != 2 || !strings.Contains(errs, "does not fit xcvu9p") || !strings.Contains(errs, "dsp") {
		t.Errorf("oversized config: exit %d, %s", code, errs)
	}
	if code, _, errs = run(t, append(big, "--allow-overfit")...); code != 0 {
		t.Errorf("--allow-overfit: exit %d %s", code, errs)
	}
	code, out, _ := run(t, "run", "-c", "sat-vcu1525", "-w", "alexnet", "-f", "json")
	var m map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil {
		t.Fatal("sat run failed")
	}
	e := m["energy"].(map[string]any)
	if e["total_pj"].(float64) <= 0 || e["by_class_pj"].(map[string]any)["dram"].(float64) <= 0 {
		t.Errorf("energy block %v", e)
	}
	f := m["fpga"].(map[string]any)
	if f["fits"] != true || f["device"] != "xcvu9p" {
		t.Errorf("fpga block %v", f)
	}
}

func TestRTLVectorsCLI(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := run(t, "rtl", "vectors", "--unit", "mask_gen", "--param", "N=1", "--param", "M=8", "-n", "100", "-o", dir)
	if code != 0 || !strings.Contains(out, "latency the Go model uses: 2") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	for _, f := range []string{"in.hex", "exp.hex", "tb.v", "mask_gen.v"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written", f)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "exp.hex"))
	if n := strings.Count(string(b), "\n"); n != 100 {
		t.Errorf("%d expected vectors, want 100", n)
	}
	for _, args := range [][]string{
		{"rtl", "vectors", "--unit", "nosuch", "-o", dir},
		{"rtl", "vectors", "--unit", "nm_pe", "--param", "Q=3", "-o", dir},
		{"rtl", "vectors", "--unit", "nm_pe", "--param", "N", "-o", dir},
	} {
		if code, _, _ := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// Replaying a generated trace gives the same cycles as simulating the
// workload directly.
func TestTraceReplayEqualsDirect(t *testing.T) {
	dir := t.TempDir()
	total := func(args ...string) float64 {
		code, out, errs := run(t, append(args, "-f", "json")...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errs)
		}
		var m map[string]any
		json.Unmarshal([]byte(out), &m)
		return m["total"].(map[string]any)["cycles"].(float64)
	}
	for _, tc := range [][]string{
		{"-c", "sat-vcu1525", "-w", "resnet18", "--phase", "training"},
		{"-c", "spatten", "-w", "bert-base", "--seq", "64"},
	} {
		tr := filepath.Join(dir, "t.trace")
		if code, _, errs := run(t, append([]string{"trace", "gen", "-o", tr}, tc...)...); code != 0 {
			t.Fatalf("trace gen %v: %s", tc, errs)
		}
		code, out, _ := run(t, "trace", "info", tr)
		if code != 0 || !strings.Contains(out, "sparsesim-trace v1") {
			t.Errorf("trace info: %s", out)
		}
		direct := total(append([]string{"run"}, tc...)...)
		replay := total("run", tc[0], tc[1], "--trace", tr)
		if direct != replay {
			t.Errorf("%v: direct %v cycles, replay %v", tc, direct, replay)
		}
	}
	os.WriteFile(filepath.Join(dir, "bad.trace"), []byte("{\"format\":\"sparsesim-trace\",\"version\":1}\n"), 0o644)
	if code, _, errs := run(t, "run", "--trace", filepath.Join(dir, "bad.trace")); code != 2 || !strings.Contains(errs, "truncated") {
		t.Errorf("truncated trace: exit %d %s", code, errs)
	}
}

func TestCompareCLI(t *testing.T) {
	code, out, errs := run(t, "compare", "--runs", "1", "-f", "json", "--m", "64", "--n", "64", "--k", "64")
	if code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	var m struct{ Results []map[string]any }
	if err := json.Unmarshal([]byte(out), &m); err != nil || len(m.Results) != 3 {
		t.Fatalf("%v %v", m, err)
	}
	for _, r := range m.Results {
		for _, k := range []string{"match", "max_abs_error", "max_rel_error", "cpu_seconds", "sim_seconds", "speedup", "energy_ratio"} {
			if _, ok := r[k]; !ok {
				t.Errorf("%v lacks %s", r["case"], k)
			}
		}
		if r["match"] != true {
			t.Errorf("%v does not match", r["case"])
		}
	}
	ex := "../../docs/examples/"
	if code, _, errs := run(t, "compare", "--case", "gemm,nm", "--runs", "1", "--activations", ex+"activations_64x128_int8.npy", "--weights", ex+"weights_128x32_int8.npy"); code != 0 {
		t.Errorf("npy compare: exit %d %s", code, errs)
	}
	code, _, errs = run(t, "compare", "--case", "gemm", "--activations", ex+"weights_128x32_int8.npy", "--weights", ex+"weights_128x32_int8.npy")
	if code != 2 || !strings.Contains(errs, "must equal W's rows") {
		t.Errorf("mismatched npy: exit %d %s", code, errs)
	}
	code, out, errs = run(t, "run", "-w", "mobilenet", "--set", "sparsity.nm=2:4", "--functional", "-f", "json")
	var rep map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("run --functional: exit %d %s", code, errs)
	}
	if f := rep["functional"].(map[string]any); f["match"] != true || f["layers_checked"].(float64) < 20 {
		t.Errorf("functional block %v", f)
	}
}

// Traces reflect real data: a layer's weights from a .npy file are pruned.
func TestTraceGenWithNPYWeights(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "fc.csv")
	os.WriteFile(csv, []byte("Layer, M, N, K,\nfc, 64, 32, 128,\n"), 0o644)
	tr := filepath.Join(dir, "fc.trace")
	w := "../../docs/examples/weights_128x32_int8.npy"
	if code, _, errs := run(t, "trace", "gen", "-w", csv, "--set", "sparsity.nm=2:8", "--weights", "fc="+w, "-o", tr); code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	b, _ := os.ReadFile(tr)
	if !strings.Contains(string(b), `"groups":512,"kept":1024,"min_per_group":2,"max_per_group":2,"weights_source":"`+w) {
		t.Errorf("trace lacks the pruned real weights' summary:\n%s", b)
	}
	if code, _, errs := run(t, "trace", "gen", "-w", csv, "--set", "sparsity.nm=2:8", "--weights", "fc=../../docs/examples/activations_64x128_int8.npy", "-o", tr); code != 2 || !strings.Contains(errs, "needs K×N") {
		t.Errorf("mismatched weights: exit %d %s", code, errs)
	}
}

// Odd values on every command are one-line user errors (exit 2), never a
// panic.
func TestOddFlagsAreUserErrors(t *testing.T) {
	for _, args := range [][]string{
		{"rtl", "vectors", "--unit", "nm_pe", "--param", "N=5", "-o", t.TempDir()},
		{"rtl", "vectors", "--unit", "pquant", "--param", "L=12", "-o", t.TempDir()},
		{"compare", "--m", "0"},
		{"compare", "--cpu-watts", "-3"},
		{"compare", "--case", "fft"},
		{"explain", "cascade", "--size", "99999"},
		{"explain", "nm", "--format", "xml"},
		{"run", "--set", "sparsity.supported=2:4,x"},
		{"run", "--set", "energy.overrides=3"},
		{"run", "--set", "energy.technology_nm=3"},
		{"run", "--set", "engine=gpu"},
		{"run", "--set", "attention.tau=1.5"},
		{"trace", "gen", "-w", "resnet18"},
		{"trace", "info", "nonesuch.trace"},
		{"sweep", "--out", t.TempDir(), "--objectives", "happiness"},
		{"plot", "--timeline", "nonesuch.json", "-o", "x.png"},
	} {
		code, _, errs := run(t, args...)
		if code != 2 || strings.Contains(errs, "panic") || strings.Count(strings.TrimSpace(errs), "\n") > 1 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
}
