// Package systolic is the systolic-array engine, dense and N:M sparse
// (SAT-style), built on arch's components: a controller walks each layer's
// mapping.Schedule fold by fold, prefetching the next fold's tiles into the
// free half of each double buffer while the PE array computes the current
// one, and asks the memory model (through arch.Buffer) for the DRAM tensor
// regions each step reads and writes.
//
// Besides the timed engine it holds the layer memo (identical layers from
// identical boundary states simulated once, exact by construction and
// checked against one-engine runs) and the functional GEMM datapath that
// computes real values in the order the timing model issues folds.
package systolic
