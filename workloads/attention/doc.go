// Package attention holds the Go reference kernels of SpAtten-style sparse
// attention: multi-head attention, cascade token and head pruning, local V
// pruning, progressive quantization (MSBs first, LSBs only when the row's
// top probability is below τ) and the quick-select top-k that the hardware
// engine runs. RunModel executes a whole model on seeded synthetic
// activations and records, per layer and head, the facts the timing model
// needs (tokens fetched, bits, LSB refetches, top-k sizes and the rounds
// quick-select actually took) as traces.AttnRow-like records.
package attention
