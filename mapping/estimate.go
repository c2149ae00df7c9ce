package mapping

import "github.com/sparsesim/sparsesim/dataflow"

// Traffic is a schedule's DRAM traffic as the mapper estimates it, from
// the loop nest and the buffer slots alone (the memory model measures the
// real one): an operand tile is fetched on its first use and again on a
// revisit unless what the operand touched since fits its slot; partial
// sums spill when an output's working set across one K step does not fit
// the accumulator's slot.
type Traffic struct {
	Read       [3]int64 // ifmap, filter, and partial sums read back (ofmap)
	Metadata   int64    // N:M index bytes read with the filter
	Write      int64    // outputs and partial sums spilled
	PsumSpills int64    // of Write, the partial sums
	// Transferred is the same traffic in whole DRAM requests
	// (Array.RequestBytes): what the bus moves, which sets the time.
	Transferred int64
}

// Total is every useful byte read or written (refetches included).
func (t Traffic) Total() int64 {
	return t.Read[0] + t.Read[1] + t.Read[2] + t.Metadata + t.Write
}

// Estimate is the closed form of the per-fold counts (Fold.FetchBytes,
// Fold.WriteBytes summed over every fold), in time independent of the
// fold count: every tile of an operand is fetched equally often, so the
// operand's bytes times the fetches per tile is the traffic.
func (s *Schedule) Estimate() Traffic {
	if s.Pack > 1 {
		return s.sumFolds() // one fold per pack; nothing is reused across groups
	}
	var t Traffic
	groups := int64(s.P.Groups)
	for _, o := range []dataflow.Operand{dataflow.Ifmap, dataflow.Filter} {
		if s.P.SharedFetch[o] {
			continue
		}
		per := s.fetchesPerTile(o)
		t.Read[o] = groups * s.wholeStored(o) * int64(s.Arr.WordBytes) * per
		t.Transferred += groups * s.tilesTransfer(o, s.Arr.WordBytes) * per
		if o == dataflow.Filter && s.metaBits > 0 {
			t.Metadata = groups * per * ((s.wholeElems(o)*int64(s.metaBits) + 7) / 8)
		}
	}
	// Outputs: the reduction loop is the only one that does not index
	// them; their partial sums survive its steps if one step's outputs
	// fit the accumulator's slot.
	red, n := s.reduction()
	out := s.wholeElems(dataflow.Ofmap) * groups
	t.Write = out * int64(s.outBytes())
	t.Transferred += groups * s.tilesTransfer(dataflow.Ofmap, s.outBytes())
	if n > 1 && (s.footprint[dataflow.Ofmap][red] > s.Arr.keep(dataflow.Ofmap) ||
		s.footprint[dataflow.Ofmap][3] > s.Arr.keep(dataflow.Ofmap)) {
		spill := out * int64(s.psumBytes()) * int64(n-1)
		moved := groups * s.tilesTransfer(dataflow.Ofmap, s.psumBytes()) * int64(n-1)
		t.Write += spill
		t.PsumSpills = spill
		t.Transferred += moved
		if !s.P.SharedFetch[dataflow.Ofmap] {
			t.Read[dataflow.Ofmap] = spill
			t.Transferred += moved
		}
	}
	t.Transferred += t.Metadata
	return t
}

// reduction is the level of the loop that walks K and its trips.
func (s *Schedule) reduction() (level, trips int) {
	red := LoopRow
	if !s.DF.SpatialReduction() {
		red = LoopTime
	}
	for lv, l := range s.P.Order {
		if l == red {
			return lv, s.trips(l)
		}
	}
	return 0, 1
}

// fetchesPerTile counts how often each tile of o is fetched: once, plus
// once per revisit whose window (the innermost loop that does not index o
// and moved since the last visit) touches more of o than its slot holds.
// Revisits through loop lv number (n_lv − 1) × the trips of the loops
// outside lv that do not index o.
func (s *Schedule) fetchesPerTile(o dataflow.Operand) int64 {
	per := int64(1)
	outer := int64(1) // trips of non-indexing loops outside lv
	for lv, l := range s.P.Order {
		n := int64(s.trips(l))
		if n == 1 || o.Indexes(l.dim(s.DF)) {
			continue
		}
		if s.footprint[o][lv] > s.Arr.keep(o) {
			per += (n - 1) * outer
		}
		outer *= n
	}
	return per
}

// contiguous is the dimension along which an operand's DRAM rows run (the
// engine's tensors: inputs M×K, weights K×N, outputs M×N, row-major).
func contiguous(o dataflow.Operand) dataflow.Dim {
	if o == dataflow.Ifmap {
		return dataflow.K
	}
	return dataflow.N
}

// transfer is the bytes the bus moves for a tile of rows × width stored
// elements of elemBytes: whole requests per row, or per tile when the
// tile spans whole rows of a one-group tensor (its rows then run on).
func (s *Schedule) transfer(o dataflow.Operand, rows, width int64, elemBytes int) int64 {
	b := rows * width * int64(elemBytes)
	req := int64(s.Arr.RequestBytes)
	if req <= 0 || b == 0 {
		return b
	}
	c := contiguous(o)
	if s.P.Groups == 1 && width == int64(s.stored(o, c, s.extent[c])) {
		return (b + req - 1) / req * req
	}
	return rows * ((width*int64(elemBytes) + req - 1) / req * req)
}

// rowsWidth splits a tile's extents into rows and contiguous width.
func (s *Schedule) rowsWidth(o dataflow.Operand, ext func(d dataflow.Dim) int) (rows, width int64) {
	c := contiguous(o)
	for _, d := range o.Dims() {
		x := int64(s.stored(o, d, ext(d)))
		if d == c {
			width = x
		} else {
			rows = x
		}
	}
	return rows, width
}

// foldTransfer is fold f's tile of o in whole requests.
func (s *Schedule) foldTransfer(o dataflow.Operand, f *Fold, elemBytes int) int64 {
	rows, width := s.rowsWidth(o, func(d dataflow.Dim) int { return s.tileExtent(d, f) })
	return s.transfer(o, rows, width, elemBytes)
}

// tilesTransfer is every tile of o of one group once, in whole requests:
// full tiles and the short last one along each of its two dimensions.
func (s *Schedule) tilesTransfer(o dataflow.Operand, elemBytes int) int64 {
	ds := o.Dims()
	var size, last, count [2]int
	for i, d := range ds {
		size[i] = s.tileOf(d)
		count[i] = ceilDiv(s.extent[d], size[i])
		last[i] = s.extent[d] - (count[i]-1)*size[i]
	}
	var total int64
	for _, a := range [2]bool{false, true} {
		for _, b := range [2]bool{false, true} {
			n := int64(1)
			ext := map[dataflow.Dim]int{}
			for i, isLast := range [2]bool{a, b} {
				if isLast {
					ext[ds[i]] = last[i]
				} else {
					n *= int64(count[i] - 1)
					ext[ds[i]] = size[i]
				}
			}
			if n == 0 {
				continue
			}
			rows, width := s.rowsWidth(o, func(d dataflow.Dim) int { return ext[d] })
			total += n * s.transfer(o, rows, width, elemBytes)
		}
	}
	return total
}

// wholeElems is operand o of one group, as the array sees it.
func (s *Schedule) wholeElems(o dataflow.Operand) int64 {
	ds := o.Dims()
	return int64(s.extent[ds[0]]) * int64(s.extent[ds[1]])
}

// wholeStored is operand o of one group as it sits in DRAM.
func (s *Schedule) wholeStored(o dataflow.Operand) int64 {
	e := int64(1)
	for _, d := range o.Dims() {
		e *= int64(s.stored(o, d, s.extent[d]))
	}
	return e
}

// sumFolds adds up the per-fold counts.
func (s *Schedule) sumFolds() Traffic {
	var t Traffic
	for i := 0; i < s.NumFolds(); i++ {
		f := s.Fold(i)
		for o := range t.Read {
			t.Read[o] += f.FetchBytes[o]
			t.Transferred += f.FetchTransfer[o]
		}
		t.Metadata += f.MetadataFetch
		t.Write += f.WriteBytes
		t.Transferred += f.WriteTransfer + f.MetadataFetch
	}
	return t
}

// EstimateCycles is the mapper's analytic time for a schedule: the array's
// compute cycles or the DRAM traffic at bytesPerCycle, whichever is longer
// (double buffering overlaps the two; with an ideal DRAM, bytesPerCycle ≤ 0,
// only compute counts).
//
// Up to maxFoldWalk folds it walks the folds: each fold takes its compute
// or its own traffic's transfer time, whichever is longer (a double
// buffer hides one behind the other fold by fold, not across the layer);
// past that, the layer-wide maximum.
func (s *Schedule) EstimateCycles(bytesPerCycle float64) int64 {
	if s.pipelined() && bytesPerCycle > 0 {
		return s.pipelineCycles(bytesPerCycle) // also sets ComputeCycles
	}
	c := s.ComputeCycles()
	if bytesPerCycle <= 0 {
		return c
	}
	if n := s.NumFolds(); n <= maxFoldWalk {
		var total float64
		for i := range n {
			f := s.Fold(i)
			b := f.FetchTransfer[0] + f.FetchTransfer[1] + f.FetchTransfer[2] + f.MetadataFetch + f.WriteTransfer
			total += max(float64(f.Cycles), float64(b)/bytesPerCycle)
		}
		return int64(total)
	}
	return max(c, int64(float64(s.Estimate().Transferred)/bytesPerCycle))
}

// maxFoldWalk bounds the folds EstimateCycles walks one by one.
const maxFoldWalk = 1 << 12
