package attention

import (
	"slices"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/workloads"
)

// The attention engine's DRAM tensors (docs/spatten.md, "Memory"): per
// layer and head, the key cache as an MSB plane and an LSB plane, the value
// cache, the queries and the outputs, each a memory.Tensor of tokens (or
// queries) × head_dim at the width it is fetched with. Token t's vector
// sits at base + t × vector size, the RTL's layout (key and value addresses
// are index × vector size + base, SpAttenController.scala:298-299,716-719).
// A fused pair of 6-bit heads is one tensor of tokens × 2·head_dim (the
// fetcher's (6, 2) profile reads both heads' vectors of a token at one
// address, MatrixFetcher.scala:48-51). The engine asks a buffer for the
// region of kept tokens; the buffer turns it into aligned DRAM requests
// (memory.Tensor.Runs), so rows that are not whole requests, or kept
// tokens that are not contiguous, cost more than their bytes.
const (
	attnQuery = iota
	attnKeyMSB
	attnKeyLSB
	attnValue
	attnOutput
	numAttnKinds
)

// AttnKindNames names the attention tensor kinds.
var AttnKindNames = [numAttnKinds]string{"query", "key_msb", "key_lsb", "value", "output"}

// attnBufferKind is the buffer (as a systolic tensor kind, for the
// per-layer traffic report) each attention kind goes through: K — and the
// queries that come with it — the ifmap (K SRAM) buffer, V the filter (V
// SRAM) buffer, outputs the ofmap buffer.
var attnBufferKind = [numAttnKinds]int{arch.TensorIfmap, arch.TensorIfmap, arch.TensorIfmap, arch.TensorFilter, arch.TensorOfmap}

// tensorRegion is one part of a transfer: region r of tensor t.
type tensorRegion = arch.TensorRegion

func partsBytes(ps []tensorRegion) int64 {
	var n int64
	for _, p := range ps {
		n += p.Bytes()
	}
	return n
}

// attnTensor lays out one tensor of a row: rows × channels elements of
// bits each. Its ID is stable per (layer, head, kind, fused) so the same
// cache keeps its identity across generation steps; its base address is
// request-aligned and disjoint from every other tensor's.
func attnTensor(li int, r workloads.AttnRow, kind int, fused bool, rows, channels int64, bits int) memory.Tensor {
	id := (r.Layer<<12|r.Head)<<4 | kind
	if fused {
		id |= 1 << 3
	}
	return memory.Tensor{ID: id, Layer: li, Kind: kind, Name: AttnKindNames[kind],
		Pixels: rows, Channels: channels, ElemBits: bits, Base: uint64(id) << 32}
}

// tokenSet is the sorted token positions a row fetches, as spans.
type tokenSet []memory.Span

func (s tokenSet) len() int64 {
	var n int64
	for _, sp := range s {
		n += sp.Len()
	}
	return n
}

// slice is the tokens of ranks [lo, hi) of the set (a chunk of it).
func (s tokenSet) slice(lo, hi int64) tokenSet {
	if lo <= 0 && hi >= s.len() {
		return s // the whole set: sets are never modified in place
	}
	var out tokenSet
	var rank int64
	for _, sp := range s {
		a, b := max(sp.Lo, sp.Lo+lo-rank), min(sp.Hi, sp.Lo+hi-rank)
		if a < b {
			out = append(out, memory.Span{Lo: a, Hi: b})
		}
		rank += sp.Len()
		if rank >= hi {
			break
		}
	}
	return out
}

// pick is n tokens of the set spread evenly over its ranks (rank ⌊i·m/n⌋
// for i < n): the values a row keeps of its fetched keys when only the
// count is known.
func (s tokenSet) pick(n int64) tokenSet {
	m := s.len()
	if n >= m {
		return s
	}
	var out tokenSet
	var rank, i int64
	for _, sp := range s {
		for ; i < n && i*m/n < rank+sp.Len(); i++ {
			out = addToken(out, sp.Lo+i*m/n-rank)
		}
		rank += sp.Len()
	}
	return out
}

func addToken(s tokenSet, t int64) tokenSet {
	if n := len(s); n > 0 && s[n-1].Hi == t {
		s[n-1].Hi++
		return s
	}
	return append(s, memory.Span{Lo: t, Hi: t + 1})
}

// fromTokens turns positions into a set.
func fromTokens(toks []int) tokenSet {
	if !slices.IsSorted(toks) {
		toks = slices.Sorted(slices.Values(toks))
	}
	runs := 0
	for i, t := range toks {
		if i == 0 || toks[i-1]+1 != t {
			runs++
		}
	}
	s := make(tokenSet, 0, runs)
	for _, t := range toks {
		s = addToken(s, int64(t))
	}
	return s
}

// tokenCache remembers the set of the last known positions: the heads of
// a layer share one alive slice, so it is turned into spans once.
type tokenCache struct {
	p   *int
	n   int
	set tokenSet
}

func (c *tokenCache) of(toks []int) tokenSet {
	if len(toks) == 0 {
		return nil
	}
	if c.p != &toks[0] || c.n != len(toks) {
		c.p, c.n, c.set = &toks[0], len(toks), slices.Clip(fromTokens(toks))
	}
	return c.set
}

// keptTokens is the set of n key (or value) positions a row fetches out
// of its context: the positions the row carries when it knows them (our
// kernels), else kept tokens spread evenly over the context (SpAtten's
// traces carry counts only; cascade pruning keeps tokens anywhere). The
// metadata's rounding up to 8 (rtlFetchRound) adds padding vectors,
// placed as rows after the context (the tensor has rtlFetchRound spare
// rows). Whole-request rows (every SpAtten profile at d = 64) cost the
// same wherever the tokens are.
func keptTokens(cache *tokenCache, known []int, count, rounded, context int64) tokenSet {
	var s tokenSet
	switch {
	case known != nil && int64(len(known)) == min(count, context):
		s = cache.of(known) // clipped: the padding below appends to a copy
	case known != nil && int64(len(known)) > min(count, context):
		s = fromTokens(known).slice(0, min(count, context))
	case count >= context:
		s = tokenSet{{Lo: 0, Hi: context}}
	default:
		s = tokenSet{{Lo: 0, Hi: context}}.pick(count)
	}
	if pad := rounded - s.len(); pad > 0 {
		s = append(s, memory.Span{Lo: context, Hi: context + pad})
		if n := len(s); n > 1 && s[n-2].Hi == s[n-1].Lo {
			s[n-2].Hi = s[n-1].Hi
			s = s[:n-1]
		}
	}
	return s
}

// keptRegion is every element of the tokens in s (all channels).
func keptRegion(s tokenSet, channels int64) memory.Region {
	if len(s) == 0 {
		return memory.Region{}
	}
	return memory.Region{Segs: []memory.Seg{{C: memory.Span{Lo: 0, Hi: channels}, Pix: []memory.Span(s)}}}
}
