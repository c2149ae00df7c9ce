package kvsparse

import (
	"fmt"
	"math/rand"
	"reflect"
	"runtime"
	"testing"

	"github.com/sparsesim/sparsesim/workloads/llm"
)

// TestPlanIsTheSameOnOneCore: the kernels' parallel parts (heads drawn
// at once, pruning, scoring, measurements) give every method's samples
// and labels exactly as run one at a time on one core.
func TestPlanIsTheSameOnOneCore(t *testing.T) {
	m, _ := llm.Lookup("llama-3.2-1b")
	for _, method := range []string{"evict", "quest", "double_sparsity", "dsa", "hisa", "mustafar"} {
		cfg := setup(t, func(p *Params) { p.Method, p.Budget, p.K, p.BlockTop, p.SampleSteps = method, 512, 512, 8, 3 })
		plan := func(procs int) *Plan {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			pl, err := NewPlan(cfg, m, 5000, 9)
			if err != nil {
				t.Fatal(err)
			}
			return pl
		}
		one, many := plan(1), plan(4)
		if !reflect.DeepEqual(one.Samples, many.Samples) || !reflect.DeepEqual(one.Labels, many.Labels) {
			t.Errorf("%s: the samples differ on one core and on four", method)
		}
	}
}

// TestQuestPageBoundsAreRemade: quest's selection from a head's whole
// pages' bounds made once (newPageBounds) is the one from bounds remade
// at the step, for windows ending inside a page and on a page's end.
func TestQuestPageBoundsAreRemade(t *testing.T) {
	const D, L, g = 64, 3000, 2
	h := NewHead(DefaultSynth, 1, 0, 0, D, L)
	p := params(t, func(p *Params) { p.Method, p.Budget, p.PageSize = MethodQuest, 256, 16 })
	pb := newPageBounds(h, p.PageSize)
	for _, ctx := range []int{2999, 2992, 2017, 1600} {
		w := window{0, ctx}
		qs := groupQueries(h, g, ctx-1)
		a := quest(h, qs, w, p, pb, rand.New(rand.NewSource(1)))
		b := quest(h, qs, w, p, nil, rand.New(rand.NewSource(1)))
		if fmt.Sprint(a) != fmt.Sprint(b) || len(a.Tokens) == 0 {
			t.Errorf("context %d: kept bounds select %v, remade %v", ctx, a.Starts, b.Starts)
		}
	}
}

// TestStartPlanHandsOverSelections: StartPlan's plan has every sample's
// selection when it returns (the last layer's measurements still
// running), and once waited for it is NewPlan's plan.
func TestStartPlanHandsOverSelections(t *testing.T) {
	m, _ := llm.Lookup("llama-3.2-1b")
	for _, method := range []string{"quest", "mustafar"} {
		cfg := setup(t, func(p *Params) { p.Method, p.Budget, p.SampleSteps = method, 512, 3 })
		want, err := NewPlan(cfg, m, 5000, 9)
		if err != nil {
			t.Fatal(err)
		}
		pl, err := StartPlan(cfg, m, 5000, 9)
		if err != nil {
			t.Fatal(err)
		}
		for i := range pl.Samples {
			got, w := &pl.Samples[i], want.Samples[i] // the selection only: Quality is still being written
			if !reflect.DeepEqual(got.Sel, w.Sel) || got.Layer != w.Layer || got.Head != w.Head || got.Context != w.Context {
				t.Fatalf("%s sample %d: selection not in the plan when StartPlan returned", method, i)
			}
		}
		if secs := pl.Wait(); secs <= 0 || !reflect.DeepEqual(pl.Samples, want.Samples) || pl.Quality() != want.Quality() {
			t.Errorf("%s: the started plan, waited for (%.3f s), differs from NewPlan's", method, secs)
		}
	}
}

// TestHISAReusesTheFlatScores: HISA's selection from the flat indexer's
// scores at the same position is the one it makes scoring its candidates
// itself.
func TestHISAReusesTheFlatScores(t *testing.T) {
	const D, L, g = 64, 3000, 2
	heads := []*Head{NewHead(DefaultSynth, 1, 3, 0, D, L), NewHead(DefaultSynth, 1, 3, 1, D, L)}
	ix := NewIndexer(heads, 32, 9)
	p := params(t, func(p *Params) { p.K, p.Block, p.BlockTop = 256, 64, 8 })
	for _, ctx := range []int{3000, 2950} {
		w := window{0, ctx}
		qs := ix.queries(ctx-1, g)
		a := ix.hisa(qs, ix.scores(qs, w), w, p, rand.New(rand.NewSource(1)))
		b := ix.HISA(ctx-1, g, w, p, rand.New(rand.NewSource(1)))
		if !reflect.DeepEqual(a, b) || len(a.Tokens) == 0 {
			t.Errorf("context %d: with the flat scores %v, scoring itself %v", ctx, a.Starts, b.Starts)
		}
	}
}
