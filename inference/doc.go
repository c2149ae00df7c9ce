// Package inference runs an LLM's phases on an accelerator: it turns a
// model's prefill and decode steps into operators (GEMMs, vector and top-k
// jobs, gathers, engine attention; inference/ops), runs them on the
// engines of arch/systolic and arch/attention and on arch's vector unit
// and gather DMA, and adds them up into per-step, per-phase and per-class
// results.
//
// Repeated work is measured once: a memo runner simulates each distinct
// operator from the boundary state it starts in and reuses the result
// where that is exact; the replay runner puts every operator on one engine
// (--no-memo), and tests hold the two equal. The sparsity techniques'
// effects on a run live here too: KV-cache sparsity's selections lowered
// to gathers and attention (SimulateKVSparse, with inference/kvlower), MoE
// routing's expert GEMMs (SweepMoEBatch) and FFN activation sparsity's row
// gathers (SimulateActSparse). Run is the one call that picks among them
// from a configuration.
package inference
