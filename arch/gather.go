package arch

// The gather DMA: a unit that reads a set of rows of any DRAM tensor into
// on-chip SRAM through the memory model, so that non-contiguous reads (the
// KV rows a sparse-attention method selected, the weight rows of active
// FFN neurons) cost what the DRAM bursts cost, not what the useful bytes
// cost.
//
// API
//
//   - Describe the rows as a memory.Tensor (pixels = rows, channels = the
//     row's elements, any ElemBits, any Base) and a memory.Region of it:
//     pixel spans of the selected rows times the channel span read (a whole
//     row, or one head's slice of it). memory.Box and memory.NewRegion build
//     regions; adjacent selected rows should be one span (NewRegion merges).
//   - SummarizeGather(t, r, requestBytes) turns the region into
//     Tensor.Runs' DRAM requests, each requestBytes long and aligned to
//     requestBytes, and returns a GatherSummary: useful bytes and requests.
//     Transferred bytes are Requests × requestBytes; their difference is
//     WastedBytes (a 32-byte label row on a 64-byte request channel moves
//     64 bytes). The summary is a comparable value: two gathers with the
//     same summary take the same time from a drained machine, so results
//     memoize exactly on it.
//   - SimulateGather(cfg, s) runs the gather on a freshly built (drained)
//     accelerator: the filter buffer's DMA books the requests in the
//     memory.Ledger and spreads them over the DRAM channels (fast, ideal or
//     detailed model), and the result is the cycles until the last request
//     is back, with the ledger's traffic.
//   - In an LLM step, an inference/ops.Op of kind OpGather carries the
//     tensor, region and which split of the DRAM bytes (weights, kv,
//     activations) the traffic belongs to; inference.SimulateLLM
//     summarizes it, simulates
//     each distinct summary once, and adds its useful bytes to the step's
//     split and its useful and transferred bytes to StepStats.Gather.
//   - Gather.Write (GatherSummary.Write) turns the op into a scatter: the
//     same requests write the rows from SRAM to DRAM (a new token's
//     metadata, label-cache row or index key), booked as writes.
//   - The GEMM that consumes the gathered rows sets Layer.FilterOnChip: at
//     the layer's start its whole K×N operand is held in the filter buffer
//     (as memory.keep_activations holds an input) and is not read from
//     DRAM again. The operand must fit the filter buffer (buffers.filter_kb,
//     the whole buffer, both halves of a double buffer); if it does not,
//     the layer streams it from DRAM as usual and LayerStats.FilterHeld is
//     false, so a lowering sizes its gathers to fit (FilterFits).
//
// The gather and the GEMM after it run one after another (operators start
// on a drained machine), so the model does not overlap the gather with
// compute: an upper bound on time when a real DMA would overlap them.

import (
	"fmt"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/memory"
)

// GatherSummary is what a gather costs the DRAM: useful bytes and the
// aligned requests that carry them.
type GatherSummary struct {
	UsefulBytes int64
	Requests    int64
	// Write: the requests write to DRAM (a scatter of rows from SRAM).
	Write bool
}

// SummarizeGather counts the requests of requestBytes that read region r
// of t (memory.Tensor.Runs) and the useful bytes.
func SummarizeGather(t memory.Tensor, r memory.Region, requestBytes int64) GatherSummary {
	if r.Empty() {
		return GatherSummary{}
	}
	_, reqs := t.Runs(r, requestBytes)
	return GatherSummary{UsefulBytes: t.Bytes(r.Elems()), Requests: reqs}
}

// TransferredBytes is what crosses the DRAM bus.
func (s GatherSummary) TransferredBytes(requestBytes int64) int64 { return s.Requests * requestBytes }

// WastedBytes is the burst waste: transferred minus useful bytes.
func (s GatherSummary) WastedBytes(requestBytes int64) int64 {
	return s.TransferredBytes(requestBytes) - s.UsefulBytes
}

// GatherResult is one gather simulated from a drained machine.
type GatherResult struct {
	Cycles  int64          // until the last request is back
	Traffic memory.Traffic // as the ledger booked it
	Events  int64
}

// SimulateGather runs a gather of s on a freshly built accelerator for cfg.
func SimulateGather(cfg *configs.Config, s GatherSummary) (GatherResult, error) {
	if s.Requests <= 0 {
		return GatherResult{}, nil
	}
	a := Build(cfg)
	b := a.Buffers[dataflow.Filter]
	t := memory.Tensor{Name: "gather", Kind: TensorFilter, Pixels: 1, Channels: 1, ElemBits: 8}
	var doneAt int64 = -1
	b.At(0, func() {
		op := &bufOp{start: b.Now(), write: s.Write, done: func() { doneAt = b.Now() }}
		b.begin(op)
		b.transferBytes(op, t, s.UsefulBytes, s.Requests, s.Write)
		b.finish(op)
	})
	if err := a.Engine.Run(); err != nil {
		return GatherResult{}, err
	}
	if doneAt < 0 {
		return GatherResult{}, fmt.Errorf("gather DMA stalled: the event queue drained before %d requests returned (a lost wake-up in the model)", s.Requests)
	}
	return GatherResult{Cycles: doneAt, Traffic: a.Ledger.Layer(0)[TensorFilter], Events: a.events.n}, nil
}
