package memory

// MaxRetained bounds how many regions a buffer remembers: past it the
// oldest entry is folded into the next one of its tensor (no data is
// lost, it just ages as that entry). It keeps residency checks cheap
// (docs/memory.md).
const MaxRetained = 128

type entry struct {
	t      Tensor
	r      Region
	pinned bool
}

// held is an ordered set of entries (oldest first) with the union of each
// tensor's entries cached, so a request costs one union and only an
// eviction recomputes.
type held struct {
	entries []entry
	unions  []tensorUnion
}

type tensorUnion struct {
	id    int
	t     Tensor
	r     Region
	bytes int64
	// sum is the entries' element count: equal to the union's when the
	// entries are pairwise disjoint, and then an eviction just subtracts.
	sum int64
}

func (h *held) union(id int) *tensorUnion {
	for i := range h.unions {
		if h.unions[i].id == id {
			return &h.unions[i]
		}
	}
	return nil
}

// resident is the part of r of t that is held.
func (h *held) missing(t Tensor, r Region) Region {
	if u := h.union(t.ID); u != nil {
		return Minus(r, u.r)
	}
	return r
}

func (h *held) push(e entry) {
	if e.r.Empty() && !e.pinned {
		return
	}
	h.entries = append(h.entries, e)
	n := e.r.Elems()
	if u := h.union(e.t.ID); u != nil {
		u.r = Union(u.r, e.r)
		u.bytes = e.t.Bytes(u.r.Elems())
		u.sum += n
		return
	}
	h.unions = append(h.unions, tensorUnion{id: e.t.ID, t: e.t, r: e.r, bytes: e.t.Bytes(n), sum: n})
}

// drop removes entry i, updating its tensor's union.
func (h *held) drop(i int) {
	e := h.entries[i]
	h.entries = append(h.entries[:i], h.entries[i+1:]...)
	u := h.union(e.t.ID)
	disjoint := u.sum == u.r.Elems()
	u.sum -= e.r.Elems()
	u.r = Minus(u.r, e.r)
	if !disjoint && !e.r.Empty() {
		// Put back the parts of e that other entries still hold; only
		// entries whose bounds meet e's can.
		lo, hi := e.r.bounds()
		for _, f := range h.entries {
			if f.t.ID != e.t.ID || f.r.Empty() {
				continue
			}
			if flo, fhi := f.r.bounds(); flo.Lo < hi.Lo && lo.Lo < fhi.Lo && flo.Hi < hi.Hi && lo.Hi < fhi.Hi {
				u.r = Union(u.r, Intersect(f.r, e.r))
			}
		}
	}
	u.bytes = e.t.Bytes(u.r.Elems())
	if u.r.Empty() {
		h.rebuild(e.t.ID)
	}
}

func (h *held) bytes() int64 {
	var n int64
	for _, u := range h.unions {
		n += u.bytes
	}
	return n
}

// rebuild recomputes the unions of the tensors in ids.
func (h *held) rebuild(ids ...int) {
	for _, id := range ids {
		var r Region
		var t Tensor
		var sum int64
		found := false
		for _, e := range h.entries {
			if e.t.ID == id {
				r, t, found = Union(r, e.r), e.t, true
				sum += e.r.Elems()
			}
		}
		out := h.unions[:0]
		for _, u := range h.unions {
			if u.id != id {
				out = append(out, u)
			}
		}
		h.unions = out
		if found {
			h.unions = append(h.unions, tensorUnion{id: id, t: t, r: r, bytes: t.Bytes(r.Elems()), sum: sum})
		}
	}
}

// keep drops the entries for which keep is false.
func (h *held) keep(keep func(entry) bool) {
	var ids []int
	out := h.entries[:0]
	for _, e := range h.entries {
		if keep(e) {
			out = append(out, e)
		} else {
			ids = append(ids, e.t.ID)
		}
	}
	h.entries = out
	h.rebuild(ids...)
}

// trim drops the oldest unpinned entries while the held bytes exceed
// capacity or more than MaxRetained entries are kept, calling spill for
// each dropped entry. The newest entry always stays.
func (h *held) trim(capacity int64, spill func(entry)) {
	for len(h.entries) > MaxRetained && h.fold() {
	}
	for len(h.entries) > 0 && (len(h.entries) > MaxRetained || h.bytes() > capacity) {
		i := 0
		for i < len(h.entries) && h.entries[i].pinned {
			i++
		}
		if i == len(h.entries) || (i == len(h.entries)-1 && len(h.entries) > 1 && !h.alone(i, capacity)) {
			return // everything older is in use
		}
		if spill != nil {
			spill(h.entries[i])
		}
		h.drop(i)
	}
}

// fold keeps the entry count bounded without losing data: the oldest
// unpinned entry joins the next unpinned entry of its tensor (and so takes
// that entry's age). It reports whether it found such a pair.
func (h *held) fold() bool {
	for i, e := range h.entries {
		if e.pinned {
			continue
		}
		for j := i + 1; j < len(h.entries); j++ {
			if f := h.entries[j]; !f.pinned && f.t.ID == e.t.ID {
				h.entries[j].r = Union(f.r, e.r)
				h.entries = append(h.entries[:i], h.entries[i+1:]...)
				u := h.union(e.t.ID)
				u.sum = 0
				for _, g := range h.entries {
					if g.t.ID == e.t.ID {
						u.sum += g.r.Elems()
					}
				}
				return true
			}
		}
		return false
	}
	return false
}

// alone reports whether entry i (the newest) is over capacity on its own:
// a streamed region passes through and is not kept.
func (h *held) alone(i int, capacity int64) bool {
	e := h.entries[i]
	return e.t.Bytes(e.r.Elems()) > capacity
}

// ReadBuffer is an on-chip buffer holding operand regions for reuse. Its
// policy (docs/memory.md): a request fetches exactly the part of its
// region not held; the region then becomes the most recent entry; the
// oldest entries are dropped while the union of what is held exceeds
// Capacity bytes (the newest entry always stays).
type ReadBuffer struct {
	Name     string
	Capacity int64
	h        held
}

// Request asks for region r of t and returns the part to fetch from DRAM.
func (b *ReadBuffer) Request(t Tensor, r Region) Region {
	fetch := b.h.missing(t, r)
	b.h.push(entry{t: t, r: r})
	b.h.trim(b.Capacity, nil)
	return fetch
}

// Hold makes the whole of r resident without fetching it (an activation
// left on chip by the previous layer).
func (b *ReadBuffer) Hold(t Tensor, r Region) {
	b.h.push(entry{t: t, r: r})
	b.h.trim(b.Capacity, nil)
}

// Forget drops every entry of tensors for which keep is false (a layer
// boundary: their data is dead).
func (b *ReadBuffer) Forget(keep func(Tensor) bool) {
	b.h.keep(func(e entry) bool { return keep(e.t) })
}

// Held is the bytes the buffer holds now (the union of its entries).
func (b *ReadBuffer) Held() int64 { return b.h.bytes() }

// AccumBuffer holds partial sums between the K folds that add to them.
// Policy (docs/memory.md): before a step, the part of its output region
// not held is read back from DRAM if earlier K folds wrote to it; the
// region is pinned while the step runs. After the step, a final region
// leaves as output (at the output width) and is no longer held; a partial
// one becomes the most recent entry, and the oldest unpinned entries are
// written out (at the accumulator width) while the held bytes exceed
// Capacity.
type AccumBuffer struct {
	Name     string
	Capacity int64
	h        held
}

// Begin prepares output region r of psum tensor t for a step; prior says
// earlier K folds contributed to it. It returns what must be read back.
func (b *AccumBuffer) Begin(t Tensor, r Region, prior bool) Region {
	readBack := Region{}
	if prior {
		readBack = b.h.missing(t, r)
	}
	b.remove(t, r)
	b.h.push(entry{t: t, r: r, pinned: true})
	return readBack
}

// End finishes the step on r: final regions leave (the caller writes them
// at the output width); partial ones stay, and spilled partial sums are
// returned for writing at the accumulator width.
func (b *AccumBuffer) End(t Tensor, r Region, final bool) (spills []Region) {
	b.remove(t, r)
	if !final {
		b.h.push(entry{t: t, r: r})
	}
	b.h.trim(b.Capacity, func(e entry) { spills = append(spills, e.r) })
	return spills
}

// Held is the bytes of partial sums on chip.
func (b *AccumBuffer) Held() int64 { return b.h.bytes() }

// remove takes r out of every entry of t (the step now owns it).
func (b *AccumBuffer) remove(t Tensor, r Region) {
	if b.h.union(t.ID) == nil {
		return
	}
	out := b.h.entries[:0]
	for _, e := range b.h.entries {
		if e.t.ID == t.ID {
			if e.r = Minus(e.r, r); e.r.Empty() {
				continue
			}
		}
		out = append(out, e)
	}
	b.h.entries = out
	b.h.rebuild(t.ID)
}
