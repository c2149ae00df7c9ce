package kvsparse

import (
	"math"
	"math/rand"
)

// quest scores pages of p.PageSize tokens by the upper bound
// Σ_c max(q_c·min_c, q_c·max_c) summed over the group's queries and
// reads the top budget/page_size pages. pb, when not nil, is the head's
// whole pages' bounds (newPageBounds), else each page's are made here.
func quest(h *Head, qs [][]float32, w window, p Params, pb *pageBounds, rng *rand.Rand) Selection {
	P, D := p.PageSize, h.D
	n := (w.n() + P - 1) / P
	scores := make([]float64, n)
	parallelRange(n, 256, func(lo, hi int) {
		var tlo, thi []float32 // bounds of a page pb does not hold
		for i := lo; i < hi; i++ {
			s := w.lo + i*P
			var blo, bhi []float32
			if b, ok := pb.page(s, min(s+P, w.hi)); ok {
				blo, bhi = b[:D], b[D:]
			} else {
				if tlo == nil {
					tlo, thi = make([]float32, D), make([]float32, D)
				}
				blo, bhi = tlo, thi
				pageBound(h, s, min(s+P, w.hi), blo, bhi)
			}
			var sc float64
			for _, q := range qs {
				for c, x := range q {
					sc += float64(max(x*blo[c], x*bhi[c]))
				}
			}
			scores[i] = sc
		}
	})
	// The newest (partial) page is always read: it holds the tokens the
	// bound has seen least of.
	scores[len(scores)-1] = math.Inf(1)
	keep, rounds := topK(scores, p.Budget/P, rng)
	var sel, st []int32
	for _, i := range keep {
		start := w.lo + i*P
		st = append(st, int32(start))
		for t := start; t < min(start+P, w.hi); t++ {
			sel = append(sel, int32(t))
		}
	}
	return Selection{Tokens: sel, Rounds: rounds, Pages: len(keep), Starts: st}
}

// pageBound is the per-channel minimum and maximum of keys [s, e).
func pageBound(h *Head, s, e int, lo, hi []float32) {
	D := h.D
	copy(lo, row(h.K, D, s))
	copy(hi, row(h.K, D, s))
	for t := s + 1; t < e; t++ {
		r := row(h.K, D, t)
		for c, x := range r {
			lo[c] = min(lo[c], x)
			hi[c] = max(hi[c], x)
		}
	}
}

// pageBounds are Quest's metadata for a head's whole pages of P tokens
// (minimum then maximum, D channels each, page after page), made once
// per head: a whole page's keys, so its bounds, are the same at every
// step, and remaking them at every sampled step was most of quest's
// kernel time. The partial newest page is bounded at each step.
type pageBounds struct {
	P, D int
	b    []float32
}

func newPageBounds(h *Head, P int) *pageBounds {
	pb := &pageBounds{P: P, D: h.D, b: make([]float32, h.L/P*2*h.D)}
	parallelRange(h.L/P, 256, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			b := pb.at(i)
			pageBound(h, i*P, (i+1)*P, b[:h.D], b[h.D:])
		}
	})
	return pb
}

func (pb *pageBounds) at(i int) []float32 { return pb.b[i*2*pb.D : (i+1)*2*pb.D] }

// page is the bounds of keys [s, e) if they are one of pb's whole pages.
func (pb *pageBounds) page(s, e int) ([]float32, bool) {
	if pb == nil || e-s != pb.P || s%pb.P != 0 || (s/pb.P+1)*2*pb.D > len(pb.b) {
		return nil, false
	}
	return pb.at(s / pb.P), true
}
