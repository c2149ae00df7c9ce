package llm

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
// (Write; arch/gather.go). Bytes
// names the split its traffic is reported in. The GEMM that uses the rows
// sets workloads.Layer.FilterOnChip.
type Gather struct {
	Tensor memory.Tensor
	Rows   memory.Region
	Bytes  string
	// Tag names what the rows are for a technique's own report (e.g. the
	// kv_sparsity byte kinds); SimulateLLM does not read it.
	Tag string
	// Write makes the op a scatter: the DMA writes the rows from SRAM to
	// DRAM (a new token's metadata), with the same burst accounting.
	Write bool
}

// GatherOp is an OpGather of class class.
func GatherOp(class, name string, g Gather) Op {
	return Op{Kind: OpGather, Class: class, Name: name, Gather: &g}
}
