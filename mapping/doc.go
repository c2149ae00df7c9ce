// Package mapping tiles one GEMM layer onto a rows×cols PE array for a given
// dataflow: how many folds, the compute cycles of each, which operand tiles
// must come from DRAM before it and which outputs go back after it, and the
// SRAM accesses it makes. Folds are computed on demand, so a layer with
// millions of folds costs no memory.
//
// Loop order: groups outermost, then row folds, then column folds (the order
// SCALE-Sim walks its operand matrices). DRAM reuse follows from the buffer
// sizes: an operand tile is fetched again only when it changed since the
// previous fold, or when it had to be evicted because the operand does not
// fit in one buffer slot (half the buffer when double buffered).
package mapping
