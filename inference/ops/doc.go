// Package ops lowers an LLM step to the operators the accelerator's units
// run, one after another: GEMMs for the systolic array, vector and top-k
// jobs, gathers of DRAM rows, and whole-layer attention for the attention
// engine (Lower, Append). Each operator says which unit runs it and which
// report class it counts in, so that inference can time it without
// knowing the model.
//
// It sits above workloads because an operator names hardware: a gather
// reads a memory.Tensor's region (a KV-cache or weight layout in DRAM),
// and a GEMM's operand may already be on chip. The model (workloads/llm),
// the routing (workloads/moe) and the activation-sparsity selections
// (workloads/actsparse, lowered by SparseFFN) stay workload descriptions;
// a technique that changes how attention is lowered plugs in through
// AttentionLowering (EngineAttention here, inference/kvlower's KV-cache
// sparsity).
package ops
