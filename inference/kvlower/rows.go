package kvlower

import (
	"slices"

	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/workloads/kvsparse"
)

// The DRAM rows a selection reads: tokens as pixel spans of the KV
// tensors, cached per selection, head group and page, since the same
// selection is read by every layer and step until the next sample.

// strided is n rows, the i-th at i·stride + at.
func strided(n, stride, at int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i*stride + at)
	}
	return out
}

// spans turns ascending tokens into pixel spans at offset off.
func spans(tokens []int32, off int64) []memory.Span {
	var out []memory.Span
	for _, t := range tokens {
		p := off + int64(t)
		if n := len(out); n > 0 && out[n-1].Hi == p {
			out[n-1].Hi++
			continue
		}
		out = append(out, memory.Span{Lo: p, Hi: p + 1})
	}
	return out
}

// regionKey identifies a rowsOf region built from token lists that live
// as long as the lowering (the plan's selections, the slot and page
// lists).
type regionKey struct {
	first     [maxCachedHeads]*int32
	n         [maxCachedHeads]int
	heads     int
	w, seq    int
	seqStride int64
}

const maxCachedHeads = 16

// cachedRows is rowsOf, kept in the lowering when every list is one that
// lives as long (a step reuses its sample's region instead of rebuilding
// it).
func (lw *layerAttn) cachedRows(tokens [][]int32, w int, seqStride int64) memory.Region {
	if len(tokens) > maxCachedHeads {
		return lw.rowsOf(tokens, w, seqStride)
	}
	k := regionKey{heads: len(tokens), w: w, seq: lw.seq, seqStride: seqStride}
	for h, t := range tokens {
		if len(t) == 0 {
			return lw.rowsOf(tokens, w, seqStride)
		}
		k.first[h], k.n[h] = &t[0], len(t)
	}
	if r, ok := lw.kl.regions[k]; ok {
		return r
	}
	r := lw.rowsOf(tokens, w, seqStride)
	lw.kl.regions[k] = r
	return r
}

// rowsOf is the region of tokens[h] (per KV head, each its channel slice
// of width w) for every sequence; one list for all heads reads whole rows.
//
// With a list per head the region is of the cache viewed as one row per
// (token, head) — pixel (b·seqStride + t)·heads + h, w channels (headRows)
// — the same addresses as head h's channel slice of token t's row, so the
// same requests; as whole rows of one channel interval, counting them
// (memory.Tensor.Runs) walks the spans once instead of sorting every
// head's span boundaries, which made Double Sparsity's per-head gathers
// most of its run time.
func (lw *layerAttn) rowsOf(tokens [][]int32, w int, seqStride int64) memory.Region {
	if len(tokens) == 1 {
		var pix []memory.Span
		for b := 0; b < lw.seq; b++ {
			pix = append(pix, spans(tokens[0], int64(b)*seqStride)...)
		}
		return memory.NewRegion([]memory.Seg{{C: memory.Span{Lo: 0, Hi: int64(lw.kv * w)}, Pix: pix}})
	}
	H := int64(len(tokens))
	var rows []int64
	for b := 0; b < lw.seq; b++ {
		for h, tk := range tokens {
			for _, t := range tk {
				rows = append(rows, (int64(b)*seqStride+int64(t))*H+int64(h))
			}
		}
	}
	slices.Sort(rows)
	var pix []memory.Span
	for _, r := range rows {
		if n := len(pix); n > 0 && pix[n-1].Hi == r {
			pix[n-1].Hi++
			continue
		}
		pix = append(pix, memory.Span{Lo: r, Hi: r + 1})
	}
	return memory.NewRegion([]memory.Seg{{C: memory.Span{Lo: 0, Hi: int64(w)}, Pix: pix}})
}

// headRows is t viewed as one row per (pixel, head): heads times the
// pixels, t.Channels/heads channels each (rowsOf's per-head regions).
func headRows(t memory.Tensor, heads int) memory.Tensor {
	t.Pixels *= int64(heads)
	t.Channels /= int64(heads)
	return t
}

func (lw *layerAttn) tensor(name string, pixels, channels int64, bits int) memory.Tensor {
	return memory.Tensor{Name: lw.p + name, Pixels: pixels, Channels: channels, ElemBits: bits}
}

// tokenRows is the rows tokens of every sequence's stride-row block of a
// width-wide tensor.
func (lw *layerAttn) tokenRows(tokens []int32, stride, width int) memory.Region {
	var pix []memory.Span
	for b := 0; b < lw.seq; b++ {
		pix = append(pix, spans(tokens, int64(b*stride))...)
	}
	return memory.NewRegion([]memory.Seg{{C: memory.Span{Lo: 0, Hi: int64(width)}, Pix: pix}})
}

// tokenRowsKey identifies a tokenRows region of a token list the
// lowering owns (pagesNow's lists).
type tokenRowsKey struct {
	first                 *int32
	n, stride, width, seq int
}

// cachedTokenRows is tokenRows of a lowering-owned list, built once: HISA's
// candidate blocks change only when a new block starts, and rebuilding
// the spans of 16384 candidates per layer and step was a sixth of its
// run time.
func (lw *layerAttn) cachedTokenRows(tokens []int32, stride, width int) memory.Region {
	if len(tokens) == 0 {
		return lw.tokenRows(tokens, stride, width)
	}
	k := tokenRowsKey{&tokens[0], len(tokens), stride, width, lw.seq}
	if r, ok := lw.kl.tokenRegions[k]; ok {
		return r
	}
	r := lw.tokenRows(tokens, stride, width)
	lw.kl.tokenRegions[k] = r
	return r
}

// pagesNow is the sampled step's pages (or blocks) of size before its
// newest one, plus this step's newest one, as the tokens of whole pages:
// a page is read and computed on whole, the newest one's empty slots
// included (masked), so the work is the same every step. The lists live
// in the lowering (one per sample and newest page).
func (kl *Lowering) pagesNow(sm *kvsparse.Sample, size, ctx int) []int32 {
	now := int32((ctx - 1) / size * size)
	key := pageKey{sm, now}
	if t, ok := kl.pages[key]; ok {
		return t
	}
	newest := int32((sm.Context - 1) / size * size)
	var kept, tokens []int32
	for _, s := range sm.Sel.Starts {
		if s < newest {
			kept = append(kept, s)
		}
	}
	kept = append(kept, now)
	slices.Sort(kept)
	kept = slices.Compact(kept)
	for _, s := range kept {
		for t := s; t < s+int32(size); t++ {
			tokens = append(tokens, t)
		}
	}
	kl.pages[key] = tokens
	return tokens
}

type pageKey struct {
	sm  *kvsparse.Sample
	now int32
}

// seqRows is rows [lo, hi) of every sequence's block of stride rows of a
// width-wide tensor.
func (lw *layerAttn) seqRows(lo, hi, stride, width int) memory.Region {
	var pix []memory.Span
	for b := 0; b < lw.seq; b++ {
		pix = append(pix, memory.Span{Lo: int64(b*stride + lo), Hi: int64(b*stride + hi)})
	}
	return memory.NewRegion([]memory.Seg{{C: memory.Span{Lo: 0, Hi: int64(width)}, Pix: pix}})
}
