package kvsparse

import (
	"math"
	"math/rand"
	"slices"
	"testing"
)

// hisaIoUs is, at one step, HISA's IoU with the flat indexer for three
// ways of ranking blocks, each keeping the top blockTop blocks (the
// newest always) and then the top k tokens inside them: the pooled key
// HISA scores (Σ_j ReLU(q_j·mean k), the model), the mean of the block's
// token scores and their maximum. The last two need every token's score,
// which is what HISA avoids computing: they are oracles that locate the
// loss, not alternatives. blocks is how many blocks hold a flat pick,
// isolated the flat picks in blocks holding at most two.
type hisaIoUs struct {
	pooled, meanScore, maxScore float64
	blocks, missed, isolated    int
}

func hisaVariants(ix *Indexer, ctx, g, B, blockTop, k int) hisaIoUs {
	w := window{0, ctx}
	flat := ix.DSA(ctx-1, g, w, k, rand.New(rand.NewSource(1)))
	qs := ix.queries(ctx-1, g)
	nb := (ctx + B - 1) / B
	tok := make([]float64, ctx)
	for i := range tok {
		tok[i] = ix.score(qs, ix.key(i))
	}
	pooled, meanS, maxS := make([]float64, nb), make([]float64, nb), make([]float64, nb)
	mean := make([]float32, ix.Dim)
	for b := range nb {
		s, e := b*B, min((b+1)*B, ctx)
		clear(mean)
		for i := s; i < e; i++ {
			for c, x := range ix.key(i) {
				mean[c] += x
			}
			meanS[b] += tok[i] / float64(e-s)
			maxS[b] = math.Max(maxS[b], tok[i])
		}
		for c := range mean {
			mean[c] = FP8(mean[c] / float32(e-s))
		}
		pooled[b] = ix.score(qs, mean)
	}
	hits := make([]int, nb)
	for _, t := range flat.Tokens {
		hits[int(t)/B]++
	}
	var out hisaIoUs
	iou := func(bs []float64, count bool) float64 {
		bs = slices.Clone(bs)
		bs[nb-1] = math.Inf(1)
		keepB, _ := topK(bs, blockTop, rand.New(rand.NewSource(1)))
		var cand []int
		var sc []float64
		for _, b := range keepB {
			for i := b * B; i < min((b+1)*B, ctx); i++ {
				cand = append(cand, i)
				sc = append(sc, tok[i])
			}
		}
		keep, _ := topK(sc, k, rand.New(rand.NewSource(1)))
		sel := make([]int32, len(keep))
		for i, x := range keep {
			sel[i] = int32(cand[x])
		}
		slices.Sort(sel)
		if count {
			kept := map[int]bool{}
			for _, b := range keepB {
				kept[b] = true
			}
			for b, c := range hits {
				if c > 0 && !kept[b] {
					out.missed += c
					if c <= 2 {
						out.isolated += c
					}
				}
			}
		}
		return IoU(sel, flat.Tokens)
	}
	for _, c := range hits {
		if c > 0 {
			out.blocks++
		}
	}
	out.pooled, out.meanScore, out.maxScore = iou(pooled, true), iou(meanS, false), iou(maxS, false)
	return out
}

// TestHISAIoUAtDefaults locates why HISA's IoU with the flat indexer is
// below the paper's 0.99 at the defaults (32K context, k 2048, blocks of
// 128, 128 kept) on the run's sampled layers, heads and steps
// (llama-3.1-8b: layers 8 and 24, KV heads 2 and 6, 8 steps of 1024).
// What it checks (docs/kv-sparsity.md, Validation):
//   - the model's selection is Indexer.HISA's (the pooled-key ranking
//     here reproduces it token for token);
//   - its mean IoU is the documented 0.956 (not > 0.99: the issue's
//     threshold is unmet) and its worst above 0.9;
//   - ranking blocks by the mean of their token scores instead — the
//     same blocks and the same budget — gains about two points: the
//     pooled key's score Σ_j ReLU(q_j·k̄) is below
//     mean_t Σ_j ReLU(q_j·k_t) where a block's token scores straddle 0;
//   - ranking by each block's best token score (which keeps every flat
//     pick whenever they lie in at most 128 blocks) gains two more and
//     reaches ≥ 0.99: the rest is the block budget, the flat picks lying
//     in more than 128 blocks at some steps (where no ranking reaches 1).
func TestHISAIoUAtDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("32K-context indexer scans")
	}
	p := params(t, nil)
	const D, g, prompt, steps = 128, 4, 32768, 1024
	var sum hisaIoUs
	worst, n, over := 1.0, 0, 0
	for _, li := range []int{8, 24} {
		heads := []*Head{NewHead(DefaultSynth, p.Seed, li, 2, D, prompt+steps), NewHead(DefaultSynth, p.Seed, li, 6, D, prompt+steps)}
		ix := NewIndexer(heads, p.IndexDim, mix(p.Seed, int64(li), 5))
		for _, st := range sampleSteps(p.SampleSteps, steps) {
			ctx := prompt + st
			v := hisaVariants(ix, ctx, g, p.Block, p.BlockTop, p.K)
			h := ix.HISA(ctx-1, g, window{0, ctx}, p, rand.New(rand.NewSource(1)))
			flat := ix.DSA(ctx-1, g, window{0, ctx}, p.K, rand.New(rand.NewSource(1)))
			if got := IoU(h.Tokens, flat.Tokens); math.Abs(got-v.pooled) > 1e-12 {
				t.Fatalf("layer %d step %d: Indexer.HISA IoU %.4f, the pooled-key ranking here %.4f", li, st, got, v.pooled)
			}
			t.Logf("layer %2d step %4d: IoU pooled key %.3f, mean score %.3f, max score %.3f; flat picks in %d blocks; %d picks outside the kept blocks, %d of them isolated (≤ 2 in a block)",
				li, st, v.pooled, v.meanScore, v.maxScore, v.blocks, v.missed, v.isolated)
			sum.pooled += v.pooled
			sum.meanScore += v.meanScore
			sum.maxScore += v.maxScore
			sum.missed += v.missed
			sum.isolated += v.isolated
			worst = min(worst, v.pooled)
			if v.blocks > p.BlockTop {
				over++
			}
			n++
		}
	}
	pooled, meanS, maxS := sum.pooled/float64(n), sum.meanScore/float64(n), sum.maxScore/float64(n)
	t.Logf("mean IoU: pooled key %.3f (worst %.3f), mean score %.3f, max score %.3f; %d of %d steps with flat picks in more than %d blocks; %d of %d missed picks isolated",
		pooled, worst, meanS, maxS, over, n, p.BlockTop, sum.isolated, sum.missed)
	if pooled < 0.94 || pooled > 0.97 || worst < 0.9 {
		t.Errorf("pooled-key IoU mean %.3f worst %.3f: docs/kv-sparsity.md says 0.956 and 0.926", pooled, worst)
	}
	if meanS < pooled+0.01 || meanS > maxS-0.01 {
		t.Errorf("mean-score ranking IoU %.3f between pooled %.3f and max %.3f: the loss is not split as documented", meanS, pooled, maxS)
	}
	if maxS < 0.99 || over == 0 {
		t.Errorf("max-score ranking IoU %.3f, %d steps over the block budget", maxS, over)
	}
}

// TestIndexKeysIgnoreSharedOffset: a vector added to every key of a head
// (what the synthetic keys' fixed outlier offset is) leaves the index
// keys unchanged up to fp8 rounding, because they are built from the
// keys minus their calibrated mean (NewIndexer).
func TestIndexKeysIgnoreSharedOffset(t *testing.T) {
	const D, L = 64, 2048
	a := NewHead(DefaultSynth, 3, 1, 0, D, L)
	b := NewHead(DefaultSynth, 3, 1, 0, D, L)
	off := make([]float32, D)
	for c := range off {
		off[c] = float32(5 * math.Sin(float64(c)))
	}
	for t := 0; t < L; t++ {
		for c := range off {
			b.K[t*D+c] += off[c]
		}
	}
	ia, ib := NewIndexer([]*Head{a}, 32, 9), NewIndexer([]*Head{b}, 32, 9)
	var worst float64
	for i, x := range ia.keys {
		// e4m3 keeps 4 significant bits: a relative step of 1/16.
		tol := math.Abs(float64(x))/8 + 0.05
		if d := math.Abs(float64(x - ib.keys[i])); d > tol {
			t.Fatalf("index key element %d: %.3f without the offset, %.3f with it", i, x, ib.keys[i])
		} else {
			worst = max(worst, d)
		}
	}
	t.Logf("largest difference %.4f", worst)
}
