package llm

import (
	"fmt"
)

// KVBytesPerTokenLayer is one token's keys and values in one layer:
// 2 · num_key_value_heads · head_dim elements of bits each.
func (m Model) KVBytesPerTokenLayer(bits int) int64 {
	return (2*int64(m.KVHeads())*int64(m.HeadSize())*int64(bits) + 7) / 8
}

// CachedTokens is how many tokens per sequence the cache holds at a
// context: all of them, or the sliding window (a rolling buffer).
func (m Model) CachedTokens(context int) int { return m.AttentionLength(context) }

// KVCacheBytes is the whole cache for batch sequences of context tokens.
func (m Model) KVCacheBytes(batch, context, bits int) int64 {
	return int64(batch) * int64(m.CachedTokens(context)) * int64(m.NumHiddenLayers) * m.KVBytesPerTokenLayer(bits)
}

// WeightBytes is every weight at wordBytes each.
func (m Model) WeightBytes(wordBytes int) int64 { return m.Params() * int64(wordBytes) }

// ActivationBytes is the peak activation memory the simulated dataflow
// needs when batch sequences process tokens new tokens each over context
// cached ones: the widest layer input and output (two buffers) plus one
// layer's attention scores, which the unfused attention GEMMs write to
// memory.
func (m Model) ActivationBytes(batch, tokens, context, wordBytes int) int64 {
	h, hd := m.HiddenSize, m.HeadSize()
	width := max(h, (m.NumAttentionHeads+2*m.KVHeads())*hd)
	inter := m.IntermediateSize
	if m.MoE() {
		inter = max(m.ExpertSize()*max(m.NumSharedExperts, 1), m.NumExperts)
	}
	if m.Gated {
		inter *= 2
	}
	width = max(width, inter, m.VocabSize/max(tokens, 1))
	t := int64(batch) * int64(tokens)
	scores := t * int64(m.NumAttentionHeads) * int64(m.AttentionLength(context))
	return (2*t*int64(width) + scores) * int64(wordBytes)
}

// Footprint is what a run keeps in memory.
type Footprint struct {
	Weights, KV, Activations int64
}

// Total sums the footprint.
func (f Footprint) Total() int64 { return f.Weights + f.KV + f.Activations }

// Footprint sizes a run of batch sequences of prompt + gen tokens; with
// prefill the prompt's pass sets the activation peak, else a decode step
// at the longest context does.
func (m Model) Footprint(batch, prompt, gen, wordBytes, kvBits int, prefill bool) Footprint {
	act := m.ActivationBytes(batch, 1, prompt+gen, wordBytes)
	if prefill {
		act = max(act, m.ActivationBytes(batch, prompt, prompt, wordBytes))
	}
	return Footprint{Weights: m.WeightBytes(wordBytes), KV: m.KVCacheBytes(batch, prompt+gen, kvBits), Activations: act}
}

// CheckCapacity returns nil when the run fits in capacity bytes (0: no
// limit), else an error with the numbers and the largest batch at this
// context and the largest context at this batch that fit.
func (m Model) CheckCapacity(capacity int64, batch, prompt, gen, wordBytes, kvBits int, prefill bool) error {
	if capacity <= 0 {
		return nil
	}
	f := m.Footprint(batch, prompt, gen, wordBytes, kvBits, prefill)
	if f.Total() <= capacity {
		return nil
	}
	fits := func(b, ctx int) bool {
		p := min(prompt, ctx)
		return m.Footprint(b, p, ctx-p, wordBytes, kvBits, prefill).Total() <= capacity
	}
	ctx := prompt + gen
	bestB := largest(batch, func(b int) bool { return fits(b, ctx) })
	bestCtx := largest(ctx, func(c int) bool { return fits(batch, c) })
	hint := "even batch 1 with a 1-token context does not fit: the weights alone need more"
	if f.Weights < capacity {
		hint = fmt.Sprintf("largest batch at context %d: %s; largest context at batch %d: %s", ctx, noneIfZero(bestB), batch, noneIfZero(bestCtx))
	}
	return fmt.Errorf("%s does not fit in dram.capacity_gb %.3g: weights %.3f GB + KV cache %.3f GB + activations %.3f GB = %.3f GB; %s",
		m.Name, float64(capacity)/1e9, gb(f.Weights), gb(f.KV), gb(f.Activations), gb(f.Total()), hint)
}

func gb(b int64) float64 { return float64(b) / 1e9 }

// largest is the largest v in [1, hi] with ok(v), 0 if none; ok must be
// monotone (true then false).
func largest(hi int, ok func(int) bool) int {
	lo := 0
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if ok(mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

func noneIfZero(v int) string {
	if v == 0 {
		return "none"
	}
	return fmt.Sprint(v)
}
