// Package nm holds the Go reference kernels for N:M structured sparsity:
// magnitude pruning that keeps the N largest of every M consecutive
// weights, the compressed format (values plus a log2(M)-bit index per kept
// weight, like NVIDIA's 2:4 metadata), a sparse×dense GEMM that reads the
// compressed format directly, dense GEMM through gonum, and BDWP — the SAT
// training step with N:M weights in the forward and the backward pass and a
// dense weight gradient.
//
// The kernels are the functional ground truth the simulator's N:M PE model
// and the RTL are checked against; they run on all cores.
package nm
