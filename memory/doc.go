// Package memory is sparsesim's one memory model: the tensors that sit in
// DRAM, the regions of them an engine asks for, the on-chip buffers that
// keep what they fetched (capacity, double buffering, replacement), the
// DMA that turns a region into DRAM transactions, and the DRAM channel
// timing. Engines ask for tensor regions and never count DRAM bytes
// themselves; arch wraps these models in akita components.
//
// Layout and policies are documented in docs/memory.md:
//   - Tensors are stored pixel-major, channel-minor (NHWC for feature maps,
//     K×N row-major for weights, M×K for GEMM activations). A Region is a set
//     of elements described as channel segments × pixel spans, so a
//     convolution window with its halo is a handful of spans, not an im2col
//     expansion.
//   - A read buffer keeps the regions it was asked for, most recent first,
//     and evicts the oldest while what it keeps exceeds its retention
//     capacity; a request fetches exactly the part not kept.
//   - An accumulator buffer keeps partial sums the same way and writes a
//     partial sum it evicts at the accumulator width, to be read back when
//     the next K fold needs it.
package memory
