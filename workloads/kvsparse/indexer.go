package kvsparse

import (
	"math"
	"math/rand"
	"slices"
)

// Indexer is the synthetic lightweight indexer of one layer (DeepSeek
// Sparse Attention): one fp8 index key of index_dim channels per token,
// the sum over the layer's (sampled) KV heads of a signed channel subset
// of each head's key, and one index query per query head, the same
// projection of that head's query. q^I·k^I then approximates q·k for the
// query's own head, plus cross-head noise: an indexer trained to predict
// attention, modelled without training. It has one index head per
// sampled query head, not kv_sparsity.index_heads (which sizes the
// hardware cost); docs/kv-sparsity.md says so.
//
// The index keys are built from each key minus its head's per-channel
// mean over the first IndexCalibration tokens (an offline calibration, as
// Double Sparsity's): the indexer is its own projection of the hidden
// state, trained to match the attention distribution, and a component
// every token's key shares (the synthetic keys' fixed outlier offset)
// shifts all of a query's scores alike, which softmax ignores — so a
// trained indexer has no signal to reproduce it — while under the
// indexer's ReLU it silences or saturates whole index heads. Kept, it
// made the pooled block keys of HISA score 0 for most blocks (mean IoU
// with the flat indexer 0.873; centred 0.956, docs/kv-sparsity.md).
type Indexer struct {
	Dim   int
	heads []*Head
	proj  [][]int     // per head: source channel of each index channel
	sign  [][]float32 // per head
	scale float32
	keys  []float32 // L×Dim, fp8-rounded
	norm  float64   // the scores' divisor: √head_dim
	// dq, dw and dHeads are a dumped indexer's queries (L×dHeads×Dim,
	// fp8-rounded), head weights (L×dHeads, or nil) and index heads
	// (LoadIndexer).
	dq, dw []float32
	dHeads int
}

// NewIndexer builds the index keys of heads (one layer's sampled heads).
func NewIndexer(heads []*Head, dim int, seed int64) *Indexer {
	D, L := heads[0].D, heads[0].L
	dim = min(dim, D)
	ix := &Indexer{Dim: dim, heads: heads, scale: float32(math.Sqrt(float64(D) / float64(dim))), keys: make([]float32, L*dim),
		norm: math.Sqrt(float64(D))}
	rng := rand.New(rand.NewSource(seed))
	for range heads {
		ix.proj = append(ix.proj, rng.Perm(D)[:dim])
		s := make([]float32, dim)
		for i := range s {
			s[i] = float32(2*rng.Intn(2) - 1)
		}
		ix.sign = append(ix.sign, s)
	}
	means := make([][]float32, len(heads))
	for hi, h := range heads {
		means[hi] = channelMeans(h, min(L, IndexCalibration))
	}
	parallelRange(L, 2048, func(lo, hi int) { // each token's key alone
		for t := lo; t < hi; t++ {
			k := ix.keys[t*dim : (t+1)*dim]
			for j, h := range heads {
				r := row(h.K, D, t)
				for i, c := range ix.proj[j] {
					k[i] += ix.sign[j][i] * ix.scale * (r[c] - means[j][c])
				}
			}
			for i := range k {
				k[i] = FP8(k[i])
			}
		}
	})
	return ix
}

// IndexCalibration is how many of a head's first keys its index-key
// centring averages (Double Sparsity's calibration window).
const IndexCalibration = 1024

// channelMeans is the per-channel mean of h's first n keys.
func channelMeans(h *Head, n int) []float32 {
	m := make([]float64, h.D)
	for t := 0; t < n; t++ {
		for c, x := range row(h.K, h.D, t) {
			m[c] += float64(x)
		}
	}
	out := make([]float32, h.D)
	for c := range out {
		out[c] = float32(m[c] / float64(max(n, 1)))
	}
	return out
}

// FP8 rounds x to the nearest e4m3 value (3 mantissa bits, saturating at
// ±448; subnormals are not modelled).
func FP8(x float32) float32 {
	if x == 0 {
		return 0
	}
	f, e := math.Frexp(float64(x))
	f = math.Round(f*16) / 16
	v := math.Ldexp(f, e)
	return float32(math.Max(-448, math.Min(448, v)))
}

// indexQuery is the index queries at one position, one per index head,
// with the heads' weights (nil: all 1).
type indexQuery struct {
	q [][]float32
	w []float32
}

// queries are the index queries at position pos: head hi's group of g
// (synthetic), or the dump's index heads at pos.
func (ix *Indexer) queries(pos, g int) indexQuery {
	if ix.dq != nil {
		var iq indexQuery
		for j := 0; j < ix.dHeads; j++ {
			o := (pos*ix.dHeads + j) * ix.Dim
			iq.q = append(iq.q, ix.dq[o:o+ix.Dim])
		}
		if ix.dw != nil {
			iq.w = ix.dw[pos*ix.dHeads : (pos+1)*ix.dHeads]
		}
		return iq
	}
	var qs [][]float32
	for hi, h := range ix.heads {
		for j := 0; j < g; j++ {
			q := h.Query(pos, j)
			iq := make([]float32, ix.Dim)
			for i, c := range ix.proj[hi] {
				iq[i] = FP8(ix.sign[hi][i] * ix.scale * q[c])
			}
			qs = append(qs, iq)
		}
	}
	return indexQuery{q: qs}
}

// score is Σ_j w_j·ReLU(q^I_j·k)/√D.
func (ix *Indexer) score(iq indexQuery, k []float32) float64 {
	var s float64
	for j, q := range iq.q {
		if v := dot(q, k); v > 0 {
			if iq.w != nil {
				v *= iq.w[j]
			}
			s += float64(v)
		}
	}
	return s / ix.norm
}

func (ix *Indexer) key(t int) []float32 { return ix.keys[t*ix.Dim : (t+1)*ix.Dim] }

// DSA scores every token of the window and keeps the top k.
func (ix *Indexer) DSA(pos, g int, w window, k int, rng *rand.Rand) Selection {
	return ix.dsa(ix.scores(ix.queries(pos, g), w), w, k, rng)
}

// scores is every window token's score for the index queries qs.
func (ix *Indexer) scores(qs indexQuery, w window) []float64 {
	scores := make([]float64, w.n())
	parallelRange(len(scores), 2048, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			scores[i] = ix.score(qs, ix.key(w.lo+i))
		}
	})
	return scores
}

// dsa keeps the top k of the window's scores.
func (ix *Indexer) dsa(scores []float64, w window, k int, rng *rand.Rand) Selection {
	keep, rounds := topK(scores, k, rng)
	sel := make([]int32, len(keep))
	for i, x := range keep {
		sel[i] = int32(w.lo + x)
	}
	return Selection{Tokens: sel, Rounds: rounds}
}

// HISA scores mean-pooled blocks of p.Block index keys, keeps the top
// p.BlockTop blocks plus the newest (partial) one, then runs the indexer
// on the kept blocks' tokens only and keeps the top k.
func (ix *Indexer) HISA(pos, g int, w window, p Params, rng *rand.Rand) Selection {
	return ix.hisa(ix.queries(pos, g), nil, w, p, rng)
}

// hisa is HISA for the index queries qs; flat, when not nil, is the
// window's token scores for qs already made (the flat indexer's at the
// same position), a candidate's score being its token's there.
func (ix *Indexer) hisa(qs indexQuery, flat []float64, w window, p Params, rng *rand.Rand) Selection {
	B := p.Block
	nb := (w.n() + B - 1) / B
	bscores := make([]float64, nb)
	parallelRange(nb, 32, func(lo, hi int) { // each block's pooled key alone
		mean := make([]float32, ix.Dim)
		for b := lo; b < hi; b++ {
			s := w.lo + b*B
			e := min(s+B, w.hi)
			clear(mean)
			for t := s; t < e; t++ {
				for i, x := range ix.key(t) {
					mean[i] += x
				}
			}
			for i := range mean {
				mean[i] = FP8(mean[i] / float32(e-s))
			}
			bscores[b] = ix.score(qs, mean)
		}
	})
	bscores[nb-1] = math.Inf(1) // the newest block is always kept
	blocks, rounds := topK(bscores, p.BlockTop, rng)
	var cand []int
	var st []int32
	for _, b := range blocks {
		s := w.lo + b*B
		st = append(st, int32(s))
		for t := s; t < min(s+B, w.hi); t++ {
			cand = append(cand, t)
		}
	}
	scores := make([]float64, len(cand))
	parallelRange(len(cand), 2048, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if flat != nil {
				scores[i] = flat[cand[i]-w.lo]
			} else {
				scores[i] = ix.score(qs, ix.key(cand[i]))
			}
		}
	})
	keep, r2 := topK(scores, p.K, rng)
	sel := make([]int32, len(keep))
	for i, x := range keep {
		sel[i] = int32(cand[x])
	}
	slices.Sort(sel)
	return Selection{Tokens: sel, Rounds: append(rounds, r2...), Blocks: len(blocks), Starts: st, Split: len(rounds)}
}

// evictor is H2O-style budgeted eviction of one KV head: tokens kept by
// accumulated attention probability, plus sink first tokens and a recent
// window; an evicted token never returns.
type evictor struct {
	h      *Head
	p      Params
	g      int
	kept   []int32 // ascending
	acc    []float64
	prompt int
}

// newEvictor fills the cache from the prompt: accumulated probabilities
// of the prompt's last 16 queries pick the budget (H2O accumulates over
// the prefill).
func newEvictor(h *Head, p Params, g, prompt int) *evictor {
	e := &evictor{h: h, p: p, g: g, acc: make([]float64, h.L), prompt: prompt}
	w := window{0, prompt}
	var pr []float64
	for qp := max(0, prompt-16); qp < prompt; qp++ {
		pr = probs(h.K, h.D, h.Query(qp, qp%g), window{0, qp + 1}, pr)
		for i, x := range pr {
			e.acc[i] += x
		}
	}
	for t := 0; t < w.hi; t++ {
		e.kept = append(e.kept, int32(t))
	}
	e.trim(prompt)
	return e
}

// trim evicts the lowest-scored unprotected tokens while over budget.
func (e *evictor) trim(context int) {
	n := len(e.kept) - e.p.Budget
	if n <= 0 {
		return
	}
	if n == 1 { // a decode step: evict the one lowest-scored token
		best := -1
		for i, t := range e.kept {
			if int(t) >= e.p.Sink && int(t) < context-e.p.Recent && (best < 0 || e.acc[t] < e.acc[e.kept[best]]) {
				best = i
			}
		}
		if best >= 0 {
			e.kept = append(e.kept[:best], e.kept[best+1:]...)
		}
		return
	}
	type cand struct {
		t   int32
		acc float64
	}
	var cs []cand
	for _, t := range e.kept {
		if int(t) >= e.p.Sink && int(t) < context-e.p.Recent {
			cs = append(cs, cand{t, e.acc[t]})
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int {
		if a.acc < b.acc {
			return -1
		}
		if a.acc > b.acc {
			return 1
		}
		return 0
	})
	drop := map[int32]bool{}
	for _, c := range cs[:min(n, len(cs))] {
		drop[c.t] = true
	}
	out := e.kept[:0]
	for _, t := range e.kept {
		if !drop[t] {
			out = append(out, t)
		}
	}
	e.kept = out
}

// step appends token context−1, evicts, and accumulates the step's
// attention over the kept tokens (one query head of the group per step,
// in turn: the accumulation's cost bound; docs/kv-sparsity.md).
func (e *evictor) step(context int) {
	e.kept = append(e.kept, int32(context-1))
	e.trim(context)
	q := e.h.Query(context-1, context%e.g)
	scale := 1 / math.Sqrt(float64(e.h.D))
	mx := math.Inf(-1)
	lg := make([]float64, len(e.kept))
	for i, t := range e.kept {
		lg[i] = float64(dot(q, row(e.h.K, e.h.D, int(t)))) * scale
		mx = max(mx, lg[i])
	}
	var s float64
	for i := range lg {
		lg[i] = math.Exp(lg[i] - mx)
		s += lg[i]
	}
	for i, t := range e.kept {
		e.acc[t] += lg[i] / s
	}
}

// selection is the kept set and the eviction's top-k engine work: one
// minimum search over the unprotected candidates.
func (e *evictor) selection(context int) Selection {
	n := 0
	for _, t := range e.kept {
		if int(t) >= e.p.Sink && int(t) < context-e.p.Recent {
			n++
		}
	}
	var rounds []int
	if n > 0 {
		rounds = []int{n}
	}
	return Selection{Tokens: slices.Clone(e.kept), Rounds: rounds}
}
