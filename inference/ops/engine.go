package ops

import "github.com/sparsesim/sparsesim/workloads/llm"

// AttnSpec is one decoder layer's decode attention as the attention
// engine runs it: for each of Batch sequences and KVHeads key/value heads,
// one row of Group queries (the query heads sharing that KV head) over
// Length cached tokens of HeadDim elements stored at KVBits.
type AttnSpec struct {
	Batch, KVHeads, Group, HeadDim, Length, KVBits int
}

// EngineAttention lowers decode attention to one OpAttention per layer:
// scores, softmax and prob×V all run on the attention engine, which reads
// each KV head's keys and values once for its query group.
type EngineAttention struct{}

// Attention implements AttentionLowering.
func (EngineAttention) Attention(m llm.Model, layer int, p string, s StepSpec, L int) []Op {
	bits := s.KVBits
	if bits <= 0 {
		bits = s.WordBits
	}
	return []Op{{Kind: OpAttention, Class: ClassAttention, Name: p + "attention",
		Attn: &AttnSpec{Batch: s.Batch, KVHeads: m.KVHeads(), Group: m.QueryGroup(), HeadDim: m.HeadSize(), Length: L, KVBits: bits}}}
}
