package kvsparse

import (
	"math"
)

// pruned is Mustafar's pruned cache of one head: each token row's kept
// channels, ascending, and their values — Kept of every row, the rest
// zero — instead of the zeros too (a third of the work to attend with).
type pruned struct {
	D, kept int
	idx     []uint16 // row t: idx[t·kept : (t+1)·kept]
	val     []float32
}

func (pr *pruned) row(t int) ([]uint16, []float32) {
	return pr.idx[t*pr.kept : (t+1)*pr.kept], pr.val[t*pr.kept : (t+1)*pr.kept]
}

// dot is dot(q, the dense pruned row t): each product goes to the
// accumulator dot gives its channel, in channel order; the zeros dot
// would add change nothing (s + ±0 is s, s never being −0).
func (pr *pruned) dot(q []float32, t int) float32 {
	idx, val := pr.row(t)
	val = val[:len(idx)]
	n4 := pr.D &^ 3 // dot's tail channels go to its first accumulator
	var s [4]float32
	for k, c := range idx {
		a := int(c) & 3
		if int(c) >= n4 {
			a = 0
		}
		s[a] += q[c] * val[k]
	}
	return s[0] + s[1] + s[2] + s[3]
}

// dense is the pruned rows with their zeros (len(rows)·D elements).
func (pr *pruned) dense() []float32 {
	out := make([]float32, len(pr.idx)/max(pr.kept, 1)*pr.D)
	if pr.kept == 0 {
		return out
	}
	for t := 0; t < len(pr.idx)/pr.kept; t++ {
		idx, val := pr.row(t)
		o := row(out, pr.D, t)
		for k, c := range idx {
			o[c] = val[k]
		}
	}
	return out
}

// mustafarPrune keeps, per token row, the round((1−s)·D) elements of
// largest magnitude (ties: the lower channels) and zeroes the rest.
func mustafarPrune(x []float32, D int, sparsity float64) []float32 {
	if Kept(D, sparsity) == 0 {
		return make([]float32, len(x))
	}
	return mustafarPruneInto(nil, x, D, sparsity).dense()
}

// mustafarPruneInto is mustafarPrune's kept elements of every whole row
// of x, written into out's arrays when they are large enough (a plan
// reuses them head after head).
func mustafarPruneInto(out *pruned, x []float32, D int, sparsity float64) *pruned {
	kept := Kept(D, sparsity)
	rows := len(x) / D
	if out == nil {
		out = &pruned{}
	}
	out.D, out.kept = D, kept
	if cap(out.idx) < rows*kept {
		out.idx, out.val = make([]uint16, rows*kept), make([]float32, rows*kept)
	}
	out.idx, out.val = out.idx[:rows*kept], out.val[:rows*kept]
	if kept == 0 {
		return out
	}
	// Rows are pruned independently: pieces of rows at once.
	parallelRange(rows, 2048, func(lo, hi int) {
		mag := make([]float32, D)
		var ks kthSelector
		for t := lo; t < hi; t++ {
			r := row(x, D, t)
			for c, v := range r {
				mag[c] = abs32(v)
			}
			th, above := ks.kth(mag, kept)
			// Every element above the threshold, and ties at it from the
			// lowest channel until kept: in channel order.
			idx, val := out.row(t)
			n, ties := 0, kept-above
			for c, m := range mag {
				if m > th || (m == th && ties > 0) {
					if m == th {
						ties--
					}
					idx[n], val[n] = uint16(c), r[c]
					n++
				}
			}
		}
	})
	return out
}

// kthSelector finds the k-th largest of a row's magnitudes (1 ≤ k ≤
// len) by radix selection on their bits, keeping its buffers between
// rows: a magnitude's bits with the sign cleared order as the magnitudes
// do (−0 as +0), so the digit-by-digit search from the top byte lands on
// the k-th largest value — the one kthLargest's quick-select finds, in a
// few branch-predictable passes instead of many mispredicted
// comparisons. A row with a NaN (which orders as nothing) goes to
// kthLargest itself.
type kthSelector struct {
	a, b []uint32
	sel  []float32
}

// kth is the k-th largest of mag, th, and how many magnitudes exceed it:
// the values left at the end all equal th and it ranks want-th among
// them, so k − want are above.
func (s *kthSelector) kth(mag []float32, k int) (th float32, above int) {
	n := len(mag)
	if len(s.a) < n {
		s.a, s.b, s.sel = make([]uint32, n), make([]uint32, n), make([]float32, n)
	}
	cand, tmp := s.a[:n], s.b[:n]
	for i, x := range mag {
		if x != x {
			copy(s.sel, mag)
			th = kthLargest(s.sel[:n], k)
			for _, m := range mag {
				if m > th {
					above++
				}
			}
			return th, above
		}
		cand[i] = math.Float32bits(x) &^ (1 << 31)
	}
	want := k // rank from the top among cand
	for shift := 24; shift >= 0 && len(cand) > 1; shift -= 8 {
		var h [256]int32
		top := uint32(0)
		for _, v := range cand {
			d := v >> shift & 255
			h[d]++
			top = max(top, d)
		}
		d, above := top, int32(0)
		for ; d > 0 && above+h[d] < int32(want); d-- {
			above += h[d]
		}
		want -= int(above)
		m := 0
		for _, v := range cand { // keep digit d's, in order, branch-free
			tmp[m] = v
			if v>>shift&255 == d {
				m++
			}
		}
		cand, tmp = tmp[:m], cand[:cap(cand)]
	}
	return math.Float32frombits(cand[0]), k - want
}

// kthLargest is the k-th largest of xs (1-based), reordering xs.
func kthLargest(xs []float32, k int) float32 {
	lo, hi, want := 0, len(xs)-1, k-1
	for lo < hi {
		p := xs[(lo+hi)/2]
		i, j := lo, hi
		for i <= j {
			for xs[i] > p {
				i++
			}
			for xs[j] < p {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		switch {
		case want <= j:
			hi = j
		case want >= i:
			lo = i
		default:
			return xs[want]
		}
	}
	return xs[want]
}

// Kept is the elements of a D-channel row Mustafar keeps at sparsity.
func Kept(D int, sparsity float64) int { return int(math.Round((1 - sparsity) * float64(D))) }

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}
