package moe

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// shapes are the MoE shapes of two zoo models: Mixtral-8x7B (8 experts,
// top-2) and OLMoE-1B-7B (64 experts, top-8).
var shapes = []struct {
	name    string
	e, k, l int
}{{"mixtral-8x7b", 8, 2, 32}, {"olmoe-1b-7b", 64, 8, 16}}

func mustRouter(t *testing.T, spec Spec, e, k, layers int, seed int64) *Router {
	t.Helper()
	r, err := NewRouter(spec, e, k, layers, seed)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestUniformDistinctExperts (validation): under independent uniform
// top-k routing the mean number of distinct experts B tokens touch is
// E·(1 − (1 − k/E)^B), a closed form the test evaluates itself; the
// simulated mean over seeds, layers and steps is within 2% for B = 1, 4,
// 16, 64 on the Mixtral and OLMoE shapes.
func TestUniformDistinctExperts(t *testing.T) {
	for _, sh := range shapes {
		for _, B := range []int{1, 4, 16, 64} {
			var sum, n float64
			for seed := int64(1); seed <= 5; seed++ {
				r := mustRouter(t, Spec{Routing: Uniform}, sh.e, sh.k, sh.l, seed)
				for step := 0; step < 400/sh.l+1; step++ {
					for l := 0; l < sh.l; l++ {
						d := r.Route(l, Step{Batch: B, New: 1, Pos: 100 + step, SeqLen: 1000, Index: step})
						distinct := 0
						for _, c := range d.Counts {
							if c > 0 {
								distinct++
							}
						}
						sum += float64(distinct)
						n++
					}
				}
			}
			q := 1 - float64(sh.k)/float64(sh.e)
			want := float64(sh.e) * (1 - math.Pow(q, float64(B)))
			got := sum / n
			t.Logf("%s B=%d: %.3f distinct experts over %.0f layer-steps, closed form %.3f (%+.2f%%)", sh.name, B, got, n, want, 100*(got/want-1))
			if math.Abs(got/want-1) > 0.02 {
				t.Errorf("%s B=%d: %.3f distinct experts, closed form %.3f: more than 2%% apart", sh.name, B, got, want)
			}
		}
	}
}

// TestZipfFirstChoice (validation): with one expert per token, Zipf
// routing chooses the expert of popularity rank r with probability
// r^-s / Σ r^-s (closed form in the test), within 1.5 points.
func TestZipfFirstChoice(t *testing.T) {
	const E, s = 8, 1.2
	r := mustRouter(t, Spec{Routing: Zipf, Imbalance: s}, E, 1, 1, 9)
	counts := make([]float64, E)
	d := r.Route(0, Step{Batch: 20000, New: 1, SeqLen: 1})
	for e, c := range d.Counts {
		counts[e] = float64(c)
	}
	slices.Sort(counts)
	slices.Reverse(counts)
	var h float64
	for i := 1; i <= E; i++ {
		h += math.Pow(float64(i), -s)
	}
	for i, c := range counts {
		want := math.Pow(float64(i+1), -s) / h
		if got := c / 20000; math.Abs(got-want) > 0.015 {
			t.Errorf("rank %d: chosen %.4f of the time, Zipf(%g) gives %.4f", i+1, got, s, want)
		}
	}
}

// TestDirichletVariance (validation): a symmetric Dirichlet(α) popularity
// has mean 1/E and variance (1/E)(1 − 1/E)/(Eα + 1) per expert; the
// routers' per-layer popularities (pooled over seeds) match within 10%.
func TestDirichletVariance(t *testing.T) {
	const E = 16
	for _, a := range []float64{0.3, 1, 5} {
		var sum, sq, n float64
		for seed := int64(1); seed <= 40; seed++ {
			r := mustRouter(t, Spec{Routing: Dirichlet, Imbalance: a}, E, 2, 32, seed)
			for _, lp := range r.logp {
				for _, v := range lp {
					p := math.Exp(v)
					sum += p
					sq += p * p
					n++
				}
			}
		}
		mean := sum / n
		v := sq/n - mean*mean
		want := (1.0 / E) * (1 - 1.0/E) / (E*a + 1)
		if math.Abs(mean-1.0/E) > 1e-9 || math.Abs(v/want-1) > 0.1 {
			t.Errorf("α=%g: popularity mean %.5f variance %.6f, Dirichlet gives %.5f and %.6f", a, mean, v, 1.0/E, want)
		}
	}
}

// TestLocalityChunkUnion (validation): with locality ρ each token after
// the first of a chunk draws fresh experts with probability 1 − ρ, so the
// mean union over c consecutive tokens is E·(1 − q·(ρ + (1 − ρ)q)^(c−1)),
// q = 1 − k/E (closed form in the test); within 2%.
func TestLocalityChunkUnion(t *testing.T) {
	const E, k, c = 64, 8, 8
	for _, rho := range []float64{0, 0.5, 0.9} {
		r := mustRouter(t, Spec{Routing: Uniform, Locality: rho, Chunk: c}, E, k, 4, 5)
		st := NewStats(E, k, c)
		for step := 0; step < 64; step++ {
			for l := 0; l < 4; l++ {
				st.Add(r.Route(l, Step{Batch: 32, New: 1, Pos: step, SeqLen: 64, Index: step}))
			}
		}
		q := 1 - float64(k)/E
		want := E * (1 - q*math.Pow(rho+(1-rho)*q, c-1))
		got := st.ChunkTouchedMean()
		t.Logf("ρ=%g: chunk-of-%d union %.2f experts over %d chunks, closed form %.2f", rho, c, got, st.Chunks, want)
		if math.Abs(got/want-1) > 0.02 {
			t.Errorf("ρ=%g: chunk union %.3f, closed form %.3f", rho, got, want)
		}
	}
}

// TestBalancedLoads: balanced routing gives every token k distinct experts
// and the experts' loads differ by at most one.
func TestBalancedLoads(t *testing.T) {
	for _, c := range []struct{ tokens, experts, k int }{{1, 8, 2}, {8, 8, 2}, {1000, 64, 8}, {3, 64, 8}} {
		r := mustRouter(t, Spec{Routing: Balanced}, c.experts, c.k, 4, 7)
		d := r.Route(3, Step{Batch: c.tokens, New: 1, SeqLen: 1, Index: 2})
		if lo, hi := slices.Min(d.Counts), slices.Max(d.Counts); hi-lo > 1 {
			t.Errorf("%+v: loads %v", c, d.Counts)
		}
		for tk := 0; tk < c.tokens; tk++ {
			mine := slices.Clone(d.Choice[tk*c.k : (tk+1)*c.k])
			slices.Sort(mine)
			if len(slices.Compact(mine)) != c.k {
				t.Fatalf("%+v: token %d experts %v", c, tk, d.Choice[tk*c.k:(tk+1)*c.k])
			}
		}
		if len(d.Rounds) < c.tokens {
			t.Errorf("%+v: %d top-k rounds", c, len(d.Rounds))
		}
	}
}

// TestTopKIsTheLargestLogits: every token's experts are its k largest
// router logits, as a full sort finds them, in every routing.
func TestTopKIsTheLargestLogits(t *testing.T) {
	tr, err := ParseTrace("t", strings.NewReader("moe-trace v1 experts=8 k=2\n* 3,1\n* 0,7\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range []Spec{{Routing: Uniform}, {Routing: Balanced}, {Routing: Zipf, Imbalance: 1}, {Routing: Dirichlet, Imbalance: 0.5}, {Routing: FromTrace, Trace: tr}} {
		r := mustRouter(t, spec, 8, 2, 2, 3)
		for pos := 0; pos < 50; pos++ {
			seq := pos % 3
			switch spec.Routing {
			case Balanced:
				continue // its logits need the step's permutation; TestBalancedLoads
			case FromTrace:
				r.traceLogits(1, seq, pos, 50)
				want := tr.Token(1, seq*50+pos)
				if r.vals[want[0]] <= r.vals[want[1]] {
					t.Fatalf("trace: first listed expert %d has logit %g below the second's %g", want[0], r.vals[want[0]], r.vals[want[1]])
				}
			default:
				r.sampledLogits(1, seq, pos)
			}
			sorted := slices.Clone(r.vals)
			slices.Sort(sorted)
			d := r.Route(1, Step{Batch: 1, New: 1, Pos: pos, SeqLen: 50})
			_ = d
			// Route recomputes the same logits for sequence 0.
			if seq == 0 {
				for _, e := range d.Choice {
					if r.vals[e] < sorted[len(sorted)-2] {
						t.Fatalf("%s pos %d: expert %d (logit %g) chosen, not among the two largest %v", spec.Routing, pos, e, r.vals[e], sorted[len(sorted)-2:])
					}
				}
			}
		}
	}
}

// TestRoutingIndependentOfBatch: a sequence's routing at a position does
// not depend on how many other sequences share its step, and a run is
// reproducible from its seed.
func TestRoutingIndependentOfBatch(t *testing.T) {
	for _, routing := range []string{Uniform, Zipf, Dirichlet} {
		a := mustRouter(t, Spec{Routing: routing, Imbalance: 0.8}, 64, 8, 2, 11)
		b := mustRouter(t, Spec{Routing: routing, Imbalance: 0.8}, 64, 8, 2, 11)
		one := a.Route(1, Step{Batch: 1, New: 1, Pos: 7, SeqLen: 10})
		many := b.Route(1, Step{Batch: 16, New: 1, Pos: 7, SeqLen: 10})
		if !slices.Equal(one.Choice, many.Choice[:8]) {
			t.Errorf("%s: sequence 0 routes %v alone, %v in a batch of 16", routing, one.Choice, many.Choice[:8])
		}
		again := a.Route(1, Step{Batch: 16, New: 1, Pos: 7, SeqLen: 10})
		if !slices.Equal(again.Choice, many.Choice) || !slices.Equal(again.Rounds, many.Rounds) {
			t.Errorf("%s: the same seed routed differently", routing)
		}
	}
}

// TestCapacity: with a capacity factor each expert keeps at most
// ⌈factor·T·k/E⌉ tokens and the rest are counted as dropped; padded
// execution runs every expert over that many slots.
func TestCapacity(t *testing.T) {
	if c := Capacity(1.25, 64, 8, 2); c != 20 {
		t.Errorf("capacity 1.25·64·2/8 = %d, want 20", c)
	}
	if c := Capacity(1, 1, 64, 8); c != 1 {
		t.Errorf("capacity 1·1·8/64 = %d, want 1", c)
	}
	// Every token's first choice is expert 0: with 8 tokens, k = 2 of 4
	// experts and factor 1, expert 0 keeps 4 of its 8 tokens.
	tr, err := ParseTrace("t", strings.NewReader("moe-trace v1 experts=4 k=2\n* 0,1\n* 0,2\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, exec := range Executions {
		r := mustRouter(t, Spec{Routing: FromTrace, Trace: tr, CapacityFactor: 1, Execution: exec}, 4, 2, 1, 1)
		d := r.Route(0, Step{Batch: 8, New: 1, SeqLen: 1})
		if !slices.Equal(d.Counts, []int{8, 4, 4, 0}) || !slices.Equal(d.Kept, []int{4, 4, 4, 0}) || d.Dropped != 4 || d.Capacity != 4 {
			t.Errorf("%s: counts %v kept %v dropped %d capacity %d", exec, d.Counts, d.Kept, d.Dropped, d.Capacity)
		}
		want := []int{4, 4, 4, 0}
		if exec == Padded {
			want = []int{4, 4, 4, 4}
		}
		if !slices.Equal(d.Run, want) {
			t.Errorf("%s: runs %v, want %v", exec, d.Run, want)
		}
	}
	// Padded without a factor pads to the largest load.
	r := mustRouter(t, Spec{Routing: FromTrace, Trace: tr, Execution: Padded}, 4, 2, 1, 1)
	if d := r.Route(0, Step{Batch: 8, New: 1, SeqLen: 1}); !slices.Equal(d.Run, []int{8, 8, 8, 8}) || d.Dropped != 0 {
		t.Errorf("padded, no factor: runs %v dropped %d", d.Run, d.Dropped)
	}
}

// TestTraceRouting: sequence s's position p is the layer's trace token
// s·SeqLen + p, wrapping, and * lines serve layers without their own.
func TestTraceRouting(t *testing.T) {
	tr, err := ParseTrace("t", strings.NewReader("# comment\nmoe-trace v1 experts=4 k=1\n0 1\n0 2\n0 3\n* 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := mustRouter(t, Spec{Routing: FromTrace, Trace: tr}, 4, 1, 2, 1)
	d := r.Route(0, Step{Batch: 2, New: 2, Pos: 0, SeqLen: 2})
	if !slices.Equal(d.Choice, []int{1, 2, 3, 1}) {
		t.Errorf("layer 0 routes %v, want [1 2 3 1]", d.Choice)
	}
	if d := r.Route(1, Step{Batch: 2, New: 1, Pos: 1, SeqLen: 2}); !slices.Equal(d.Choice, []int{0, 0}) {
		t.Errorf("layer 1 routes %v, want the * lines' [0 0]", d.Choice)
	}
}

// TestTraceErrors: every malformed trace is refused with the file, the
// line and the field.
func TestTraceErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"", "t:1: field header: empty trace"},
		{"# only\n", "t:1: field header: empty trace"},
		{"moe-trace v2 experts=8 k=2\n0 1,2\n", "t:1: field version"},
		{"trace v1 experts=8 k=2\n", "t:1: field header"},
		{"moe-trace v1 experts=x k=2\n", "t:1: field experts"},
		{"moe-trace v1 experts=8 k=9\n", "t:1: field k"},
		{"moe-trace v1 experts=8 k=2\n", "t:1: no token lines"},
		{"moe-trace v1 experts=8 k=2\n0 1,2\n0 1\n", "t:3: field experts: 1 experts listed, the header says k=2"},
		{"moe-trace v1 experts=8 k=2\n\n-1 1,2\n", "t:3: field layer"},
		{"moe-trace v1 experts=8 k=2\n0 1,8\n", "t:2: field experts: \"8\" is not an expert from 0 to 7"},
		{"moe-trace v1 experts=8 k=2\n0 3,3\n", "t:2: field experts: expert 3 listed twice"},
		{"moe-trace v1 experts=8 k=2\n0 1,2 9\n", "t:2: 3 fields, want 2"},
		{"moe-trace v1 experts=8 k=2\n0 1,\x002\n", "t:2: binary byte 0x00"},
	} {
		_, err := ParseTrace("t", strings.NewReader(c.text))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q...", c.text, err, c.want)
		}
	}
	tr, _ := ParseTrace("t", strings.NewReader("moe-trace v1 experts=8 k=2\n0 1,2\n3 1,2\n"))
	for _, c := range []struct {
		e, k, layers int
		want         string
	}{{64, 8, 4, "t:1: field experts/k"}, {8, 2, 2, "t: field layer: the trace names layer 3"}, {8, 2, 4, "t: field layer: no tokens for layer 1"}} {
		if err := tr.Check(c.e, c.k, c.layers); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q...", c, err, c.want)
		}
	}
}

// TestStats: the summary of two hand-made decisions.
func TestStats(t *testing.T) {
	st := NewStats(4, 1, 2)
	st.Add(&Decision{Layer: 0, Experts: 4, K: 1, Step: Step{Batch: 2, New: 1}, Choice: []int{0, 0}, Counts: []int{2, 0, 0, 0}})
	st.Add(&Decision{Layer: 0, Experts: 4, K: 1, Step: Step{Batch: 2, New: 1}, Choice: []int{1, 0}, Counts: []int{1, 1, 0, 0}, Dropped: 1})
	if st.TouchedMean() != 1.5 || st.MaxOverMean() != (4.0+2.0)/2 || st.Dropped != 1 || st.Assignments != 4 {
		t.Errorf("touched %g, max/mean %g, dropped %d of %d", st.TouchedMean(), st.MaxOverMean(), st.Dropped, st.Assignments)
	}
	// Sequence 0 chose 0 then 1 (2 experts), sequence 1 chose 0 twice.
	if st.Chunks != 2 || st.ChunkTouchedMean() != 1.5 {
		t.Errorf("%d chunks, union %g", st.Chunks, st.ChunkTouchedMean())
	}
	if got := st.MeanLoadByRank(); !slices.Equal(got, []float64{1.5, 0.5, 0, 0}) {
		t.Errorf("load by rank %v", got)
	}
}
