package kvsparse

import (
	"math"
	"math/rand"
	"testing"
)

// measureRef is measure one query at a time on dense arrays (mk, mv:
// the method's keys and values, pruned rows with their zeros): the
// reference the grouped, pruned-row measure must equal bit for bit.
func measureRef(h *Head, mk, mv []float32, qs [][]float32, w window, sel []int32) Quality {
	var q Quality
	var dense, meth []float64
	sameKeys := &mk[0] == &h.K[0]
	out := func(v []float32, p []float64) []float64 {
		o := make([]float64, h.D)
		for i, pi := range p {
			if pi == 0 {
				continue
			}
			for c, x := range row(v, h.D, w.lo+i) {
				o[c] += pi * float64(x)
			}
		}
		return o
	}
	for _, qv := range qs {
		dense = probs(h.K, h.D, qv, w, dense)
		o := out(h.V, dense)
		var om []float64
		var overlap float64
		if sel != nil && sameKeys {
			var m float64
			for _, t := range sel {
				m += dense[int(t)-w.lo]
			}
			overlap = m
			om = make([]float64, h.D)
			for _, t := range sel {
				pi := dense[int(t)-w.lo] / m
				r := row(mv, h.D, int(t))
				for c := range om {
					om[c] += pi * float64(r[c])
				}
			}
		} else {
			meth = probs(mk, h.D, qv, w, meth)
			if sel != nil {
				keep := make([]bool, len(meth))
				for _, t := range sel {
					keep[int(t)-w.lo] = true
				}
				var s float64
				for i := range meth {
					if !keep[i] {
						meth[i] = 0
					}
					s += meth[i]
				}
				for i := range meth {
					meth[i] /= s
				}
			}
			for i := range dense {
				overlap += min(dense[i], meth[i])
			}
			om = out(mv, meth)
		}
		q.MassRecall += overlap
		q.OutputRelError += relErr(om, o)
	}
	q.MassRecall /= float64(len(qs))
	q.OutputRelError /= float64(len(qs))
	return q
}

// TestMeasureIsOneQueryAtATime: measure (the group's queries in one pass
// over the cache, Mustafar's pruned rows without their zeros) equals the
// one-query-at-a-time measure on dense arrays exactly — for a token
// selection of the dense cache, pruned keys and values, pruned rows with
// a selection, head dims with and without dot's tail channels, and a
// head whose pruned rows keep zeros (ties at a zero threshold).
func TestMeasureIsOneQueryAtATime(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, c := range []struct {
		D, L, g  int
		sparsity float64
		zeros    bool
	}{{128, 700, 4, 0.7, false}, {64, 500, 2, 0.5, false}, {30, 300, 6, 0.7, false}, {16, 200, 5, 0.7, true}} {
		h := NewHead(DefaultSynth, 1, 2, 0, c.D, c.L)
		if c.zeros {
			for i := range h.K {
				if i%3 != 0 {
					h.K[i], h.V[i] = 0, 0
				}
			}
		}
		pk, pv := mustafarPruneInto(nil, h.K, c.D, c.sparsity), mustafarPruneInto(nil, h.V, c.D, c.sparsity)
		dk, dv := mustafarPrune(h.K, c.D, c.sparsity), mustafarPrune(h.V, c.D, c.sparsity)
		var sel []int32
		for tk := 0; tk < c.L-9; tk++ {
			if rng.Intn(3) == 0 {
				sel = append(sel, int32(tk))
			}
		}
		w := window{0, c.L - 9}
		qs := groupQueries(h, c.g, w.hi-1)
		same := func(a, b Quality) bool {
			return math.Float64bits(a.MassRecall) == math.Float64bits(b.MassRecall) &&
				math.Float64bits(a.OutputRelError) == math.Float64bits(b.OutputRelError)
		}
		for _, k := range []struct {
			name string
			got  Quality
			want Quality
		}{
			{"selection", measure(h, nil, nil, qs, w, sel), measureRef(h, h.K, h.V, qs, w, sel)},
			{"every token", measure(h, nil, nil, qs, w, nil), measureRef(h, h.K, h.V, qs, w, nil)},
			{"pruned", measure(h, pk, pv, qs, w, nil), measureRef(h, dk, dv, qs, w, nil)},
			{"pruned, selection", measure(h, pk, pv, qs, w, sel), measureRef(h, dk, dv, qs, w, sel)},
		} {
			if !same(k.got, k.want) || k.got.MassRecall <= 0 {
				t.Errorf("D %d, %s: %+v, one query at a time %+v", c.D, k.name, k.got, k.want)
			}
		}
	}
}

// TestKthSelectorIsQuickSelect: the radix selection of a row's k-th
// largest magnitude, and the count above it, are quick-select's, for
// every k, on rows with ties,
// zeros (−0 among them), subnormals and infinities, and a row with a NaN.
func TestKthSelectorIsQuickSelect(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	var ks kthSelector
	neg0 := float32(math.Copysign(0, -1))
	for r := 0; r < 300; r++ {
		n := 1 + rng.Intn(200)
		mag := make([]float32, n)
		for i := range mag {
			switch rng.Intn(8) {
			case 0:
				mag[i] = 0
			case 1:
				mag[i] = neg0
			case 2:
				mag[i] = float32(rng.Intn(4)) // ties
			case 3:
				mag[i] = math.SmallestNonzeroFloat32 * float32(rng.Intn(3))
			case 4:
				if r%50 == 0 {
					mag[i] = float32(math.Inf(1))
				}
			default:
				mag[i] = abs32(float32(rng.NormFloat64() * 3))
			}
		}
		if r == 7 {
			mag[n/2] = float32(math.NaN())
		}
		for k := 1; k <= n; k++ {
			sel := append([]float32(nil), mag...)
			want := kthLargest(sel, k)
			above := 0
			for _, m := range mag {
				if m > want {
					above++
				}
			}
			got, gotAbove := ks.kth(mag, k)
			if (got != want && !(got != got && want != want)) || gotAbove != above {
				t.Fatalf("row %d (%d values), k %d: radix %g (%d above), quick-select %g (%d above)", r, n, k, got, gotAbove, want, above)
			}
		}
	}
}
