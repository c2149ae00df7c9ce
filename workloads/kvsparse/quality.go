package kvsparse

import (
	"math"
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
