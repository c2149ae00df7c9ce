package systolic

import (
	"sync"
	"testing"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

// satBatch is the batch docs/sat.md uses: 32 images for CNNs, one
// sequence at the model's default length for language models, 8 for ViT.
func satBatch(name string) int {
	switch name {
	case "bert-base", "bert-large", "gpt2-small", "gpt2-medium":
		return 1
	case "vit-b16":
		return 8
	}
	return 32
}

type satRun struct {
	speedup float64
	phases  map[string]int64 // dense baseline cycles by phase
}

// runSAT may run on a test goroutine other than the test's own, so it
// reports failures with Error and returns, never Fatal.
func runSAT(t testing.TB, model, pattern string, training bool, sets ...string) satRun {
	cfg, err := configs.Load("sat-vcu1525", append([]string{"sparsity.nm=" + pattern}, sets...))
	if err != nil {
		t.Error(err)
		return satRun{}
	}
	m, _ := workloads.Lookup(model)
	w, err := m.Build(workloads.Params{Batch: satBatch(model)})
	if err != nil {
		t.Error(err)
		return satRun{}
	}
	if training {
		w = workloads.Training(w)
	}
	res, err := Simulate(cfg, w)
	if err != nil {
		t.Error(err)
		return satRun{}
	}
	base, err := Simulate(DenseBaseline(cfg, w))
	if err != nil {
		t.Error(err)
		return satRun{}
	}
	r := satRun{phases: map[string]int64{}}
	var s, d int64
	for i := range res.Layers {
		s += res.Layers[i].Cycles()
		d += base.Layers[i].Cycles()
		r.phases[base.Layers[i].Layer.Phase] += base.Layers[i].Cycles()
	}
	r.speedup = float64(d) / float64(s)
	return r
}

// SAT (shared/reference/README.md): 1.75× average training speedup at 2:8
// over dense. With a dense weight gradient the ideal bound is
// 3/(2·N/M + 1); per model, Amdahl's law over the dense run's own phase
// times bounds it too: (F+B+W+U) / ((F+B)·N/M + W + U).
func TestSATTrainingSpeedupValidation(t *testing.T) {
	models := workloads.Names()
	type key struct{ model, pattern string }
	results := map[key]satRun{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for _, m := range models {
		for _, p := range []string{"2:8", "2:4", "1:8"} {
			if p != "2:8" && (m == "gpt2-medium" || m == "bert-large" || m == "vgg16") {
				continue // the large ones only at the headline pattern, for time
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				r := runSAT(t, m, p, true)
				mu.Lock()
				results[key{m, p}] = r
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	var sum float64
	for _, m := range models {
		for _, p := range []string{"2:8", "2:4", "1:8"} {
			r, ok := results[key{m, p}]
			if !ok {
				continue
			}
			pat, _ := nm.Parse(p)
			d := pat.Density()
			ideal := 3 / (2*d + 1)
			f, b, w, u := float64(r.phases["fwd"]), float64(r.phases["bwd_data"]), float64(r.phases["bwd_weight"]), float64(r.phases["update"])
			amdahl := (f + b + w + u) / ((f+b)*d + w + u)
			t.Logf("%-12s %s training speedup %.3f (ideal %.2f, Amdahl %.3f)", m, p, r.speedup, ideal, amdahl)
			// The ideal 3/(2d+1) assumes every phase is compute-bound; where the
			// dense run waits for DRAM, compressed weights also cut its traffic
			// and the gain can pass it (docs/sat.md). Amdahl's bound on the
			// phases' measured dense cycles still holds.
			if r.speedup > amdahl+1e-9 {
				t.Errorf("%s %s: speedup %.3f exceeds its Amdahl bound %.3f", m, p, r.speedup, amdahl)
			}
			if p == "2:8" {
				sum += r.speedup
			}
		}
	}
	avg := sum / float64(len(models))
	t.Logf("average 2:8 training speedup over %d models: %.3f (SAT: 1.75)", len(models), avg)
	if avg < 1.75*0.85 || avg > 1.75*1.15 {
		t.Errorf("average 2:8 speedup %.3f outside 1.75 ± 15%%", avg)
	}
}

// Forward-only (inference) compute speedup can never beat M/N. (With a
// DRAM model it can: compressed weights may fit a buffer the dense ones
// overflow, and then they are fetched once instead of once per fold.)
func TestInferenceSpeedupBound(t *testing.T) {
	for _, m := range []string{"resnet18", "alexnet", "bert-base"} {
		for _, p := range []string{"2:4", "2:8", "1:8"} {
			pat, _ := nm.Parse(p)
			r := runSAT(t, m, p, false, "dram.model=ideal")
			if r.speedup > 1/pat.Density()+1e-9 || r.speedup < 1 {
				t.Errorf("%s %s inference speedup %.3f outside [1, %g]", m, p, r.speedup, 1/pat.Density())
			}
		}
	}
}

func trainSAT(t *testing.T, sets ...string) *arch.Result {
	cfg, err := configs.Load("sat-vcu1525", sets)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := workloads.Lookup("resnet18")
	w, _ := m.Build(workloads.Params{Batch: 8})
	r, err := Simulate(cfg, workloads.Training(w))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func sumBy(r *arch.Result, phase string, f func(arch.LayerStats) int64) int64 {
	var s int64
	for _, l := range r.Layers {
		if phase == "" || l.Layer.Phase == phase {
			s += f(l)
		}
	}
	return s
}

// Each SAT switch changes what docs/sat.md says it changes.
func TestSATSwitchEffects(t *testing.T) {
	on := trainSAT(t)
	mask := func(l arch.LayerStats) int64 { return l.MaskGenCycles }
	reads := func(l arch.LayerStats) int64 { return l.DRAMReadBytes }
	meta := func(l arch.LayerStats) int64 { return l.MetadataBytes }
	cycles := func(l arch.LayerStats) int64 { return l.Cycles() }

	// Pre-generation: masks made once, in the update; GEMMs fetch
	// compressed weights with metadata. Off: every sparse GEMM waits for
	// its masks and fetches dense weights.
	// (Dataflows fixed, so traffic differences come from the switch alone.)
	fixedOn := trainSAT(t, "sat.offline_scheduling=false")
	off := trainSAT(t, "sat.pregenerate=false", "sat.offline_scheduling=false")
	if sumBy(on, "fwd", mask) != 0 || sumBy(on, "update", mask) == 0 || sumBy(on, "fwd", meta) == 0 {
		t.Error("pregenerate on: masks should be made in the update only, and GEMMs fetch metadata")
	}
	if sumBy(off, "fwd", mask) == 0 || sumBy(off, "bwd_data", mask) == 0 || sumBy(off, "update", mask) != 0 || sumBy(off, "fwd", meta) != 0 {
		t.Error("pregenerate off: each sparse GEMM should make its masks and fetch no metadata")
	}
	if sumBy(off, "fwd", reads) <= sumBy(fixedOn, "fwd", reads) {
		t.Error("pregenerate off should fetch more forward weight bytes")
	}

	// Interleave mapping: dW reuses dY tiles dX fetched.
	noInter := trainSAT(t, "sat.interleave_mapping=false", "sat.offline_scheduling=false")
	if sumBy(fixedOn, "bwd_weight", reads) >= sumBy(noInter, "bwd_weight", reads) {
		t.Error("interleave mapping should cut weight-gradient DRAM reads")
	}

	// Offline scheduling picks a dataflow per layer and phase; never worse
	// than the fixed one by its own estimate, and it does pick others.
	fixed := fixedOn
	differs := false
	for i, l := range on.Layers {
		differs = differs || l.Dataflow != fixed.Layers[i].Dataflow
	}
	if !differs {
		t.Error("offline scheduling chose the configured dataflow everywhere")
	}
	if sumBy(on, "", cycles) > sumBy(fixed, "", cycles) {
		t.Errorf("offline scheduling slower: %d vs %d cycles", sumBy(on, "", cycles), sumBy(fixed, "", cycles))
	}
}

// The mask unit: ceil(groups/lanes) cycles of throughput plus the RTL's
// two-stage latency (rank, then select and pack).
func TestMaskGenCycles(t *testing.T) {
	for _, tc := range []struct {
		groups   int64
		m, lanes int
		want     int64
	}{{100, 8, 16, 7 + 2}, {16, 4, 16, 1 + 2}, {0, 8, 16, 0}, {17, 16, 1, 17 + 2}} {
		if got := arch.MaskGenCycles(tc.groups, tc.m, tc.lanes); got != tc.want {
			t.Errorf("%v: %d cycles, want %d", tc, got, tc.want)
		}
	}
}

func BenchmarkResNet50TrainingSAT28(b *testing.B) {
	cfg, err := configs.Load("sat-vcu1525", nil)
	if err != nil {
		b.Fatal(err)
	}
	m, _ := workloads.Lookup("resnet50")
	w, _ := m.Build(workloads.Params{Batch: 32})
	w = workloads.Training(w)
	for i := 0; i < b.N; i++ {
		if _, err := Simulate(cfg, w); err != nil {
			b.Fatal(err)
		}
	}
}

// TestInferenceNMSpeedupBound: weights kept N of every M can shorten an
// inference layer at most M/N times — activations are read in full and
// every fold still fills and drains — so no ResNet-18 layer at 2:4 runs
// more than 2× faster than the same layer dense (tutorial b says so; a
// dense baseline mapped worse than the sparse run once showed 4.02×).
func TestInferenceNMSpeedupBound(t *testing.T) {
	if testing.Short() {
		t.Skip("two ResNet-18 runs")
	}
	dense, err := configs.Load(configs.DefaultName, nil)
	if err != nil {
		t.Fatal(err)
	}
	sparse, err := configs.Load(configs.DefaultName, []string{"sparsity.nm=2:4"})
	if err != nil {
		t.Fatal(err)
	}
	w := resnet18(t)
	d, err := Simulate(dense, w)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Simulate(sparse, w)
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.Layers {
		if sp := float64(d.Layers[i].Elapsed) / float64(s.Layers[i].Elapsed); sp > 2.0001 {
			t.Errorf("%s: 2:4 speedup %.2f× over dense, past M/N = 2", d.Layers[i].Layer.Name, sp)
		}
	}
}
