package memory

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

// Runs counts the contiguous address runs of r in t and the DRAM requests
// of requestBytes each that cover them, aligned to requestBytes: a run that
// starts or ends inside a request still moves the whole request, so short
// runs (a gather of narrow rows) cost more than their bytes.
func (t Tensor) Runs(r Region, requestBytes int64) (runs, requests int64) {
	bits := int64(t.ElemBits)
	reqBits := requestBytes * 8
	cover := func(startBit, lenBits int64) int64 {
		if lenBits <= 0 {
			return 0
		}
		first := startBit / reqBits
		last := (startBit + lenBits - 1) / reqBits
		return last - first + 1
	}
	rowBits := t.Channels * bits
	base := int64(t.Base) * 8
	for _, s := range r.Segs {
		if s.C.Lo == 0 && s.C.Hi == t.Channels {
			// Whole rows: each pixel span is one contiguous run.
			for _, p := range s.Pix {
				runs++
				requests += cover(base+p.Lo*rowBits, p.Len()*rowBits)
			}
			continue
		}
		segBits := s.C.Len() * bits
		off := s.C.Lo * bits
		for _, p := range s.Pix {
			runs += p.Len()
			if rowBits%reqBits == 0 {
				// Every pixel's run sits at the same offset within its
				// requests: count one and multiply.
				requests += p.Len() * cover(base+p.Lo*rowBits+off, segBits)
				continue
			}
			for q := p.Lo; q < p.Hi; q++ {
				requests += cover(base+q*rowBits+off, segBits)
			}
		}
	}
	return runs, requests
}
