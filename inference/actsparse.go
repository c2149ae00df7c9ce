package inference

import (
	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/arch/systolic"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/inference/ops"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/traces"
	"github.com/sparsesim/sparsesim/workloads/actsparse"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// GatherBytes is a weight gather's traffic: the bytes of the rows wanted
// and what the DRAM bursts covering them move.
type GatherBytes struct {
	Kind        string `json:"kind"`
	Useful      int64  `json:"useful_bytes"`
	Transferred int64  `json:"transferred_bytes"`
	Requests    int64  `json:"requests"`
}

// ActSparseResult is a sparse decode beside the same run dense.
type ActSparseResult struct {
	Sparse, Dense *LLMResult
	Plan          *actsparse.Plan
	// Gathers totals each gather kind over the decode steps.
	Gathers []GatherBytes
}

// CheckActSparse validates an activation-sparse run up front.
func CheckActSparse(cfg *configs.Config, m llm.Model, o LLMOptions) error {
	sp := cfg.ActivationSparsity
	if m.MoE() {
		return usererr.New("activation_sparsity.method %s: %s has routed experts; activation sparsity applies to dense feed-forwards (use the moe keys)", sp.Method, m.Name)
	}
	if o.Phase == PhasePrefill {
		return usererr.New("activation_sparsity.method %s: applies to decode steps; use --phase decode or generate", sp.Method)
	}
	return nil
}

// loadNPY reads activation_sparsity.npy as rows of activations.
func loadNPY(path string, inter int) ([][]float64, error) {
	a, err := traces.ReadNPY(path)
	if err != nil {
		return nil, usererr.New("activation_sparsity.npy: %v", err)
	}
	if a.Cols() != inter {
		return nil, usererr.New("activation_sparsity.npy %s: %d columns, the model's intermediate_size is %d", path, a.Cols(), inter)
	}
	rows := make([][]float64, a.Rows())
	for i := range rows {
		rows[i] = a.Data[i*inter : (i+1)*inter]
	}
	return rows, nil
}

// SimulateActSparse runs an LLM decode (or generate) with the configured
// activation-sparsity technique in every dense layer's feed-forward, and
// the same run dense for the speedup. The technique's kernels
// (workloads/actsparse) give each layer's active sets per decode step;
// the sparse GEMMs read only the union's weight rows, streamed through the
// GEMM's own double-buffered weight fetches (so the reads overlap compute
// as the dense GEMM's do), and each gather's DRAM requests are counted by
// the gather DMA's summary (useful vs transferred bytes). The timing is
// exact when a weight row is a whole number of DRAM requests (every zoo
// model); the gather DMA itself (arch/gather.go) is not put in the timed
// path because it holds a whole gathered operand in the filter buffer and
// does not overlap it with compute: docs/ffn-moe.md measures what that
// costs. Prefill runs dense.
func SimulateActSparse(cfg *configs.Config, m llm.Model, o LLMOptions) (*ActSparseResult, error) {
	if err := CheckLLM(cfg, m, o); err != nil {
		return nil, err
	}
	if err := CheckActSparse(cfg, m, o); err != nil {
		return nil, err
	}
	sp := cfg.ActivationSparsity
	var rows [][]float64
	if sp.NPY != "" {
		var err error
		if rows, err = loadNPY(sp.NPY, m.IntermediateSize); err != nil {
			return nil, err
		}
	}
	sh := actsparse.Shape{Hidden: m.HiddenSize, Inter: m.IntermediateSize, Gated: m.Gated}
	plan, err := actsparse.Build(sp, sh, m.NumHiddenLayers, o.Batch, o.Seed, rows)
	if err != nil {
		return nil, usererr.New("%v", err)
	}
	// One layer table for both runs: the sparse run reuses the dense
	// run's attention, projections and LM head exactly.
	if o.Memo == nil {
		o.Memo = systolic.NewLayerMemo(cfg)
	}
	dense, err := SimulateLLM(cfg, m, o)
	if err != nil {
		return nil, err
	}
	so := o
	so.FFN = func(prefix string, layer, step, tokens int) []ops.Op {
		return sparseFFN(plan, prefix, layer, step, tokens)
	}
	sparse, err := SimulateLLM(cfg, m, so)
	if err != nil {
		return nil, err
	}
	res := &ActSparseResult{Sparse: sparse, Dense: dense, Plan: plan}
	res.Gathers = gatherTotals(cfg, plan, len(sparse.Steps))
	return res, nil
}

// memorySpans is a gather's row runs as the memory model's spans.
func memorySpans(rows []actsparse.Span) []memory.Span {
	out := make([]memory.Span, len(rows))
	for i, r := range rows {
		out[i] = memory.Span(r)
	}
	return out
}

// gatherTotals books every decode step's weight gathers through the
// gather DMA's summary (arch/gather.go: memory.Tensor.Runs at
// dram.request_bytes): a gather of rows of a row-major weight matrix is
// one run per span of consecutive rows, covered by aligned requests.
func gatherTotals(cfg *configs.Config, p *actsparse.Plan, steps int) []GatherBytes {
	var out []GatherBytes
	idx := map[string]int{}
	bits := 8 * cfg.WordBytes()
	req := int64(cfg.DRAM.RequestBytes)
	type memoKey struct{ layer, sample int }
	// A sample's gathers cost the same every step that reuses it.
	cache := map[memoKey][]GatherBytes{}
	for step := 1; step <= steps; step++ {
		for l := 0; l < p.Layers; l++ {
			pop := l % len(p.Samples)
			key := memoKey{pop, (step - 1) % len(p.Samples[pop])}
			gs, ok := cache[key]
			if !ok {
				for _, g := range p.Gathers(l, step) {
					t := memory.Tensor{Pixels: int64(g.Rows), Channels: int64(g.RowElems), ElemBits: bits}
					r := memory.NewRegion([]memory.Seg{{C: memory.Span{Lo: 0, Hi: int64(g.RowElems)}, Pix: memorySpans(g.Read)}})
					sum := arch.SummarizeGather(t, r, req)
					c := int64(g.Copies)
					gs = append(gs, GatherBytes{Kind: g.Kind, Useful: c * sum.UsefulBytes, Transferred: c * sum.TransferredBytes(req), Requests: c * sum.Requests})
				}
				cache[key] = gs
			}
			for _, g := range gs {
				i, ok := idx[g.Kind]
				if !ok {
					i = len(out)
					idx[g.Kind] = i
					out = append(out, GatherBytes{Kind: g.Kind})
				}
				out[i].Useful += g.Useful
				out[i].Transferred += g.Transferred
				out[i].Requests += g.Requests
			}
		}
	}
	return out
}
