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
}

// Total is every byte that crosses the DRAM bus.
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
	if n > 1 && (s.footprint[dataflow.Ofmap][red] > s.Arr.SlotBytes[dataflow.Ofmap] ||
		s.footprint[dataflow.Ofmap][3] > s.Arr.SlotBytes[dataflow.Ofmap]) {
		spill := out * int64(s.psumBytes()) * int64(n-1)
		t.Write += spill
		t.PsumSpills = spill
		if !s.P.SharedFetch[dataflow.Ofmap] {
			t.Read[dataflow.Ofmap] = spill
		}
	}
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
		if s.footprint[o][lv] > s.Arr.SlotBytes[o] {
			per += (n - 1) * outer
		}
		outer *= n
	}
	return per
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
		}
		t.Metadata += f.MetadataFetch
		t.Write += f.WriteBytes
	}
	return t
}

// EstimateCycles is the mapper's analytic time for a schedule: the array's
// compute cycles or the DRAM traffic at bytesPerCycle, whichever is longer
// (double buffering overlaps the two; with an ideal DRAM, bytesPerCycle ≤ 0,
// only compute counts).
func (s *Schedule) EstimateCycles(bytesPerCycle float64) int64 {
	c := s.ComputeCycles()
	if bytesPerCycle <= 0 {
		return c
	}
	return max(c, int64(float64(s.Estimate().Total())/bytesPerCycle))
}
