// Package mapping is a layer's mapping as data: how one GEMM layer is
// tiled onto a rows×cols PE array for a dataflow, and in which order the
// tiles run. The dataflow fixes the spatial part (which GEMM dimensions
// lie along the rows and columns, which one streams in time). The
// temporal part is a loop nest over three loops — row folds (R), column
// folds (C) and tiles of the streamed dimension (T) — in an Order,
// outermost first, with the time tile's length: a fold is one placement
// of a tile on the array streaming one time tile.
//
// A Schedule yields its folds on demand (a layer with millions of folds
// costs no memory), each with its compute cycles, the tiles it must fetch
// and the outputs it writes, by a reuse rule: a tile is fetched again only
// when what its operand touched since its last use does not fit the
// buffer. Estimate gives the same traffic in closed form, in useful bytes
// and in whole DRAM requests; EstimateCycles the analytic time. The
// engine (arch/systolic) executes whatever schedule it is given, and its
// mapper searches the mapspace with these costs.
//
// OrderSCALESim is SCALE-Sim v2's fold order — column folds outside row
// folds (its systolic_compute_ws.py/_is.py loop `for fc in
// range(col_fold): for fr in range(row_fold)`), the streamed dimension
// whole; OrderRowMajor, row folds outside, was sparsesim's only order
// before the mapper.
package mapping
