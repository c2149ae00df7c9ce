package attention

import (
	"math"
	"math/rand"
	"slices"
	"sort"
)

// Softmax normalises a row in place (max-subtracted for stability).
func Softmax(row []float64) {
	m := math.Inf(-1)
	for _, v := range row {
		if v > m {
			m = v
		}
	}
	var s float64
	for i, v := range row {
		row[i] = math.Exp(v - m)
		s += row[i]
	}
	for i := range row {
		row[i] /= s
	}
}

// Head computes one head for the given queries over the kept key/value
// tokens: scores = q·kᵀ/√d, probs = softmax(scores), out = probs·v. k and v
// hold one token per row; keep lists the token rows used (nil = all).
func Head(q, k, v [][]float64, keep []int) (probs, out [][]float64) {
	if keep == nil {
		keep = make([]int, len(k))
		for i := range keep {
			keep[i] = i
		}
	}
	d := len(q[0])
	scale := 1 / math.Sqrt(float64(d))
	probs = make([][]float64, len(q))
	out = make([][]float64, len(q))
	for i, qi := range q {
		row := make([]float64, len(keep))
		for j, t := range keep {
			row[j] = dot(qi, k[t]) * scale
		}
		Softmax(row)
		probs[i] = row
		out[i] = weighted(row, v, keep, nil)
	}
	return probs, out
}

// weighted is Σ_j p_j·v[keep[j]] over the selected positions (all when sel
// is nil): the prob×V product with local V pruning applied.
func weighted(p []float64, v [][]float64, keep, sel []int) []float64 {
	o := make([]float64, len(v[0]))
	add := func(j int) {
		for c, x := range v[keep[j]] {
			o[c] += p[j] * x
		}
	}
	if sel == nil {
		for j := range p {
			add(j)
		}
	} else {
		for _, j := range sel {
			add(j)
		}
	}
	return o
}

func dot(a, b []float64) float64 {
	var s float64
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

// QuickSelect returns the indices of the k largest values in original
// order, as SpAtten's top-k engine produces them: quick-select rounds with a
// random pivot partition the candidates into > pivot and < pivot (zero
// eliminators compact each side) until the k-th value is found; a final
// pass keeps everything above it plus ties up to k, preserving order.
// rounds are the candidate counts each partition round compared.
func QuickSelect(vals []float64, k int, rng *rand.Rand) (keep []int, rounds []int) {
	return quickSelect(vals, k, rng, nil, nil)
}

// Selector is QuickSelect with its partition buffers kept between calls
// (one per goroutine): the same results without 2n floats allocated per
// call, which dominated the kernels' garbage.
type Selector struct{ bufs []float64 }

// Select is QuickSelect(vals, k, rng).
func (s *Selector) Select(vals []float64, k int, rng *rand.Rand) (keep []int, rounds []int) {
	return quickSelect(vals, k, rng, nil, s)
}

// Round is one quick-select round as the engine sees it.
type Round struct {
	Candidates []float64
	Pivot      float64
	Hi, Lo     []float64 // compacted > pivot and < pivot streams, in order
	Eq         int
	Rank       int // rank (1-based, descending) sought among the candidates
}

// QuickSelectObserved is QuickSelect calling observe after every round (a
// nil observe is allowed): explain prints exactly the rounds the engine
// model charges.
func QuickSelectObserved(vals []float64, k int, rng *rand.Rand, observe func(Round)) (keep []int, rounds []int) {
	return quickSelect(vals, k, rng, observe, nil)
}

func quickSelect(vals []float64, k int, rng *rand.Rand, observe func(Round), s *Selector) (keep []int, rounds []int) {
	n := len(vals)
	if k >= n {
		keep = make([]int, n)
		for i := range keep {
			keep[i] = i
		}
		return keep, nil
	}
	if k <= 0 {
		return nil, nil
	}
	// Two buffers: each round compacts the side it keeps into the other
	// one, in order, as the zero eliminators do.
	var bufs []float64
	if s != nil {
		if cap(s.bufs) < 2*n {
			s.bufs = make([]float64, 2*n)
		}
		bufs = s.bufs[:2*n]
	} else {
		bufs = make([]float64, 2*n)
	}
	cand, other := bufs[0:n:n], bufs[n:2*n:2*n]
	copy(cand, vals)
	want := k // rank (1-based, descending) of the threshold within cand
	var kth float64
	for {
		rounds = append(rounds, len(cand))
		pivot := cand[rng.Intn(len(cand))]
		if observe != nil {
			hi, lo, eq := Partition(cand, pivot)
			observe(Round{Candidates: append([]float64(nil), cand...), Pivot: pivot, Hi: hi, Lo: lo, Eq: eq, Rank: want})
		}
		// One pass compacts both sides, in order: > pivot from the front
		// of other, < pivot from the back of it (reversed); the kept side
		// becomes the candidates.
		nHi, nLo := 0, 0
		last := len(other) - 1
		for _, v := range cand {
			if v > pivot {
				other[nHi] = v
				nHi++
			} else if v < pivot {
				other[last-nLo] = v
				nLo++
			}
		}
		eq := len(cand) - nHi - nLo
		if want <= nHi { // keep the > pivot side
			cand, other = other[:nHi], cand[:cap(cand)]
		} else if want <= nHi+eq {
			kth = pivot
			break
		} else {
			want -= nHi + eq
			lo := other[last-nLo+1 : last+1]
			slices.Reverse(lo)
			cand, other = lo, cand[:cap(cand)]
		}
	}
	above := 0
	for _, v := range vals {
		if v > kth {
			above++
		}
	}
	ties := k - above
	keep = make([]int, 0, k)
	for i, v := range vals {
		if v > kth || (v == kth && ties > 0) {
			if v == kth {
				ties--
			}
			keep = append(keep, i)
		}
	}
	return keep, rounds
}

// Partition is one quick-select round as the top-k engine's comparators
// and zero eliminators do it: the candidates above and below the pivot,
// each in their original order, and how many equal it.
func Partition[T int | int64 | uint64 | float64](cand []T, pivot T) (hi, lo []T, eq int) {
	for _, v := range cand {
		switch {
		case v > pivot:
			hi = append(hi, v)
		case v < pivot:
			lo = append(lo, v)
		default:
			eq++
		}
	}
	return hi, lo, eq
}

// TopKBySort is the reference top-k: indices of the k largest (ties to the
// lower index), in original order.
func TopKBySort(vals []float64, k int) []int {
	idx := make([]int, len(vals))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return vals[idx[a]] > vals[idx[b]] })
	if k < len(idx) {
		idx = idx[:k]
	}
	sort.Ints(idx)
	return idx
}
