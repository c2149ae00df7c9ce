package ops

import "github.com/sparsesim/sparsesim/memory"

// Splits of an LLM step's DRAM bytes a gather's traffic can belong to
// (arch.Bytes).
const (
	BytesWeights     = "weights"
	BytesKV          = "kv"
	BytesActivations = "activations"
)

// Gather is an OpGather: the gather DMA reads region Rows of Tensor (any
// DRAM tensor, pixels = rows) into on-chip SRAM, or writes them back
// (Write; arch/gather.go). Bytes names the split its traffic is reported
// in. The GEMM that uses the rows sets workloads.Layer.FilterOnChip.
type Gather struct {
	Tensor memory.Tensor
	Rows   memory.Region
	Bytes  string
	// Tag names what the rows are for a technique's own report (e.g. the
	// kv_sparsity byte kinds); inference.SimulateLLM does not read it.
	Tag string
	// Write makes the op a scatter: the DMA writes the rows from SRAM to
	// DRAM (a new token's metadata), with the same burst accounting.
	Write bool
	// Cost, when set, is Rows measured once by the lowering (GatherCost);
	// nil: inference.SimulateLLM measures the region itself.
	Cost *GatherCost
}

// GatherCost is a gather's rows measured for DRAM requests of
// RequestBytes: the region's elements and the requests that cover it
// (memory.Tensor.Runs of Tensor). A lowering that gathers the same rows
// step after step (a sample's selection reused by every layer and step
// until the next sample) measures them once instead of having every
// operator walk the region's spans again; it must be exactly what
// Tensor.Runs and Rows.Elems give, and it is used only when
// RequestBytes matches the run's.
type GatherCost struct {
	RequestBytes, Elems, Requests int64
}

// MeasureGather is the GatherCost of rows r of t for requests of
// requestBytes.
func MeasureGather(t memory.Tensor, r memory.Region, requestBytes int64) GatherCost {
	_, reqs := t.Runs(r, requestBytes)
	return GatherCost{RequestBytes: requestBytes, Elems: r.Elems(), Requests: reqs}
}

// GatherOp is an OpGather of class class.
func GatherOp(class, name string, g Gather) Op {
	return Op{Kind: OpGather, Class: class, Name: name, Gather: &g}
}
