// Package kvlower lowers a KV-cache sparsity plan's selections to the
// operators of each decode step's attention: the method's selection work
// (page bounds, label-cache or indexer scores, top-k), gathers of the DRAM
// rows it picked, written back metadata, and the attention products over
// what was gathered. workloads/kvsparse decides which tokens each (layer,
// KV head, step) reads; this package decides where they live (the cache,
// metadata and index tensors and their regions) and what reading them
// costs, which is why it sits above workloads, beside inference/ops.
//
// Speed is part of the design: a decode lowers every layer at every step,
// while the plan holds selections for a few sampled layers, heads and
// steps. So a Lowering lowers a step once per sampled layer and copies
// that template under each layer's names, and keeps the regions it builds
// from the plan's token lists with their measured DRAM costs
// (ops.GatherCost) for the steps that reuse them; tests hold the copies
// equal to a fresh lowering and the costs to the memory model's count.
package kvlower
