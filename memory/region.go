package memory

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Span is the half-open interval [Lo, Hi) of pixel or channel indices.
type Span struct{ Lo, Hi int64 }

// Len is the number of indices in the span.
func (s Span) Len() int64 { return max(0, s.Hi-s.Lo) }

// Seg is a channel interval and the pixels that hold it: the elements
// (p, c) with p in one of Pix and c in C.
type Seg struct {
	C   Span
	Pix []Span // sorted, disjoint, non-adjacent
}

// Region is a set of tensor elements: segments with disjoint channel
// intervals, sorted by channel. The zero value is empty.
type Region struct {
	Segs []Seg
}

// Box is the region of pixels [p0, p1) × channels [c0, c1).
func Box(p0, p1, c0, c1 int64) Region {
	if p1 <= p0 || c1 <= c0 {
		return Region{}
	}
	return Region{Segs: []Seg{{C: Span{c0, c1}, Pix: []Span{{p0, p1}}}}}
}

// Empty reports whether the region holds no element.
func (r Region) Empty() bool { return len(r.Segs) == 0 }

// Elems is the number of elements in the region.
func (r Region) Elems() int64 {
	var n int64
	for _, s := range r.Segs {
		n += s.C.Len() * spansLen(s.Pix)
	}
	return n
}

// bounds is the region's bounding box as (channel lo, pixel lo) and
// (channel hi, pixel hi), half-open; only meaningful for a non-empty region.
func (r Region) bounds() (lo, hi Span) {
	lo = Span{r.Segs[0].C.Lo, r.Segs[0].Pix[0].Lo}
	hi = Span{r.Segs[len(r.Segs)-1].C.Hi, r.Segs[0].Pix[len(r.Segs[0].Pix)-1].Hi}
	for _, s := range r.Segs {
		lo.Hi = min(lo.Hi, s.Pix[0].Lo)
		hi.Hi = max(hi.Hi, s.Pix[len(s.Pix)-1].Hi)
	}
	return lo, hi
}

// String describes the region compactly (for messages and tests).
func (r Region) String() string {
	var b strings.Builder
	for i, s := range r.Segs {
		if i > 0 {
			b.WriteString(" ∪ ")
		}
		fmt.Fprintf(&b, "c[%d,%d)×p", s.C.Lo, s.C.Hi)
		for j, p := range s.Pix {
			if j > 3 {
				fmt.Fprintf(&b, "…(%d spans)", len(s.Pix))
				break
			}
			fmt.Fprintf(&b, "[%d,%d)", p.Lo, p.Hi)
		}
	}
	return b.String()
}

func spansLen(ss []Span) int64 {
	var n int64
	for _, s := range ss {
		n += s.Len()
	}
	return n
}

// normalizeSpans sorts and merges overlapping or adjacent spans.
func normalizeSpans(ss []Span) []Span {
	out := ss[:0:0]
	for _, s := range ss {
		if s.Len() > 0 {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b Span) int { return cmp.Compare(a.Lo, b.Lo) })
	merged := out[:0]
	for _, s := range out {
		if n := len(merged); n > 0 && s.Lo <= merged[n-1].Hi {
			merged[n-1].Hi = max(merged[n-1].Hi, s.Hi)
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// NewRegion builds a region from segments that may overlap in channels
// and whose pixel spans need not be sorted.
func NewRegion(segs []Seg) Region {
	// Fast path: channel intervals already disjoint (the common case).
	clean := make([]Seg, 0, len(segs))
	for _, s := range segs {
		if pix := normalizeSpans(append([]Span(nil), s.Pix...)); len(pix) > 0 && s.C.Len() > 0 {
			clean = append(clean, Seg{C: s.C, Pix: pix})
		}
	}
	slices.SortFunc(clean, func(a, b Seg) int { return cmp.Compare(a.C.Lo, b.C.Lo) })
	disjoint := true
	for i := 1; i < len(clean); i++ {
		if clean[i].C.Lo < clean[i-1].C.Hi {
			disjoint = false
			break
		}
	}
	if disjoint {
		// Merge neighbours with equal pixels to keep the form canonical.
		var r Region
		for _, s := range clean {
			if n := len(r.Segs); n > 0 && r.Segs[n-1].C.Hi == s.C.Lo && equalSpans(r.Segs[n-1].Pix, s.Pix) {
				r.Segs[n-1].C.Hi = s.C.Hi
				continue
			}
			r.Segs = append(r.Segs, s)
		}
		return r
	}
	var r Region
	for _, s := range segs {
		pix := normalizeSpans(append([]Span(nil), s.Pix...))
		if len(pix) == 0 || s.C.Len() == 0 {
			continue
		}
		r = Union(r, Region{Segs: []Seg{{C: s.C, Pix: pix}}})
	}
	return r
}

func unionSpans(a, b []Span) []Span {
	out := make([]Span, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var s Span
		if j >= len(b) || (i < len(a) && a[i].Lo <= b[j].Lo) {
			s = a[i]
			i++
		} else {
			s = b[j]
			j++
		}
		if n := len(out); n > 0 && s.Lo <= out[n-1].Hi {
			out[n-1].Hi = max(out[n-1].Hi, s.Hi)
			continue
		}
		out = append(out, s)
	}
	return out
}

// overlaps reports whether two sorted span lists share an index.
func overlaps(a, b []Span) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].Hi <= b[j].Lo:
			i++
		case b[j].Hi <= a[i].Lo:
			j++
		default:
			return true
		}
	}
	return false
}

// intersectSpans is a ∩ b.
func intersectSpans(a, b []Span) []Span {
	var out []Span
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		lo, hi := max(a[i].Lo, b[j].Lo), min(a[i].Hi, b[j].Hi)
		if lo < hi {
			out = append(out, Span{lo, hi})
		}
		if a[i].Hi < b[j].Hi {
			i++
		} else {
			j++
		}
	}
	return out
}

// minusSpans is a \ b. Regions are values never changed in place, so a
// result with nothing removed shares a's spans.
func minusSpans(a, b []Span) []Span {
	if !overlaps(a, b) {
		return a
	}
	var out []Span
	j := 0
	for _, s := range a {
		lo := s.Lo
		for j < len(b) && b[j].Hi <= lo {
			j++
		}
		k := j
		for k < len(b) && b[k].Lo < s.Hi {
			if b[k].Lo > lo {
				out = append(out, Span{lo, b[k].Lo})
			}
			lo = max(lo, b[k].Hi)
			k++
		}
		if lo < s.Hi {
			out = append(out, Span{lo, s.Hi})
		}
	}
	return out
}

func equalSpans(a, b []Span) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// combine applies op to the pixel sets of a and b over every elementary
// channel interval (the intervals between all segment boundaries of both)
// and merges neighbouring intervals that end with the same pixels.
func combine(a, b Region, op func(pa, pb []Span) []Span) Region {
	if len(a.Segs) == 1 && len(b.Segs) == 1 && a.Segs[0].C == b.Segs[0].C {
		// One channel interval on both sides (boxes, windows of one tap
		// range): no refinement needed.
		if pix := op(a.Segs[0].Pix, b.Segs[0].Pix); len(pix) > 0 {
			return Region{Segs: []Seg{{C: a.Segs[0].C, Pix: pix}}}
		}
		return Region{}
	}
	var cuts []int64
	for _, r := range []Region{a, b} {
		for _, s := range r.Segs {
			cuts = append(cuts, s.C.Lo, s.C.Hi)
		}
	}
	if len(cuts) == 0 {
		return Region{}
	}
	slices.Sort(cuts)
	var out Region
	ia, ib := 0, 0
	for i := 0; i+1 < len(cuts); i++ {
		lo, hi := cuts[i], cuts[i+1]
		if lo == hi {
			continue
		}
		for ia < len(a.Segs) && a.Segs[ia].C.Hi <= lo {
			ia++
		}
		for ib < len(b.Segs) && b.Segs[ib].C.Hi <= lo {
			ib++
		}
		var pa, pb []Span
		if ia < len(a.Segs) && a.Segs[ia].C.Lo <= lo {
			pa = a.Segs[ia].Pix
		}
		if ib < len(b.Segs) && b.Segs[ib].C.Lo <= lo {
			pb = b.Segs[ib].Pix
		}
		pix := op(pa, pb)
		if len(pix) == 0 {
			continue
		}
		if n := len(out.Segs); n > 0 && out.Segs[n-1].C.Hi == lo && equalSpans(out.Segs[n-1].Pix, pix) {
			out.Segs[n-1].C.Hi = hi
			continue
		}
		out.Segs = append(out.Segs, Seg{C: Span{lo, hi}, Pix: pix})
	}
	return out
}

// Union is a ∪ b.
func Union(a, b Region) Region {
	if a.Empty() {
		return b
	}
	if b.Empty() {
		return a
	}
	return combine(a, b, unionSpans)
}

// Minus is a \ b.
func Minus(a, b Region) Region {
	if a.Empty() || b.Empty() {
		return a
	}
	return combine(a, b, minusSpans)
}

// Intersect is a ∩ b.
func Intersect(a, b Region) Region {
	if a.Empty() || b.Empty() {
		return Region{}
	}
	return combine(a, b, intersectSpans)
}
