package sweep

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// bruteFront is the O(n²) definition: i is kept unless some j is ≤ in
// every objective and < in one.
func bruteFront(vals []float64, k int) []int {
	n := len(vals) / k
	var front []int
	for i := 0; i < n; i++ {
		dominated := false
		for j := 0; j < n && !dominated; j++ {
			le, lt := true, false
			for o := 0; o < k; o++ {
				le = le && vals[j*k+o] <= vals[i*k+o]
				lt = lt || vals[j*k+o] < vals[i*k+o]
			}
			dominated = le && lt
		}
		if !dominated {
			front = append(front, i)
		}
	}
	return front
}

// The O(n log n) front equals the brute-force oracle on random points,
// with many ties (small integer ranges) and without (continuous values).
func TestParetoIndicesMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(18))
	for trial := 0; trial < 400; trial++ {
		k := 1 + trial%3
		n := rng.Intn(300)
		vals := make([]float64, n*k)
		for i := range vals {
			if trial%2 == 0 {
				vals[i] = float64(rng.Intn(1 + trial%12))
			} else {
				vals[i] = rng.Float64()
			}
		}
		got, want := ParetoIndices(vals, k), bruteFront(vals, k)
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d (n=%d, k=%d): front %v, brute force %v", trial, n, k, got, want)
		}
	}
}

func TestGridAtMatchesShardCount(t *testing.T) {
	a, _ := ParseAxis("a=1:10:+1")
	b, _ := ParseAxis("b=x,y,z")
	g, err := NewGrid([]Axis{a, b}, false)
	if err != nil || g.Len() != 30 {
		t.Fatalf("%d points, %v", g.Len(), err)
	}
	if p := g.At(29); fmt.Sprint(p.Params) != "[{a 10} {b z}]" {
		t.Errorf("last point %v", p.Params)
	}
	for _, sh := range []Shard{{0, 1}, {0, 4}, {3, 4}, {5, 7}, {0, 31}, {30, 31}} {
		n := 0
		for i := 0; i < g.Len(); i++ {
			if sh.Has(i) {
				n++
			}
		}
		if sh.Count(g.Len()) != n {
			t.Errorf("shard %v: Count %d, brute count %d", sh, sh.Count(g.Len()), n)
		}
	}
	big, _ := ParseAxis("a=1:1001:+1")
	if _, err := NewGrid([]Axis{big, big, {Key: "c", Values: []string{"1"}}}, false); err == nil {
		t.Error("a grid past MaxPoints was accepted")
	}
}

// synthShards writes n synthetic result rows as the given number of shard
// directories of a sweep (as `sweep --shard` would), for merge tests and
// benchmarks that must not spend minutes simulating.
func synthShards(tb testing.TB, dir string, n, shards int) []string {
	tb.Helper()
	a, _ := ParseAxis(fmt.Sprintf("pe_array.rows=1:%d:+1", n))
	spec := Spec{Config: "systolic-32x32", Workload: "resnet18", Axes: []Axis{a}, Batch: 1, Phase: "inference",
		Objectives: DefaultObjectives(false)}
	rng := rand.New(rand.NewSource(1))
	var dirs []string
	for s := 0; s < shards; s++ {
		d := filepath.Join(dir, fmt.Sprintf("shard-%d", s))
		os.MkdirAll(d, 0o755)
		man := fmt.Sprintf(`{"spec":%s,"points":%d,"shard":"%d/%d"}`, mustJSON(spec), n, s, shards)
		os.WriteFile(filepath.Join(d, "sweep.json"), []byte(man), 0o644)
		f, err := os.Create(filepath.Join(d, "results.jsonl"))
		if err != nil {
			tb.Fatal(err)
		}
		for i := 0; i < n; i++ {
			if !(Shard{s, shards}).Has(i) {
				continue
			}
			r := Row{Point: i, Params: map[string]string{"pe_array.rows": fmt.Sprint(i + 1)},
				Metrics: &Metrics{Cycles: 1e6 + rng.Int63n(1e6), EnergyPJ: ptr(1e9 * rng.Float64()), PEs: i}}
			if i%97 == 0 {
				r.Metrics, r.Error = nil, "synthetic failure"
			}
			f.Write(r.jsonLine())
		}
		f.Close()
		dirs = append(dirs, d)
	}
	return dirs
}

// Shards stay balanced in every axis even when the last axis's size is a
// multiple of the shard count (where i mod n would give each shard a single
// value of it).
func TestShardsBalanced(t *testing.T) {
	a, _ := ParseAxis("a=1:625:+1")
	b, _ := ParseAxis("b=1:4:+1")
	g, _ := NewGrid([]Axis{a, b}, false)
	for s := 0; s < 4; s++ {
		sh := Shard{s, 4}
		perB := map[string]int{}
		for i := 0; i < g.Len(); i++ {
			if sh.Has(i) {
				perB[g.At(i).Params[1].Value]++
			}
		}
		for _, v := range b.Values {
			if n := perB[v]; n < 625/4*95/100 || n > 625/4*105/100 {
				t.Errorf("shard %d has %d points with b=%s, want about %d", s, n, v, 625/4)
			}
		}
	}
}

// Merging synthetic shards gives every row once, sorted, with the
// brute-force front.
func TestMergeStreamsSyntheticShards(t *testing.T) {
	dir := t.TempDir()
	dirs := synthShards(t, dir, 2000, 4)
	_, sum, err := Merge(filepath.Join(dir, "all"), dirs)
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err := ReadRows(filepath.Join(dir, "all", "results.jsonl"))
	if err != nil || len(rows) != 2000 || sum.Rows != 2000 {
		t.Fatalf("%d rows (summary %d), %v", len(rows), sum.Rows, err)
	}
	for i, r := range rows {
		if r.Point != i {
			t.Fatalf("row %d holds point %d", i, r.Point)
		}
	}
	var vals []float64
	var ok []int
	for _, r := range rows {
		if r.Metrics != nil {
			vals = append(vals, float64(r.Metrics.Cycles), *r.Metrics.EnergyPJ)
			ok = append(ok, r.Point)
		}
	}
	var want []int
	for _, i := range bruteFront(vals, 2) {
		want = append(want, ok[i])
	}
	var got []int
	for _, r := range sum.Front {
		got = append(got, r.Point)
	}
	if !reflect.DeepEqual(got, want) || sum.Failed != 21 {
		t.Errorf("front %v, brute force %v; %d failed, want 21", got, want, sum.Failed)
	}
}

// peakHeap samples the live heap while f runs.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak.Load()
}

// The target: merge + Pareto front of 10,000 rows from 4 shards in
// under 2 s. peak-heap-MB is the live heap's high-water mark (sampled):
// compare -bench 'Merge/rows=10000' with 'rows=100000' to see it grow by
// the 24-byte row index, not by the rows.
func BenchmarkMergePareto(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			dirs := synthShards(b, dir, n, 4)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := Merge(filepath.Join(dir, fmt.Sprint("all", i)), dirs); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			// The heap is sampled on a run of its own: sampling stops the
			// world, which would inflate the timing.
			peak := peakHeap(func() {
				if _, _, err := Merge(filepath.Join(dir, "peak"), dirs); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
		})
	}
}

// Status counts each shard's rows; a shard cut short (with a torn last
// line) shows its remaining points.
func TestStatusCounts(t *testing.T) {
	dir := t.TempDir()
	synthShards(t, dir, 2000, 4)
	st, err := Status(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Points != 2000 || len(st.Shards) != 4 || st.Done+st.Failed != 2000 || st.Failed != 21 {
		t.Fatalf("%+v", st)
	}
	res := filepath.Join(dir, "shard-2", "results.jsonl")
	b, _ := os.ReadFile(res)
	cut, n := 0, 0
	for cut < len(b) && n < 100 {
		if b[cut] == '\n' {
			n++
		}
		cut++
	}
	os.WriteFile(res, b[:cut+10], 0o644) // 100 rows and a torn one
	st, err = Status(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := st.Shards[2]
	if want := (Shard{2, 4}).Count(2000); s.Shard != "2/4" || s.Points != want || s.Done+s.Failed != 100 || s.Remaining != want-100 {
		t.Errorf("shard 2: %+v", s)
	}
}

// Values lists the metrics in MetricNames order, which are the JSON tags.
func TestMetricValuesMatchJSON(t *testing.T) {
	var m Metrics
	rv := reflect.ValueOf(&m).Elem()
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Field(i)
		if f.Kind() == reflect.Pointer {
			f.Set(reflect.New(f.Type().Elem()))
			f = f.Elem()
		}
		if f.CanInt() {
			f.SetInt(int64(i + 1))
		} else {
			f.SetFloat(float64(i) + 0.5)
		}
	}
	b, _ := json.Marshal(m)
	var byJSON map[string]float64
	json.Unmarshal(b, &byJSON)
	if len(byJSON) != len(MetricNames) {
		t.Fatalf("%d JSON metrics, %d names", len(byJSON), len(MetricNames))
	}
	for i, v := range m.Values() {
		if byJSON[MetricNames[i]] != v {
			t.Errorf("%s: Values has %g, JSON %g", MetricNames[i], v, byJSON[MetricNames[i]])
		}
	}
}
