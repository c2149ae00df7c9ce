package llm

import (
	"fmt"
	"strings"
)

// Model is a decoder-only transformer as a Hugging Face config.json states
// it. Zero values of optional fields mean what Hugging Face means by their
// absence (num_key_value_heads = num_attention_heads, head_dim =
// hidden_size / num_attention_heads, no sliding window, no experts).
type Model struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	// ModelType is config.json's model_type (llama, mistral, qwen2,
	// mixtral, olmoe, gpt2, ...).
	ModelType             string `json:"model_type"`
	HiddenSize            int    `json:"hidden_size"`
	IntermediateSize      int    `json:"intermediate_size"`
	NumHiddenLayers       int    `json:"num_hidden_layers"`
	NumAttentionHeads     int    `json:"num_attention_heads"`
	NumKeyValueHeads      int    `json:"num_key_value_heads"`
	HeadDim               int    `json:"head_dim"`
	VocabSize             int    `json:"vocab_size"`
	HiddenAct             string `json:"hidden_act"`
	TieWordEmbeddings     bool   `json:"tie_word_embeddings"`
	MaxPositionEmbeddings int    `json:"max_position_embeddings"`
	// SlidingWindow bounds the tokens a query attends to; 0: all.
	SlidingWindow int `json:"sliding_window"`
	// Gated is true for GLU feed-forwards (SwiGLU, GeGLU: gate and up
	// projections, then down), false for plain up/down MLPs (GPT-2).
	Gated bool `json:"gated"`
	// NumExperts is num_local_experts / num_experts / n_routed_experts;
	// 0 for a dense model.
	NumExperts          int `json:"num_experts"`
	NumExpertsPerTok    int `json:"num_experts_per_tok"`
	MoEIntermediateSize int `json:"moe_intermediate_size"`
	NumSharedExperts    int `json:"n_shared_experts"`
}

// KVHeads is the number of key/value heads (GQA/MQA); equals the query
// heads for plain multi-head attention.
func (m Model) KVHeads() int {
	if m.NumKeyValueHeads > 0 {
		return m.NumKeyValueHeads
	}
	return m.NumAttentionHeads
}

// HeadSize is head_dim, or hidden_size / num_attention_heads.
func (m Model) HeadSize() int {
	if m.HeadDim > 0 {
		return m.HeadDim
	}
	return m.HiddenSize / m.NumAttentionHeads
}

// MoE reports whether the feed-forwards are routed experts.
func (m Model) MoE() bool { return m.NumExperts > 0 }

// ExpertSize is one routed (or shared) expert's intermediate width.
func (m Model) ExpertSize() int {
	if m.MoEIntermediateSize > 0 {
		return m.MoEIntermediateSize
	}
	return m.IntermediateSize
}

// QueryGroup is how many query heads share one key/value head.
func (m Model) QueryGroup() int { return m.NumAttentionHeads / m.KVHeads() }

// AttentionLength is the tokens a query attends to at this step.
func (m Model) AttentionLength(context int) int {
	if m.SlidingWindow > 0 && context > m.SlidingWindow {
		return m.SlidingWindow
	}
	return context
}

// Validate reports the first field that makes the model impossible, named
// as config.json names it.
func (m Model) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"hidden_size", m.HiddenSize}, {"num_hidden_layers", m.NumHiddenLayers},
		{"num_attention_heads", m.NumAttentionHeads}, {"vocab_size", m.VocabSize}} {
		if f.v <= 0 {
			return fmt.Errorf("field %s: must be a positive integer, got %d", f.name, f.v)
		}
	}
	if !m.MoE() && m.IntermediateSize <= 0 {
		return fmt.Errorf("field intermediate_size: must be a positive integer, got %d", m.IntermediateSize)
	}
	if m.MoE() && m.ExpertSize() <= 0 {
		return fmt.Errorf("field moe_intermediate_size: a MoE model needs intermediate_size or moe_intermediate_size")
	}
	if m.NumKeyValueHeads < 0 || m.NumAttentionHeads%m.KVHeads() != 0 {
		return fmt.Errorf("field num_key_value_heads: %d does not divide num_attention_heads %d", m.NumKeyValueHeads, m.NumAttentionHeads)
	}
	if m.HeadDim < 0 || (m.HeadDim == 0 && m.HiddenSize%m.NumAttentionHeads != 0) {
		return fmt.Errorf("field head_dim: missing and hidden_size %d does not divide by num_attention_heads %d", m.HiddenSize, m.NumAttentionHeads)
	}
	if m.SlidingWindow < 0 || m.MaxPositionEmbeddings < 0 {
		return fmt.Errorf("field sliding_window/max_position_embeddings: must not be negative")
	}
	if m.MoE() && (m.NumExpertsPerTok <= 0 || m.NumExpertsPerTok > m.NumExperts) {
		return fmt.Errorf("field num_experts_per_tok: must be from 1 to the %d experts, got %d", m.NumExperts, m.NumExpertsPerTok)
	}
	if !m.MoE() && (m.NumExpertsPerTok > 0 || m.NumSharedExperts > 0) {
		return fmt.Errorf("field num_experts_per_tok/n_shared_experts: set without any routed experts")
	}
	if m.NumSharedExperts < 0 {
		return fmt.Errorf("field n_shared_experts: must not be negative, got %d", m.NumSharedExperts)
	}
	return nil
}

// Params counts the weights: embeddings, attention, feed-forward or
// experts and router, norms, and the LM head unless tied.
func (m Model) Params() int64 {
	h, hd := int64(m.HiddenSize), int64(m.HeadSize())
	q, kv := int64(m.NumAttentionHeads)*hd, int64(m.KVHeads())*hd
	attn := h*(q+2*kv) + q*h
	var ffn int64
	mats := int64(2)
	if m.Gated {
		mats = 3
	}
	if m.MoE() {
		e := int64(m.ExpertSize())
		ffn = int64(m.NumExperts)*mats*h*e + h*int64(m.NumExperts) + int64(m.NumSharedExperts)*mats*h*e
	} else {
		ffn = mats * h * int64(m.IntermediateSize)
	}
	per := attn + ffn + 2*h // two norms
	total := int64(m.NumHiddenLayers)*per + int64(m.VocabSize)*h + h
	if !m.TieWordEmbeddings {
		total += int64(m.VocabSize) * h
	}
	return total
}

// Describe is a one-line summary for listings.
func (m Model) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d layers, d=%d, %d heads", m.NumHiddenLayers, m.HiddenSize, m.NumAttentionHeads)
	if m.KVHeads() != m.NumAttentionHeads {
		fmt.Fprintf(&b, " (%d KV)", m.KVHeads())
	}
	if m.SlidingWindow > 0 {
		fmt.Fprintf(&b, ", window %d", m.SlidingWindow)
	}
	if m.MoE() {
		fmt.Fprintf(&b, ", %d experts top-%d", m.NumExperts, m.NumExpertsPerTok)
	}
	fmt.Fprintf(&b, ", %.2fB params", float64(m.Params())/1e9)
	return b.String()
}
