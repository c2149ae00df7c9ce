package sweep

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseAxisAndPoints(t *testing.T) {
	for spec, want := range map[string][]string{
		"pe_array.rows=8:128:x2": {"8", "16", "32", "64", "128"},
		"pe_array.rows=4:16:+4":  {"4", "8", "12", "16"},
		"sparsity.nm=dense,2:4":  {"dense", "2:4"},
		"dataflow=os,ws,is":      {"os", "ws", "is"},
		"x=1,4:8:+2":             {"1", "4", "6", "8"},
	} {
		a, err := ParseAxis(spec)
		if err != nil || !reflect.DeepEqual(a.Values, want) {
			t.Errorf("%s → %v %v, want %v", spec, a.Values, err, want)
		}
	}
	for _, bad := range []string{"rows", "=1,2", "rows=", "rows=8:4:x2", "rows=1:8:x1", "rows=a:b:+1", "rows=1,,2"} {
		if _, err := ParseAxis(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	a, _ := ParseAxis("a=1,2,3")
	b, _ := ParseAxis("b=x,y,z")
	pts, _ := Points([]Axis{a, b}, false)
	if len(pts) != 9 || fmt.Sprint(pts[5].Params) != "[{a 2} {b z}]" {
		t.Errorf("cartesian: %d points, point 5 %v", len(pts), pts[5].Params)
	}
	pts, _ = Points([]Axis{a, b}, true)
	if len(pts) != 3 || fmt.Sprint(pts[1].Params) != "[{a 2} {b y}]" {
		t.Errorf("zip: %v", pts)
	}
	c, _ := ParseAxis("c=1,2")
	if _, err := Points([]Axis{a, c}, true); err == nil {
		t.Error("zip of unequal axes accepted")
	}
	if _, err := Points([]Axis{a, a}, false); err == nil {
		t.Error("an axis twice accepted")
	}
	for s, want := range map[string]Shard{"": {0, 1}, "1/3": {1, 3}} {
		if got, err := ParseShard(s); err != nil || got != want {
			t.Errorf("shard %q: %v %v", s, got, err)
		}
	}
	for _, bad := range []string{"3/3", "-1/2", "1/0", "a/b", "1/2/3"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("shard %q accepted", bad)
		}
	}
}

const topo = "../../shared/reference/scalesim/test_mnk_input.csv"

func gridSpec() Spec {
	a, _ := ParseAxis("pe_array.rows=8,16,32")
	b, _ := ParseAxis("dataflow=os,ws,is")
	return Spec{Config: "systolic-32x32", Workload: topo, Axes: []Axis{a, b}, Batch: 1, Phase: "inference",
		Objectives: DefaultObjectives(false)}
}

func readFile(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A 3×3 grid gives 9 rows with the right parameters, and --jobs 1 and 2
// give byte-identical files.
func TestGridRunsAndJobsAgree(t *testing.T) {
	dir := t.TempDir()
	var outs [2]string
	for i, jobs := range []int{1, 2} {
		outs[i] = filepath.Join(dir, fmt.Sprint(jobs))
		sum, err := Run(gridSpec(), Options{Out: outs[i], Jobs: jobs, Shard: Shard{0, 1}})
		if err != nil {
			t.Fatal(err)
		}
		rows, _, err := ReadRows(filepath.Join(outs[i], "results.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 9 || sum.Rows != 9 || sum.Failed != 0 || len(sum.Front) == 0 {
			t.Fatalf("%d rows", len(rows))
		}
		for j, r := range rows {
			rowsV := []string{"8", "16", "32"}[j/3]
			df := []string{"os", "ws", "is"}[j%3]
			if r.Point != j || r.Params["pe_array.rows"] != rowsV || r.Params["dataflow"] != df || r.Error != "" || r.Metrics.PEs != 32*atoi(rowsV) {
				t.Errorf("row %d: %+v", j, r)
			}
		}
	}
	for _, f := range []string{"results.csv", "results.jsonl"} {
		if readFile(t, filepath.Join(outs[0], f)) != readFile(t, filepath.Join(outs[1], f)) {
			t.Errorf("%s differs between --jobs 1 and 2", f)
		}
	}
	// Same sweep again into the same directory needs --resume.
	if _, err := Run(gridSpec(), Options{Out: outs[0], Jobs: 1, Shard: Shard{0, 1}}); err == nil {
		t.Error("overwrote an existing sweep without --resume")
	}
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

// Shards 0/3, 1/3, 2/3 merged equal the unsharded run; a missing shard or
// a shard given twice is refused.
func TestShardsMerge(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "full")
	if _, err := Run(gridSpec(), Options{Out: full, Jobs: 2, Shard: Shard{0, 1}}); err != nil {
		t.Fatal(err)
	}
	var shards []string
	for i := 0; i < 3; i++ {
		d := filepath.Join(dir, fmt.Sprintf("s%d", i))
		if _, err := Run(gridSpec(), Options{Out: d, Jobs: 1, Shard: Shard{i, 3}}); err != nil {
			t.Fatal(err)
		}
		shards = append(shards, d)
	}
	merged := filepath.Join(dir, "merged")
	if _, sum, err := Merge(merged, shards); err != nil || sum.Rows != 9 {
		t.Fatal(err)
	}
	for _, f := range []string{"results.csv", "results.jsonl"} {
		if readFile(t, filepath.Join(full, f)) != readFile(t, filepath.Join(merged, f)) {
			t.Errorf("merged %s differs from the unsharded run", f)
		}
	}
	if _, _, err := Merge(filepath.Join(dir, "m2"), shards[:2]); err == nil {
		t.Error("merge with a shard missing succeeded")
	}
	if _, _, err := Merge(filepath.Join(dir, "m3"), append(shards, shards[0])); err == nil {
		t.Error("merge with a shard twice succeeded")
	}
}

// A torn last line (a write cut by a kill) is dropped on resume and the
// point re-run; failed points are recorded with their error.
func TestResumeDropsTornLineAndRecordsFailures(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "full")
	if _, err := Run(gridSpec(), Options{Out: full, Jobs: 1, Shard: Shard{0, 1}}); err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(dir, "part")
	if err := os.MkdirAll(part, 0o755); err != nil {
		t.Fatal(err)
	}
	lines := readFile(t, filepath.Join(full, "results.jsonl"))
	cut := 0
	for i, n := 0, 0; i < len(lines); i++ {
		if lines[i] == '\n' {
			n++
			if n == 4 {
				cut = i + 1
				break
			}
		}
	}
	torn := lines[:cut] + lines[cut:cut+20] // four rows and half of the fifth
	os.WriteFile(filepath.Join(part, "results.jsonl"), []byte(torn), 0o644)
	os.WriteFile(filepath.Join(part, "sweep.json"), []byte(readFile(t, filepath.Join(full, "sweep.json"))), 0o644)
	if _, err := Run(gridSpec(), Options{Out: part, Jobs: 2, Resume: true, Shard: Shard{0, 1}}); err != nil {
		t.Fatal(err)
	}
	if readFile(t, filepath.Join(part, "results.jsonl")) != lines {
		t.Error("resumed sweep differs from the uninterrupted one")
	}
	bad := gridSpec()
	bad.Axes[1].Values = []string{"os", "xs"}
	sum, err := Run(bad, Options{Out: filepath.Join(dir, "bad"), Jobs: 2, Shard: Shard{0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 3 || sum.Rows != 6 {
		t.Errorf("%d of %d failed, want 3 of 6", sum.Failed, sum.Rows)
	}
}

func TestPareto(t *testing.T) {
	m := func(c int64, e float64) *Metrics { return &Metrics{Cycles: c, EnergyPJ: ptr(e)} }
	rows := []Row{{Point: 0, Metrics: m(10, 5)}, {Point: 1, Metrics: m(5, 10)}, {Point: 2, Metrics: m(10, 10)},
		{Point: 3, Metrics: m(7, 7)}, {Point: 4, Error: "x"}, {Point: 5, Metrics: m(5, 10)}}
	front := Pareto(rows, []string{"cycles", "energy_pj"})
	var got []int
	for _, r := range front {
		got = append(got, r.Point)
	}
	if fmt.Sprint(got) != "[0 1 3 5]" {
		t.Errorf("front %v, want [0 1 3 5]", got)
	}
}

// The speed target: a 64-point PE sweep of ResNet-50 in under 60 s
// on 2 cores (measured: 15 s).
func BenchmarkPESweepResNet50(b *testing.B) {
	rows, _ := ParseAxis("pe_array.rows=8:64:+8")
	cols, _ := ParseAxis("pe_array.cols=8:64:+8")
	spec := Spec{Config: "systolic-32x32", Workload: "resnet50", Axes: []Axis{rows, cols}, Batch: 1, Phase: "inference",
		Objectives: DefaultObjectives(false)}
	for i := 0; i < b.N; i++ {
		if _, err := Run(spec, Options{Out: b.TempDir(), Jobs: 2, Shard: Shard{0, 1}}); err != nil {
			b.Fatal(err)
		}
	}
}

// tokens_per_second is maximised: the front keeps the faster point, where
// minimising it would keep the slower. Its direction shows in the header.
func TestParetoMaximisesRates(t *testing.T) {
	m := func(ttft, tps float64) *Metrics { return &Metrics{TTFTSeconds: ptr(ttft), TokensPerSecond: ptr(tps)} }
	rows := []Row{{Point: 0, Metrics: m(1, 10)}, {Point: 1, Metrics: m(1, 20)}, {Point: 2, Metrics: m(0.5, 5)}}
	obj := []string{"ttft_seconds", "tokens_per_second"}
	var got []int
	for _, r := range Pareto(rows, obj) {
		got = append(got, r.Point)
	}
	if fmt.Sprint(got) != "[1 2]" {
		t.Errorf("front %v, want [1 2]", got)
	}
	if err := CheckObjectives([]string{"ttft_seconds", "tpot_seconds", "tokens_per_second"}); err != nil {
		t.Error(err)
	}
	var b strings.Builder
	if err := WritePareto(t.TempDir(), nil, obj, Pareto(rows, obj), &b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "min ttft_seconds, max tokens_per_second") {
		t.Errorf("header: %s", b.String())
	}
}
