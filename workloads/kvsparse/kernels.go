package kvsparse

import (
	"math/rand"
	"sort"

	"github.com/sparsesim/sparsesim/workloads/attention"
)

// topK keeps the k largest scores' window indices (ascending) and the
// top-k engine's rounds: quick-select, then a final pass over every
// candidate (SpAtten's engine, arch/attention.TopKCycles).
func topK(scores []float64, k int, rng *rand.Rand) (keep []int, rounds []int) {
	if k >= len(scores) {
		keep = make([]int, len(scores))
		for i := range keep {
			keep[i] = i
		}
		return keep, nil
	}
	keep, rounds = attention.QuickSelect(scores, k, rng)
	sort.Ints(keep)
	if len(keep) > k {
		keep = keep[:k] // ties at the threshold: the first ones
	}
	return keep, append(rounds, len(scores))
}

func groupQueries(h *Head, g, pos int) [][]float32 {
	qs := make([][]float32, g)
	for j := range qs {
		qs[j] = h.Query(pos, j)
	}
	return qs
}
