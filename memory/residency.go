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
	lo, hi Span // bounding box: (channel, pixel) low corner and high corner
}

func newEntry(t Tensor, r Region, pinned bool) entry {
	e := entry{t: t, r: r, pinned: pinned}
	if !r.Empty() {
		e.lo, e.hi = r.bounds()
	}
	return e
}

// meets reports whether e's bounding box meets r's (a cheap filter before
// exact region arithmetic).
func (e *entry) meets(lo, hi Span) bool {
	return !e.r.Empty() && e.lo.Lo < hi.Lo && lo.Lo < e.hi.Lo && e.lo.Hi < hi.Hi && lo.Hi < e.hi.Hi
}

// held is an ordered set of entries (oldest first). The size of each
// tensor's union is kept as a count, never as a region: a request only
// does arithmetic with the entries whose bounds meet it.
type held struct {
	entries []entry
	unions  []tensorUnion
}

type tensorUnion struct {
	id    int
	t     Tensor
	elems int64 // elements in the union of the tensor's entries
}

func (h *held) union(id int) *tensorUnion {
	for i := range h.unions {
		if h.unions[i].id == id {
			return &h.unions[i]
		}
	}
	return nil
}

// missingExcept is the part of r of t that no entry but skip holds.
func (h *held) missingExcept(t Tensor, r Region, skip int) Region {
	if r.Empty() {
		return r
	}
	lo, hi := r.bounds()
	// By index: an entry is large, and this loop runs for every request.
	for i := range h.entries {
		e := &h.entries[i]
		if i == skip || e.t.ID != t.ID || !e.meets(lo, hi) {
			continue
		}
		if r = Minus(r, e.r); r.Empty() {
			return r
		}
	}
	return r
}

// missing is the part of r of t that is not held.
func (h *held) missing(t Tensor, r Region) Region { return h.missingExcept(t, r, -1) }

func (h *held) push(e entry) {
	if e.r.Empty() && !e.pinned {
		return
	}
	added := h.missing(e.t, e.r).Elems()
	h.entries = append(h.entries, newEntry(e.t, e.r, e.pinned))
	if u := h.union(e.t.ID); u != nil {
		u.elems += added
		return
	}
	h.unions = append(h.unions, tensorUnion{id: e.t.ID, t: e.t, elems: added})
}

// drop removes entry i; the union loses what no other entry holds.
func (h *held) drop(i int) {
	e := h.entries[i]
	lost := h.missingExcept(e.t, e.r, i).Elems()
	if i == 0 {
		// The oldest goes first in the common case: reslicing avoids
		// moving every other entry (append reallocates in amortized
		// constant time once the front is used up).
		h.entries = h.entries[1:]
	} else {
		h.entries = append(h.entries[:i], h.entries[i+1:]...)
	}
	if u := h.union(e.t.ID); u != nil {
		u.elems -= lost
	}
}

func (h *held) bytes() int64 {
	var n int64
	for _, u := range h.unions {
		n += u.t.Bytes(u.elems)
	}
	return n
}

// rebuild recounts every union from the entries.
func (h *held) rebuild() {
	es := h.entries
	h.entries, h.unions = nil, nil
	for _, e := range es {
		if e.r.Empty() && !e.pinned {
			continue
		}
		h.push(e)
	}
}

// keep drops the entries for which keep is false.
func (h *held) keep(keep func(entry) bool) {
	out := h.entries[:0]
	for _, e := range h.entries {
		if keep(e) {
			out = append(out, e)
		}
	}
	h.entries = out
	h.rebuild()
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
				h.entries[j] = newEntry(f.t, Union(f.r, e.r), false)
				if i == 0 {
					h.entries = h.entries[1:] // as drop: no copy of the rest
				} else {
					h.entries = append(h.entries[:i], h.entries[i+1:]...)
				}
				return true // the union is unchanged
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
	b.h.push(newEntry(t, r, true))
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
	u := b.h.union(t.ID)
	if u == nil || r.Empty() {
		return
	}
	u.elems -= r.Elems() - b.h.missing(t, r).Elems() // the union loses r ∩ held
	lo, hi := r.bounds()
	// Entries before the first one r meets stay as they are: start the
	// rewrite there (usually none meets, and nothing is moved).
	first := len(b.h.entries)
	for i := range b.h.entries {
		if e := &b.h.entries[i]; e.t.ID == t.ID && e.meets(lo, hi) {
			first = i
			break
		}
	}
	out := b.h.entries[:first]
	for _, e := range b.h.entries[first:] {
		if e.t.ID == t.ID && e.meets(lo, hi) {
			nr := Minus(e.r, r)
			if nr.Empty() {
				continue
			}
			e = newEntry(e.t, nr, e.pinned)
		}
		out = append(out, e)
	}
	b.h.entries = out
}
