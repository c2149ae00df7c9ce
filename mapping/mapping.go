package mapping

import (
	"fmt"

	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

// Array is the PE array and its buffers as the mapper sees them.
type Array struct {
	Rows, Cols int
	WordBytes  int
	// SlotBytes is the capacity of one buffer slot per operand (ifmap,
	// filter, ofmap): the whole buffer, or half of it when double buffered.
	SlotBytes [3]int64
}

// Problem is one GEMM group: (M×K)·(K×N), repeated Groups times.
type Problem struct {
	M, N, K, Groups int
	// Sparsity is the N:M pattern of the filter (weight) operand along K;
	// the zero value is dense. It shortens K only where the dataflow can
	// exploit it (dataflow.CompressesK).
	Sparsity nm.Pattern
	// FilterDenseInDRAM: weights are fetched dense and compressed on chip
	// (masks made on the fly), so filter traffic is not reduced and no
	// metadata is fetched.
	FilterDenseInDRAM bool
	// SharedFetch marks operands whose tiles arrive with another GEMM's
	// (SAT interleave mapping): they cost no DRAM reads here.
	SharedFetch [3]bool
	// ColumnMajor walks column folds in the outer loop and row folds in
	// the inner one (SCALE-Sim's order, the default, is the reverse). With
	// K along the rows (ws, is) it finishes each output tile before the
	// next, so only one tile of partial sums must stay on chip.
	ColumnMajor bool
}

// Fold is one placement of a tile on the array.
type Fold struct {
	Group         int
	Row, Col      int // fold coordinates
	UsedRows      int
	UsedCols      int
	Cycles        int64    // compute cycles (SCALE-Sim's per-fold count)
	MACs          int64    // useful MACs done in this fold
	FetchBytes    [3]int64 // DRAM reads needed before the fold, per operand
	WriteBytes    int64    // ofmap bytes written to DRAM after the fold
	SRAMReads     [3]int64 // words read from each buffer by the array
	SRAMWrites    [3]int64 // words written to each buffer by the array
	LastOfGroup   bool
	MetadataFetch int64 // index bytes fetched with the filter tile (N:M)
}

// Schedule is a layer tiled onto the array.
type Schedule struct {
	DF      dataflow.Dataflow
	Arr     Array
	P       Problem
	extent  [3]int // full extents of M, N, K as laid out (K is KEff)
	RowFold int    // folds along the rows
	ColFold int    // folds along the columns
	// keep[o] says whether operand o survives in its buffer across the
	// folds that reuse it (decided from sizes once per layer).
	keep [3]bool
	// kDense is the dense K; extent[K] is the kept K when compressed.
	kDense int
	// metaBits is index metadata per kept weight fetched from DRAM.
	metaBits int
	// Pack is how many independent groups share one fold, laid block-
	// diagonally (depthwise convolutions, attention heads): when one
	// group's tile is no bigger than the array, Pack groups' tiles sit side
	// by side along the diagonal and the off-diagonal PEs idle.
	Pack int
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// New tiles problem p onto arr with dataflow df.
func New(df dataflow.Dataflow, arr Array, p Problem) (*Schedule, error) {
	if arr.Rows <= 0 || arr.Cols <= 0 || arr.WordBytes <= 0 {
		return nil, fmt.Errorf("mapping: array %dx%d with %d-byte words is not valid", arr.Rows, arr.Cols, arr.WordBytes)
	}
	if p.M <= 0 || p.N <= 0 || p.K <= 0 || p.Groups <= 0 {
		return nil, fmt.Errorf("mapping: GEMM %dx%dx%d (groups %d) is not valid", p.M, p.N, p.K, p.Groups)
	}
	if !df.CompressesK {
		p.Sparsity = nm.Pattern{}
	}
	s := &Schedule{DF: df, Arr: arr, P: p, kDense: p.K}
	s.extent = [3]int{p.M, p.N, p.Sparsity.Kept(p.K)}
	if !p.FilterDenseInDRAM {
		s.metaBits = p.Sparsity.IndexBits()
	}
	s.RowFold = ceilDiv(s.extent[df.RowDim], arr.Rows)
	s.ColFold = ceilDiv(s.extent[df.ColDim], arr.Cols)
	for _, o := range dataflow.Operands {
		s.keep[o] = s.keepBytes(o) <= arr.SlotBytes[o]
	}
	s.Pack = 1
	if s.RowFold == 1 && s.ColFold == 1 && p.Groups > 1 {
		s.Pack = max(1, min(arr.Rows/s.extent[df.RowDim], arr.Cols/s.extent[df.ColDim], p.Groups))
	}
	return s, nil
}

// loopDims are the spatial dimensions walked by the outer and the inner
// fold loop, and the array size along each.
func (s *Schedule) loopDims() (outer, inner dataflow.Dim, outerSize int) {
	if s.P.ColumnMajor {
		return s.DF.ColDim, s.DF.RowDim, s.Arr.Cols
	}
	return s.DF.RowDim, s.DF.ColDim, s.Arr.Rows
}

// keepBytes is what must stay in o's buffer for it to be reused rather than
// refetched: one tile along the outer loop's dimension (it changes only
// there), the whole extent along the inner one (the inner loop cycles
// through all of its tiles before coming back).
func (s *Schedule) keepBytes(o dataflow.Operand) int64 {
	outer, _, outerSize := s.loopDims()
	e := int64(1)
	for _, d := range o.Dims() {
		x := s.extent[d]
		if d == outer {
			x = min(outerSize, x)
		}
		e *= int64(s.stored(o, d, x))
	}
	return e * int64(s.Arr.WordBytes)
}

// stored converts an extent x along d of operand o from the array's view
// (K compressed) to what sits in SRAM and DRAM: activations keep every
// group of M, and so do weights that are compressed only on chip.
func (s *Schedule) stored(o dataflow.Operand, d dataflow.Dim, x int) int {
	kept := s.extent[dataflow.K]
	if d != dataflow.K || kept == s.kDense || (o == dataflow.Filter && !s.P.FilterDenseInDRAM) {
		return x
	}
	return min(s.kDense, (x*s.kDense+kept-1)/kept)
}

// FoldsPerGroup is the number of folds one group takes.
func (s *Schedule) FoldsPerGroup() int { return s.RowFold * s.ColFold }

// NumFolds is the number of folds of the whole layer.
func (s *Schedule) NumFolds() int {
	if s.Pack > 1 {
		return (s.P.Groups + s.Pack - 1) / s.Pack
	}
	return s.FoldsPerGroup() * s.P.Groups
}

// Keeps reports whether operand o stays resident across the folds reusing it.
func (s *Schedule) Keeps(o dataflow.Operand) bool { return s.keep[o] }

// tileExtent is the extent of dimension d in fold (row, col).
func (s *Schedule) tileExtent(d dataflow.Dim, usedRows, usedCols int) int {
	switch d {
	case s.DF.RowDim:
		return usedRows
	case s.DF.ColDim:
		return usedCols
	}
	return s.extent[d]
}

func (s *Schedule) tileElems(o dataflow.Operand, usedRows, usedCols int) int64 {
	ds := o.Dims()
	return int64(s.tileExtent(ds[0], usedRows, usedCols)) * int64(s.tileExtent(ds[1], usedRows, usedCols))
}

// storedTileElems is the tile as it sits in SRAM and DRAM (see stored).
func (s *Schedule) storedTileElems(o dataflow.Operand, usedRows, usedCols int) int64 {
	e := int64(1)
	for _, d := range o.Dims() {
		e *= int64(s.stored(o, d, s.tileExtent(d, usedRows, usedCols)))
	}
	return e
}

// SparsityApplied is the pattern the layer actually runs with.
func (s *Schedule) SparsityApplied() nm.Pattern { return s.P.Sparsity }

// Fold returns fold i (0 ≤ i < NumFolds) in execution order.
func (s *Schedule) Fold(i int) Fold {
	if s.Pack > 1 {
		return s.packedFold(i)
	}
	per := s.FoldsPerGroup()
	g, j := i/per, i%per
	row, col := j/s.ColFold, j%s.ColFold
	outerIdx, innerIdx := row, col
	if s.P.ColumnMajor {
		col, row = j/s.RowFold, j%s.RowFold
		outerIdx, innerIdx = col, row
	}
	outer, inner, _ := s.loopDims()
	f := Fold{Group: g, Row: row, Col: col, LastOfGroup: j == per-1}
	f.UsedRows = min(s.Arr.Rows, s.extent[s.DF.RowDim]-row*s.Arr.Rows)
	f.UsedCols = min(s.Arr.Cols, s.extent[s.DF.ColDim]-col*s.Arr.Cols)
	t := s.extent[s.DF.TimeDim]
	f.Cycles = s.DF.FoldCycles(s.Arr.Rows, s.Arr.Cols, t)
	f.MACs = int64(f.UsedRows) * int64(f.UsedCols) * int64(t)
	wb := int64(s.Arr.WordBytes)
	for _, o := range []dataflow.Operand{dataflow.Ifmap, dataflow.Filter} {
		elems := s.tileElems(o, f.UsedRows, f.UsedCols)
		stored := s.storedTileElems(o, f.UsedRows, f.UsedCols)
		f.SRAMReads[o] = stored
		byOuter, byInner := o.Indexes(outer), o.Indexes(inner)
		fetch := false
		switch {
		case byOuter && byInner:
			fetch = true
		case byOuter: // changes with the outer loop only
			fetch = innerIdx == 0 || !s.keep[o]
		default: // changes with the inner loop: reused on later outer passes if kept
			fetch = outerIdx == 0 || !s.keep[o]
		}
		if fetch && !s.P.SharedFetch[o] {
			f.FetchBytes[o] = stored * wb
			if o == dataflow.Filter && s.metaBits > 0 {
				f.MetadataFetch = (elems*int64(s.metaBits) + 7) / 8
			}
		}
	}
	out := s.tileElems(dataflow.Ofmap, f.UsedRows, f.UsedCols)
	f.SRAMWrites[dataflow.Ofmap] = out
	if !s.DF.SpatialReduction() {
		f.WriteBytes = out * wb
		return f
	}
	// Partial sums: K lies along the rows, so fold rows 1.. add to the
	// outputs of fold row 0.
	if row > 0 {
		f.SRAMReads[dataflow.Ofmap] = out
	}
	lastRow := row == s.RowFold-1
	if s.keep[dataflow.Ofmap] {
		if lastRow {
			f.WriteBytes = out * wb
		}
	} else {
		f.WriteBytes = out * wb
		if row > 0 && !s.P.SharedFetch[dataflow.Ofmap] {
			f.FetchBytes[dataflow.Ofmap] = out * wb
		}
	}
	return f
}

// packedFold is fold i of a packed layer: k = Pack groups (fewer in the
// last fold) each with its whole single-fold tile. Nothing is reused across
// groups, so every tile is fetched and every output written.
func (s *Schedule) packedFold(i int) Fold {
	k := min(s.Pack, s.P.Groups-i*s.Pack)
	one := *s
	one.Pack, one.P.Groups = 1, 1
	f := one.Fold(0)
	f.Group, f.Row, f.Col, f.LastOfGroup = i*s.Pack, 0, 0, true
	f.UsedRows, f.UsedCols = k*f.UsedRows, k*f.UsedCols
	f.MACs *= int64(k)
	f.WriteBytes *= int64(k)
	f.MetadataFetch *= int64(k)
	for o := range f.FetchBytes {
		f.FetchBytes[o] *= int64(k)
		f.SRAMReads[o] *= int64(k)
		f.SRAMWrites[o] *= int64(k)
	}
	return f
}

// MappingEfficiency is the mean fraction of the array a fold uses.
func (s *Schedule) MappingEfficiency() float64 {
	if s.Pack > 1 {
		used := float64(s.P.Groups) * float64(s.extent[s.DF.RowDim]) * float64(s.extent[s.DF.ColDim])
		return used / (float64(s.NumFolds()) * float64(s.Arr.Rows*s.Arr.Cols))
	}
	// Folds differ only in the last row and last column: sum in closed form.
	rowsUsed := s.extent[s.DF.RowDim]
	colsUsed := s.extent[s.DF.ColDim]
	used := float64(rowsUsed) * float64(colsUsed)
	return used / (float64(s.RowFold*s.ColFold) * float64(s.Arr.Rows*s.Arr.Cols))
}

// ComputeCycles is the sum of fold cycles of the whole layer (packing
// changes only the fold count).
func (s *Schedule) ComputeCycles() int64 {
	return int64(s.NumFolds()) * s.DF.FoldCycles(s.Arr.Rows, s.Arr.Cols, s.extent[s.DF.TimeDim])
}

// KeptK is K as the array sees it (N:M-compressed when the dataflow
// exploits it).
func (s *Schedule) KeptK() int { return s.extent[dataflow.K] }

// KDense is the dense K.
func (s *Schedule) KDense() int { return s.kDense }

// MetaBits is the index metadata fetched per kept weight (0: none).
func (s *Schedule) MetaBits() int { return s.metaBits }

// Extent is the full extent of GEMM dimension d as laid out.
func (s *Schedule) Extent(d dataflow.Dim) int { return s.extent[d] }

// StoredK is the dense activation columns behind x kept K positions.
func (s *Schedule) StoredK(x int) int { return s.stored(dataflow.Ifmap, dataflow.K, x) }
