// Package ops lowers an LLM step to the operators the accelerator's units
// run, one after another: GEMMs for the systolic array, vector and top-k
// jobs, gathers of DRAM rows, and whole-layer attention for the attention
// engine (Lower, Append). Each operator says which unit runs it and which
// report class it counts in, so that inference can time it without
// knowing the model.
//
// It sits above workloads because an operator names hardware: a gather
// reads a memory.Tensor's region (a KV-cache or weight layout in DRAM),
// and a GEMM's operand may already be on chip. The model (workloads/llm)
// and the routing (workloads/moe) stay workload descriptions. The package
// knows no sparsity technique: one plugs in through StepSpec, its
// feed-forward lowering as FFN (activation sparsity, package inference)
// and its attention lowering as an AttentionLowering (EngineAttention
// here, KV-cache sparsity in inference/kvlower).
package ops
