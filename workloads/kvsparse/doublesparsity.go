package kvsparse

import (
	"math"
	"math/rand"
	"slices"
	"sort"
)

// labelChannels is Double Sparsity's offline calibration: the channels
// with the largest mean |q_c·k_c| over calibration queries (positions
// before the decode) and the first calibration keys.
func labelChannels(h *Head, g, n, calibPos int) []int {
	D := h.D
	imp := make([]float64, D)
	keys := min(1024, calibPos)
	for qp := calibPos - 8; qp < calibPos; qp++ {
		if qp < 0 {
			continue
		}
		for j := 0; j < g; j++ {
			q := h.Query(qp, j)
			for t := 0; t < keys; t++ {
				r := row(h.K, D, t)
				for c := range imp {
					imp[c] += math.Abs(float64(q[c] * r[c]))
				}
			}
		}
	}
	idx := make([]int, D)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return imp[idx[a]] > imp[idx[b]] })
	idx = idx[:min(n, D)]
	slices.Sort(idx)
	return idx
}

// doubleSparsity scores every token from the label channels alone (the
// label cache), sums the group's approximate probabilities, and reads the
// top budget tokens.
func doubleSparsity(h *Head, qs [][]float32, w window, labels []int, p Params, rng *rand.Rand) Selection {
	D := h.D
	scores := make([]float64, w.n())
	approx := make([]float64, w.n())
	scale := 1 / math.Sqrt(float64(D))
	for _, q := range qs {
		parallelRange(len(approx), 4096, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				r := row(h.K, D, w.lo+i)
				var s float32
				for _, c := range labels {
					s += q[c] * r[c]
				}
				approx[i] = float64(s) * scale
			}
		})
		mx := math.Inf(-1)
		for _, v := range approx {
			mx = max(mx, v)
		}
		var sum float64
		for i, v := range approx {
			approx[i] = math.Exp(v - mx)
			sum += approx[i]
		}
		for i := range scores {
			scores[i] += approx[i] / sum
		}
	}
	keep, rounds := topK(scores, p.Budget, rng)
	sel := make([]int32, len(keep))
	for i, k := range keep {
		sel[i] = int32(w.lo + k)
	}
	return Selection{Tokens: sel, Rounds: rounds}
}
