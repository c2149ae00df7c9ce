package kvsparse

import (
	"math"
	"math/rand"
	"slices"
	"sort"

	"github.com/sparsesim/sparsesim/workloads/attention"
)

// Selection is what a method reads at one step for one KV head.
type Selection struct {
	// Tokens are the cached tokens read, ascending; nil means every token
	// of the window (mustafar).
	Tokens []int32
	// Rounds are the top-k engine's candidate counts, round by round
	// (quick-select rounds, then a final filter pass over every candidate).
	Rounds []int
	// Pages (quest) and Blocks (hisa) picked.
	Pages, Blocks int
	// Starts are the first tokens of the kept pages (quest) or blocks
	// (hisa), ascending.
	Starts []int32
	// Split is where hisa's block-stage rounds end and its token-stage
	// rounds begin.
	Split int
}

// Quality compares a method's attention with dense attention, averaged
// over the query heads of a group.
type Quality struct {
	// MassRecall is Σ_s min(p_s, p̃_s) over tokens: the attention mass the
	// method keeps. For a token selection it is the dense probability of
	// the selected tokens.
	MassRecall float64
	// OutputRelError is ‖õ − o‖ / ‖o‖ for the attention output o.
	OutputRelError float64
}

// window is the tokens [lo, hi) a query at context hi attends to.
type window struct{ lo, hi int }

func (w window) n() int { return w.hi - w.lo }

// probs is softmax(q·k/√D) over the window (keys from k, any L×D array).
func probs(k []float32, D int, q []float32, w window, out []float64) []float64 {
	out = out[:0]
	scale := 1 / math.Sqrt(float64(D))
	for t := w.lo; t < w.hi; t++ {
		out = append(out, float64(dot(q, row(k, D, t)))*scale)
	}
	softmax(out)
	return out
}

// softmax turns logits into probabilities in place.
func softmax(out []float64) {
	mx := math.Inf(-1)
	for _, v := range out {
		mx = max(mx, v)
	}
	var s float64
	for i, v := range out {
		out[i] = math.Exp(v - mx)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
}

// groupProbs is probs for each of a group's queries, every key row read
// once for all of them (each query's sums run in token order, as probs
// runs them). With pk, the keys are its pruned rows.
func groupProbs(k []float32, pk *pruned, D int, qs [][]float32, w window, out [][]float64) {
	scale := 1 / math.Sqrt(float64(D))
	for j := range qs {
		out[j] = out[j][:w.n()]
	}
	for t := w.lo; t < w.hi; t++ {
		if pk != nil {
			for j, q := range qs {
				out[j][t-w.lo] = float64(pk.dot(q, t)) * scale
			}
			continue
		}
		r := row(k, D, t)
		for j, q := range qs {
			out[j][t-w.lo] = float64(dot(q, r)) * scale
		}
	}
	for j := range qs {
		softmax(out[j])
	}
}

// groupOutput is Σ_t p[j]_t v_t over the window for each query j, every
// value row read once for all of them (each output channel sums in token
// order, as one query alone does); with pv, the values are its pruned
// rows. Adding p·0 — a pruned zero, or a zero probability — leaves a
// channel's sum as it was (o_c + ±0 is o_c, o_c never being −0), so the
// zeros need not be skipped one by one.
func groupOutput(v []float32, pv *pruned, D int, p [][]float64, w window) [][]float64 {
	o := make([][]float64, len(p))
	for j := range o {
		o[j] = make([]float64, D)
	}
	for i := 0; i < w.n(); i++ {
		t := w.lo + i
		if pv != nil {
			idx, val := pv.row(t)
			j := 0
			for ; j+4 <= len(p); j += 4 {
				p0, p1, p2, p3 := p[j][i], p[j+1][i], p[j+2][i], p[j+3][i]
				o0, o1, o2, o3 := o[j], o[j+1], o[j+2], o[j+3]
				val := val[:len(idx)]
				for k, c := range idx {
					x := float64(val[k])
					o0[c] += p0 * x
					o1[c] += p1 * x
					o2[c] += p2 * x
					o3[c] += p3 * x
				}
			}
			for ; j < len(p); j++ {
				pi, oj := p[j][i], o[j]
				for k, c := range idx {
					oj[c] += pi * float64(val[k])
				}
			}
			continue
		}
		r := row(v, D, t)
		j := 0
		for ; j+4 <= len(p); j += 4 {
			axpy4(o[j], o[j+1], o[j+2], o[j+3], p[j][i], p[j+1][i], p[j+2][i], p[j+3][i], r)
		}
		for ; j < len(p); j++ {
			axpy(o[j], p[j][i], r)
		}
	}
	return o
}

// axpy is o += a·x, channel by channel.
func axpy(o []float64, a float64, x []float32) {
	o = o[:len(x)] // one bounds check a row, not one an element
	for c, v := range x {
		o[c] += a * float64(v)
	}
}

// axpy4 is axpy for four outputs of one row, each element widened once.
func axpy4(o0, o1, o2, o3 []float64, a0, a1, a2, a3 float64, x []float32) {
	o0, o1, o2, o3 = o0[:len(x)], o1[:len(x)], o2[:len(x)], o3[:len(x)]
	for c, v := range x {
		f := float64(v)
		o0[c] += a0 * f
		o1[c] += a1 * f
		o2[c] += a2 * f
		o3[c] += a3 * f
	}
}

func relErr(a, b []float64) float64 {
	var d, n float64
	for i := range a {
		d += (a[i] - b[i]) * (a[i] - b[i])
		n += b[i] * b[i]
	}
	if n == 0 {
		return 0
	}
	return math.Sqrt(d / n)
}

// measure compares the method's attention — tokens sel (all when nil)
// of the dense cache, or of Mustafar's pruned keys and values pk, pv —
// with dense attention for each query. A selection of the dense keys
// reuses the dense probabilities, renormalized over sel. The group's
// queries run together, each with its own sums in the order of one
// query alone.
func measure(h *Head, pk, pv *pruned, qs [][]float32, w window, sel []int32) Quality {
	var q Quality
	g := len(qs)
	dense := make([][]float64, g)
	for j := range dense {
		dense[j] = make([]float64, w.n())
	}
	groupProbs(h.K, nil, h.D, qs, w, dense)
	o := groupOutput(h.V, nil, h.D, dense, w)
	overlap := make([]float64, g)
	var om [][]float64
	if sel != nil && pk == nil {
		// Renormalized over the selection: p̃ = p/m on sel, so
		// Σ min(p, p̃) = m, the selected mass.
		om = make([][]float64, g)
		for j := range qs {
			var m float64
			for _, t := range sel {
				m += dense[j][int(t)-w.lo]
			}
			overlap[j] = m
			om[j] = make([]float64, h.D)
		}
		for _, t := range sel {
			r := row(h.V, h.D, int(t))
			j := 0
			for ; j+4 <= g; j += 4 {
				i := int(t) - w.lo
				axpy4(om[j], om[j+1], om[j+2], om[j+3], dense[j][i]/overlap[j], dense[j+1][i]/overlap[j+1],
					dense[j+2][i]/overlap[j+2], dense[j+3][i]/overlap[j+3], r)
			}
			for ; j < g; j++ {
				axpy(om[j], dense[j][int(t)-w.lo]/overlap[j], r)
			}
		}
	} else {
		meth := make([][]float64, g)
		for j := range meth {
			meth[j] = make([]float64, w.n())
		}
		groupProbs(h.K, pk, h.D, qs, w, meth)
		if sel != nil {
			keep := make([]bool, w.n())
			for _, t := range sel {
				keep[int(t)-w.lo] = true
			}
			for _, mj := range meth {
				var s float64
				for i := range mj {
					if !keep[i] {
						mj[i] = 0
					}
					s += mj[i]
				}
				for i := range mj {
					mj[i] /= s
				}
			}
		}
		for j := range qs {
			for i := range dense[j] {
				overlap[j] += min(dense[j][i], meth[j][i])
			}
		}
		om = groupOutput(h.V, pv, h.D, meth, w)
	}
	for j := range qs {
		q.MassRecall += overlap[j]
		q.OutputRelError += relErr(om[j], o[j])
	}
	q.MassRecall /= float64(g)
	q.OutputRelError /= float64(g)
	return q
}

// topK keeps the k largest scores' window indices (ascending) and the
// top-k engine's rounds: quick-select, then a final pass over every
// candidate (SpAtten's engine, arch.TopKCycles).
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

// IoU is |a ∩ b| / |a ∪ b| of two ascending token lists.
func IoU(a, b []int32) float64 {
	i, j, inter := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 1
	}
	return float64(inter) / float64(union)
}
