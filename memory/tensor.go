package memory

import "slices"

// Tensor is one array in DRAM, stored pixel-major and channel-minor:
// element (p, c) sits at Base + (p·Channels + c)·ElemBits/8.
type Tensor struct {
	ID       int // distinct per tensor of a run (buffers key residency on it)
	Layer    int // the layer it belongs to, for the ledger
	Kind     int // the engine's tensor kind (ifmap, filter, …), for the ledger
	Name     string
	Pixels   int64
	Channels int64
	ElemBits int
	Base     uint64
}

// Elems is the tensor's element count.
func (t Tensor) Elems() int64 { return t.Pixels * t.Channels }

// Bytes is the size of n elements, rounded up to whole bytes.
func (t Tensor) Bytes(n int64) int64 { return (n*int64(t.ElemBits) + 7) / 8 }

// Size is the whole tensor in bytes.
func (t Tensor) Size() int64 { return t.Bytes(t.Elems()) }

// All is the region holding every element.
func (t Tensor) All() Region { return Box(0, t.Pixels, 0, t.Channels) }

// Runs counts the contiguous address runs of r in t (a run per pixel span
// of whole rows; else a run per pixel and maximal channel interval) and
// the DRAM requests of requestBytes each that cover them, aligned to
// requestBytes: a request moves a whole aligned block, so a run that
// starts or ends inside a block still moves all of it, and runs that share
// a block (narrow rows next to each other, a pixel's channels split across
// segments) share its one request. Short runs far apart (a gather of
// narrow rows) therefore cost more than their bytes; short runs close
// together cost the blocks they touch.
func (t Tensor) Runs(r Region, requestBytes int64) (runs, requests int64) {
	if r.Empty() {
		return 0, 0
	}
	bits := int64(t.ElemBits)
	reqBits := requestBytes * 8
	rowBits := t.Channels * bits
	base := int64(t.Base) * 8
	// blocks counts the blocks of [startBit, startBit+lenBits) not yet
	// counted; runs arrive in address order, so only the last block
	// counted can be shared.
	last := int64(-1)
	blocks := func(startBit, lenBits int64) int64 {
		first, end := startBit/reqBits, (startBit+lenBits-1)/reqBits
		first = max(first, last+1)
		if end < first {
			return 0
		}
		last = end
		return end - first + 1
	}
	if s := r.Segs[0]; len(r.Segs) == 1 && s.C.Lo == 0 && s.C.Hi == t.Channels {
		// Whole rows: each pixel span is one contiguous run.
		for _, p := range s.Pix {
			runs++
			requests += blocks(base+p.Lo*rowBits, p.Len()*rowBits)
		}
		return runs, requests
	}
	// Rows that start on a block boundary share no block across pixels:
	// one pixel's count holds for a whole span of pixels.
	aligned := rowBits%reqBits == 0 && base%reqBits == 0
	if len(r.Segs) == 1 {
		// One channel interval: a run per pixel.
		c := r.Segs[0].C
		for _, p := range r.Segs[0].Pix {
			runs += p.Len()
			if aligned {
				last = -1
				requests += p.Len() * blocks(c.Lo*bits, c.Len()*bits)
				continue
			}
			for q := p.Lo; q < p.Hi; q++ {
				requests += blocks(base+q*rowBits+c.Lo*bits, c.Len()*bits)
			}
		}
		return runs, requests
	}
	// Several channel intervals. Between consecutive span boundaries of
	// all segments the set of segments a pixel holds is constant: walk
	// those intervals.
	var cuts []int64
	for _, sg := range r.Segs {
		for _, p := range sg.Pix {
			cuts = append(cuts, p.Lo, p.Hi)
		}
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	cursor := make([]int, len(r.Segs))
	var active []Span // channel intervals a pixel of the interval holds, merged
	for i := 0; i+1 < len(cuts); i++ {
		a, b := cuts[i], cuts[i+1]
		active = active[:0]
		for k, sg := range r.Segs {
			for cursor[k] < len(sg.Pix) && sg.Pix[cursor[k]].Hi <= a {
				cursor[k]++
			}
			if cursor[k] < len(sg.Pix) && sg.Pix[cursor[k]].Lo <= a {
				if n := len(active); n > 0 && active[n-1].Hi == sg.C.Lo {
					active[n-1].Hi = sg.C.Hi
				} else {
					active = append(active, sg.C)
				}
			}
		}
		if len(active) == 0 {
			continue
		}
		runs += (b - a) * int64(len(active))
		if aligned {
			last = -1
			var per int64
			for _, c := range active {
				per += blocks(c.Lo*bits, c.Len()*bits)
			}
			requests += (b - a) * per
			continue
		}
		for q := a; q < b; q++ {
			for _, c := range active {
				requests += blocks(base+q*rowBits+c.Lo*bits, c.Len()*bits)
			}
		}
	}
	return runs, requests
}
