package inference

import (
	"fmt"

	"github.com/sparsesim/sparsesim/arch/attention"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/inference/ops"
	"github.com/sparsesim/sparsesim/workloads"
)

// engineAttention is one decode attention on the attention engine.
type engineAttention struct {
	Cycles  int64
	Compute int64 // the busiest attention unit's cycles
	Bytes   Bytes
	Events  int64
}

// attentionEngineConfig is cfg as the attention engine sees it in an LLM
// decode: the same clock, buffers (as K/V SRAMs) and DRAM; dense rows (no
// cascade pruning, local V pruning or progressive quantization: the KV
// cache's contents are not modelled) fetched at the cache's width.
func attentionEngineConfig(cfg *configs.Config, kvBits int) *configs.Config {
	e := *cfg
	e.Engine = "spatten"
	a := &e.Attention
	a.TokenPruning, a.HeadPruning, a.LocalVPruning, a.ProgressiveQuant = false, false, false, false
	a.FullBits, a.Unquantized = kvBits, "full_bits"
	return &e
}

// simulateEngineAttention runs one layer's decode attention on a drained
// attention engine: a row per sequence and KV head with the head group's
// queries. Keys and values read are KV bytes; queries read and outputs
// written are activations.
func simulateEngineAttention(cfg *configs.Config, s ops.AttnSpec) (engineAttention, error) {
	rows := make([]workloads.AttnRow, 0, s.Batch*s.KVHeads)
	for b := 0; b < s.Batch; b++ {
		for h := 0; h < s.KVHeads; h++ {
			rows = append(rows, workloads.AttnRow{Head: b*s.KVHeads + h, D: s.HeadDim, Context: s.Length,
				Queries: s.Group, KeyFetch: s.Length, ValueFetch: s.Length})
		}
	}
	r, err := attention.Simulate(attentionEngineConfig(cfg, s.KVBits), workloads.Workload{Name: "decode-attention", Attention: rows})
	if err != nil {
		return engineAttention{}, err
	}
	if r.Span == nil || r.Attention == nil {
		return engineAttention{}, fmt.Errorf("attention engine returned no span for %+v", s)
	}
	a := r.Attention
	return engineAttention{Cycles: r.Span.Elapsed, Compute: r.Span.Compute, Events: r.Events,
		Bytes: Bytes{KV: a.KMSBBytes + a.KLSBBytes + a.VBytes, Activations: a.QBytes + a.OutBytes}}, nil
}
