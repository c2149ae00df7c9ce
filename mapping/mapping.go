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
	// PsumBytes and OutBytes are a partial sum's width in the accumulator
	// and an output's in DRAM (0: WordBytes).
	PsumBytes, OutBytes int
	// SlotBytes is the capacity of one buffer slot per operand (ifmap,
	// filter, ofmap): the whole buffer, or half of it when double buffered.
	SlotBytes [3]int64
	// RequestBytes is the DRAM request size: a tile row shorter than a
	// request still moves a whole one (0: bytes as useful).
	RequestBytes int
	// KeepBytes is what each buffer holds for reuse across folds (the
	// memory model keeps resident tiles in the whole buffer); 0 means
	// SlotBytes.
	KeepBytes [3]int64
	// WeightBuffers is the stationary registers per PE (2: a shadow
	// weight, FoldPipeline); Units the matrix units folds are dealt to
	// in turn (0 or 1: one).
	WeightBuffers, Units int
}

// UnitCount is the matrix units, at least one.
func (a Array) UnitCount() int { return max(1, a.Units) }

// UnitOf is the matrix unit fold i of a layer runs on: consecutive folds
// of the loop order go to consecutive units, so the innermost fold loop
// is the dimension a GEMM is split along (C: N, T: M, R: K, the partial
// sums meeting in the shared accumulator).
func (a Array) UnitOf(fold int) int { return fold % a.UnitCount() }

// keep is operand o's capacity for reuse.
func (a Array) keep(o dataflow.Operand) int64 {
	if a.KeepBytes[o] > 0 {
		return a.KeepBytes[o]
	}
	return a.SlotBytes[o]
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
	// Order is the fold loops, outermost first (the zero value is
	// OrderRowMajor). With K along the rows (ws, is) an order with R
	// inside C and T finishes each output tile before the next, so only
	// one tile of partial sums must stay on chip.
	Order Order
	// TimeTile cuts the streamed dimension into tiles of this many steps
	// (0: one tile, the whole extent). Each tile is a fold of its own: the
	// array refills (preload, skew) per tile, which buys an output or
	// input tile that fits its buffer.
	TimeTile int
}

// Fold is one placement of a tile on the array.
type Fold struct {
	Group    int
	Row, Col int // fold coordinates
	Tile     int // time tile index
	T0, T1   int // the streamed steps [T0, T1) this fold covers
	// Prior: partial sums of this fold's outputs exist from an earlier
	// fold (a K fold or K tile before); Final: this fold completes them.
	Prior, Final bool
	UsedRows     int
	UsedCols     int
	Cycles       int64    // compute cycles (SCALE-Sim's per-fold count)
	MACs         int64    // useful MACs done in this fold
	FetchBytes   [3]int64 // DRAM reads needed before the fold, per operand
	WriteBytes   int64    // ofmap bytes written to DRAM after the fold
	// FetchTransfer and WriteTransfer are the same in whole DRAM requests
	// (Array.RequestBytes): what the bus moves.
	FetchTransfer [3]int64
	WriteTransfer int64
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
	// TimeTiles is the tiles of the streamed dimension, TimeTile their
	// length (the last may be shorter).
	TimeTiles, TimeTile int
	// footprint[o][j] is the bytes of operand o one iteration of the loop
	// at level j touches (the loops inside it at full extent, the others
	// one tile): what must stay in o's buffer for a tile to be reused
	// across that loop. footprint[o][3] is one fold's tile.
	footprint [3][4]int64
	// kDense is the dense K; extent[K] is the kept K when compressed.
	kDense int
	// metaBits is index metadata per kept weight fetched from DRAM.
	metaBits int
	// pipedCompute caches ComputeCycles of a pipelined schedule (a walk
	// over its folds; the mapper asks for it per candidate).
	pipedCompute int64
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
	if s.P.Order == (Order{}) {
		s.P.Order = OrderRowMajor
	}
	if !s.P.Order.valid() {
		return nil, fmt.Errorf("mapping: loop order %q is not a permutation of R, C and T", s.P.Order.String())
	}
	s.RowFold = ceilDiv(s.extent[df.RowDim], arr.Rows)
	s.ColFold = ceilDiv(s.extent[df.ColDim], arr.Cols)
	s.Pack = 1
	if s.RowFold == 1 && s.ColFold == 1 && p.Groups > 1 {
		s.Pack = max(1, min(arr.Rows/s.extent[df.RowDim], arr.Cols/s.extent[df.ColDim], p.Groups))
	}
	t := s.extent[df.TimeDim]
	s.TimeTile = t
	if p.TimeTile > 0 && p.TimeTile < t && s.Pack == 1 {
		// Packed groups keep their whole streamed extent: tiling is for
		// layers whose tiles outgrow a buffer, which packed ones do not.
		s.TimeTile = p.TimeTile
	}
	s.P.TimeTile = s.TimeTile
	s.TimeTiles = ceilDiv(t, s.TimeTile)
	for _, o := range dataflow.Operands {
		for j := 0; j <= 3; j++ {
			s.footprint[o][j] = s.footprintBytes(o, j)
		}
	}
	return s, nil
}

// trips is the iterations of loop l.
func (s *Schedule) trips(l Loop) int {
	switch l {
	case LoopRow:
		return s.RowFold
	case LoopCol:
		return s.ColFold
	}
	return s.TimeTiles
}

// tileOf is one tile's extent along d.
func (s *Schedule) tileOf(d dataflow.Dim) int {
	switch d {
	case s.DF.RowDim:
		return min(s.Arr.Rows, s.extent[d])
	case s.DF.ColDim:
		return min(s.Arr.Cols, s.extent[d])
	}
	return s.TimeTile
}

// footprintBytes is operand o's data touched by one iteration of the loop
// at level j: along a dimension walked by a loop inside j the whole
// extent, along the others one tile (j = 3: one fold's tile).
func (s *Schedule) footprintBytes(o dataflow.Operand, j int) int64 {
	e := int64(1)
	for _, d := range o.Dims() {
		x := s.extent[d]
		inside := false
		for lv := j + 1; lv < 3; lv++ {
			if s.P.Order[lv].dim(s.DF) == d {
				inside = true
			}
		}
		if !inside {
			x = s.tileOf(d)
		}
		e *= int64(s.stored(o, d, x))
	}
	if o == dataflow.Ofmap {
		return e * int64(s.psumBytes()) // what the accumulator holds
	}
	return e * int64(s.Arr.WordBytes)
}

func (s *Schedule) psumBytes() int {
	if s.Arr.PsumBytes > 0 {
		return s.Arr.PsumBytes
	}
	return s.Arr.WordBytes
}

func (s *Schedule) outBytes() int {
	if s.Arr.OutBytes > 0 {
		return s.Arr.OutBytes
	}
	return s.Arr.WordBytes
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
func (s *Schedule) FoldsPerGroup() int { return s.RowFold * s.ColFold * s.TimeTiles }

// NumFolds is the number of folds of the whole layer.
func (s *Schedule) NumFolds() int {
	if s.Pack > 1 {
		return (s.P.Groups + s.Pack - 1) / s.Pack
	}
	return s.FoldsPerGroup() * s.P.Groups
}

// tileExtent is the extent of dimension d in fold f.
func (s *Schedule) tileExtent(d dataflow.Dim, f *Fold) int {
	switch d {
	case s.DF.RowDim:
		return f.UsedRows
	case s.DF.ColDim:
		return f.UsedCols
	}
	return f.T1 - f.T0
}

func (s *Schedule) tileElems(o dataflow.Operand, f *Fold) int64 {
	ds := o.Dims()
	return int64(s.tileExtent(ds[0], f)) * int64(s.tileExtent(ds[1], f))
}

// storedTileElems is the tile as it sits in SRAM and DRAM (see stored).
func (s *Schedule) storedTileElems(o dataflow.Operand, f *Fold) int64 {
	e := int64(1)
	for _, d := range o.Dims() {
		e *= int64(s.stored(o, d, s.tileExtent(d, f)))
	}
	return e
}

// SparsityApplied is the pattern the layer actually runs with.
func (s *Schedule) SparsityApplied() nm.Pattern { return s.P.Sparsity }

// indexes decodes fold j of a group into each loop level's index.
func (s *Schedule) indexes(j int) (idx [3]int) {
	for lv := 2; lv >= 0; lv-- {
		n := s.trips(s.P.Order[lv])
		idx[lv] = j % n
		j /= n
	}
	return idx
}

// reused reports whether operand o's tile at fold idx (after fold prev,
// outermost changed level k) is one it already had: the same tile as the
// previous fold, or a revisit within the reach of its buffer. fresh says
// the tile was never fetched before in this group.
func (s *Schedule) reused(o dataflow.Operand, idx [3]int, k int) (kept, fresh bool) {
	slot := s.Arr.keep(o)
	indexes := func(lv int) bool { return o.Indexes(s.P.Order[lv].dim(s.DF)) && s.trips(s.P.Order[lv]) > 1 }
	changed := false
	for lv := k; lv < 3; lv++ {
		changed = changed || indexes(lv)
	}
	if !changed { // the same tile as the previous fold
		return s.footprint[o][3] <= slot, false
	}
	// A revisit: the tile was used before, one iteration of a loop that
	// does not index o ago; it survived if what o touched meanwhile fits.
	window := -1
	if !indexes(k) {
		window = k
	} else {
		for lv := k - 1; lv >= 0; lv-- {
			if !indexes(lv) && idx[lv] > 0 {
				window = lv
				break
			}
		}
	}
	if window < 0 {
		return false, true
	}
	return s.footprint[o][window] <= slot, false
}

// Fold returns fold i (0 ≤ i < NumFolds) in execution order.
func (s *Schedule) Fold(i int) Fold {
	if s.Pack > 1 {
		return s.packedFold(i)
	}
	per := s.FoldsPerGroup()
	g, j := i/per, i%per
	idx := s.indexes(j)
	f := Fold{Group: g, LastOfGroup: j == per-1}
	for lv, l := range s.P.Order {
		switch l {
		case LoopRow:
			f.Row = idx[lv]
		case LoopCol:
			f.Col = idx[lv]
		case LoopTime:
			f.Tile = idx[lv]
		}
	}
	// k: the outermost loop level that changed since the previous fold
	// (0 for a group's first fold, where everything is new).
	k := 0
	if j > 0 {
		prev := s.indexes(j - 1)
		for k = 0; k < 3 && prev[k] == idx[k]; k++ {
		}
	}
	f.UsedRows = min(s.Arr.Rows, s.extent[s.DF.RowDim]-f.Row*s.Arr.Rows)
	f.UsedCols = min(s.Arr.Cols, s.extent[s.DF.ColDim]-f.Col*s.Arr.Cols)
	t := s.extent[s.DF.TimeDim]
	f.T0 = f.Tile * s.TimeTile
	f.T1 = min(t, f.T0+s.TimeTile)
	f.Cycles = s.DF.FoldCycles(s.Arr.Rows, s.Arr.Cols, f.T1-f.T0)
	f.MACs = int64(f.UsedRows) * int64(f.UsedCols) * int64(f.T1-f.T0)
	wb := int64(s.Arr.WordBytes)
	for _, o := range []dataflow.Operand{dataflow.Ifmap, dataflow.Filter} {
		elems := s.tileElems(o, &f)
		stored := s.storedTileElems(o, &f)
		f.SRAMReads[o] = stored
		fetch := true
		if j > 0 {
			kept, fresh := s.reused(o, idx, k)
			fetch = fresh || !kept
		}
		if fetch && !s.P.SharedFetch[o] {
			f.FetchBytes[o] = stored * wb
			f.FetchTransfer[o] = s.foldTransfer(o, &f, s.Arr.WordBytes)
			if o == dataflow.Filter && s.metaBits > 0 {
				f.MetadataFetch = (elems*int64(s.metaBits) + 7) / 8
			}
		}
	}
	out := s.tileElems(dataflow.Ofmap, &f)
	f.SRAMWrites[dataflow.Ofmap] = out
	// Partial sums: the loop that walks K reduces. With K along the rows
	// (ws, is) fold rows 1.. add to row 0's outputs; with K streamed (os)
	// time tiles 1.. add to tile 0's.
	red := LoopRow
	if !s.DF.SpatialReduction() {
		red = LoopTime
	}
	lvRed := 0
	for lv, l := range s.P.Order {
		if l == red {
			lvRed = lv
		}
	}
	f.Prior = idx[lvRed] > 0
	f.Final = idx[lvRed] == s.trips(red)-1
	if f.Prior {
		f.SRAMReads[dataflow.Ofmap] = out
	}
	// The partial sums of this output tile survive from its previous K
	// step if what the output touches within one K iteration fits.
	kept := s.footprint[dataflow.Ofmap][lvRed] <= s.Arr.keep(dataflow.Ofmap) &&
		s.footprint[dataflow.Ofmap][3] <= s.Arr.keep(dataflow.Ofmap)
	switch {
	case f.Final:
		f.WriteBytes = out * int64(s.outBytes())
		f.WriteTransfer = s.foldTransfer(dataflow.Ofmap, &f, s.outBytes())
	case !kept:
		f.WriteBytes = out * int64(s.psumBytes()) // partial sums spilled
		f.WriteTransfer = s.foldTransfer(dataflow.Ofmap, &f, s.psumBytes())
	}
	if f.Prior && !kept && !s.P.SharedFetch[dataflow.Ofmap] {
		f.FetchBytes[dataflow.Ofmap] = out * int64(s.psumBytes())
		f.FetchTransfer[dataflow.Ofmap] = s.foldTransfer(dataflow.Ofmap, &f, s.psumBytes())
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
	f.WriteTransfer *= int64(k)
	f.MetadataFetch *= int64(k)
	for o := range f.FetchBytes {
		f.FetchBytes[o] *= int64(k)
		f.FetchTransfer[o] *= int64(k)
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
// changes only the fold count; the last time tile may be shorter). With a
// shadow weight register or several units it is the pipelined time of
// the folds with every operand on chip (FoldPipeline).
func (s *Schedule) ComputeCycles() int64 {
	if s.pipelined() {
		if s.pipedCompute == 0 {
			s.pipedCompute = s.pipelineCycles(0)
		}
		return s.pipedCompute
	}
	t := s.extent[s.DF.TimeDim]
	if s.Pack > 1 || s.TimeTiles == 1 {
		return int64(s.NumFolds()) * s.DF.FoldCycles(s.Arr.Rows, s.Arr.Cols, t)
	}
	last := t - (s.TimeTiles-1)*s.TimeTile
	perPass := int64(s.TimeTiles-1)*s.DF.FoldCycles(s.Arr.Rows, s.Arr.Cols, s.TimeTile) +
		s.DF.FoldCycles(s.Arr.Rows, s.Arr.Cols, last)
	return perPass * int64(s.RowFold*s.ColFold*s.P.Groups)
}

// Shadow reports whether folds run with a shadow weight register: two
// weight buffers and a dataflow that preloads.
func (s *Schedule) Shadow() bool { return s.Arr.WeightBuffers >= 2 && s.DF.Preloads() }

// pipelined: the schedule's time is not the plain sum of its folds.
func (s *Schedule) pipelined() bool { return s.Shadow() || s.Arr.UnitCount() > 1 }

// pipelineCycles runs the folds through one FoldPipeline per unit, each
// fold's operands on chip once the DRAM has moved them (bytesPerCycle ≤ 0:
// at once), transfers one after another on the shared DRAM. Past
// maxPipelineWalk folds the walked part is scaled to the whole layer.
// One walk times both: with every operand on chip (ComputeCycles, kept)
// and behind the DRAM.
func (s *Schedule) pipelineCycles(bytesPerCycle float64) int64 {
	n := s.NumFolds()
	walk := min(n, maxPipelineWalk)
	nu := s.Arr.UnitCount()
	onChip := make([]*FoldPipeline, nu)
	behind := make([]*FoldPipeline, nu)
	for u := range onChip {
		onChip[u] = NewFoldPipeline(s.Arr.Rows, s.Arr.Cols, s.DF.Preloads(), s.Shadow())
		behind[u] = NewFoldPipeline(s.Arr.Rows, s.Arr.Cols, s.DF.Preloads(), s.Shadow())
	}
	var ready float64
	var compute, done int64
	for i := range walk {
		f := s.Fold(i)
		t := int64(f.T1 - f.T0)
		compute = max(compute, onChip[s.Arr.UnitOf(i)].Chunk(0, true, true, t).Done)
		if bytesPerCycle > 0 {
			ready += float64(f.FetchTransfer[0]+f.FetchTransfer[1]+f.FetchTransfer[2]+f.MetadataFetch+f.WriteTransfer) / bytesPerCycle
			done = max(done, behind[s.Arr.UnitOf(i)].Chunk(int64(ready), true, true, t).Done, int64(ready))
		}
	}
	scale := func(c int64) int64 {
		if walk < n {
			return int64(float64(c) * float64(n) / float64(walk))
		}
		return c
	}
	s.pipedCompute = scale(compute)
	if bytesPerCycle > 0 {
		return scale(done)
	}
	return s.pipedCompute
}

// maxPipelineWalk bounds the folds pipelineCycles times one by one (a
// shorter walk misses the reuse a loop order shows late and misranks
// large layers).
const maxPipelineWalk = maxFoldWalk

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
