package memory

import (
	"math/rand/v2"
	"testing"
)

// elems enumerates a region's elements (brute force) as p·stride + c.
func elems(r Region, stride int64) map[int64]bool {
	out := map[int64]bool{}
	for _, s := range r.Segs {
		for _, p := range s.Pix {
			for q := p.Lo; q < p.Hi; q++ {
				for c := s.C.Lo; c < s.C.Hi; c++ {
					out[q*stride+c] = true
				}
			}
		}
	}
	return out
}

func randRegion(rng *rand.Rand) Region {
	var segs []Seg
	for range rng.IntN(4) {
		c0 := rng.Int64N(12)
		seg := Seg{C: Span{c0, c0 + 1 + rng.Int64N(6)}}
		for range 1 + rng.IntN(4) {
			p0 := rng.Int64N(40)
			seg.Pix = append(seg.Pix, Span{p0, p0 + 1 + rng.Int64N(8)})
		}
		segs = append(segs, seg)
	}
	return NewRegion(segs)
}

// The region algebra against sets of elements.
func TestRegionAlgebraMatchesSets(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const stride = 100
	for i := 0; i < 3000; i++ {
		a, b := randRegion(rng), randRegion(rng)
		ea, eb := elems(a, stride), elems(b, stride)
		if int64(len(ea)) != a.Elems() {
			t.Fatalf("Elems %d, set %d for %v", a.Elems(), len(ea), a)
		}
		u, m, x := elems(Union(a, b), stride), elems(Minus(a, b), stride), elems(Intersect(a, b), stride)
		for e := range ea {
			if !u[e] || m[e] == eb[e] || x[e] != eb[e] {
				t.Fatalf("element %d wrong: a=%v b=%v", e, a, b)
			}
		}
		for e := range eb {
			if !u[e] {
				t.Fatalf("union misses %d", e)
			}
		}
		if len(u) != len(ea)+len(eb)-len(x) {
			t.Fatalf("|a∪b| %d ≠ |a|+|b|−|a∩b|", len(u))
		}
	}
}

// Conv.Window against the im2col definition element by element: every
// (output pixel, K column) of the tile maps to its input element unless
// it falls in the padding.
func TestConvWindowMatchesIm2col(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 400; i++ {
		cv := Conv{Batch: 1 + rng.IntN(2), InH: 1 + rng.IntN(9), InW: 1 + rng.IntN(9), FilterH: 1 + rng.IntN(4), FilterW: 1 + rng.IntN(4),
			Stride: 1 + rng.IntN(3), PadH: rng.IntN(2)}
		cv.PadW = cv.PadH
		groups := 1 + rng.IntN(3)
		cv.GroupChannels = 1 + rng.IntN(4)
		cv.Channels = groups * cv.GroupChannels
		cv.OutH = (cv.InH+2*cv.PadH-cv.FilterH)/cv.Stride + 1
		cv.OutW = (cv.InW+2*cv.PadW-cv.FilterW)/cv.Stride + 1
		if cv.OutH <= 0 || cv.OutW <= 0 {
			continue
		}
		m := int64(cv.Batch * cv.OutH * cv.OutW)
		k := int64(cv.FilterH * cv.FilterW * cv.GroupChannels)
		g := rng.IntN(groups)
		m0 := rng.Int64N(m)
		m1 := m0 + 1 + rng.Int64N(m-m0)
		k0 := rng.Int64N(k)
		k1 := k0 + 1 + rng.Int64N(k-k0)
		want := map[int64]bool{}
		for mm := m0; mm < m1; mm++ {
			n, oy, ox := mm/int64(cv.OutH*cv.OutW), (mm/int64(cv.OutW))%int64(cv.OutH), mm%int64(cv.OutW)
			for kk := k0; kk < k1; kk++ {
				tap, c := kk/int64(cv.GroupChannels), kk%int64(cv.GroupChannels)
				fy, fx := tap/int64(cv.FilterW), tap%int64(cv.FilterW)
				iy, ix := oy*int64(cv.Stride)+fy-int64(cv.PadH), ox*int64(cv.Stride)+fx-int64(cv.PadW)
				if iy < 0 || ix < 0 || iy >= int64(cv.InH) || ix >= int64(cv.InW) {
					continue
				}
				p := (n*int64(cv.InH)+iy)*int64(cv.InW) + ix
				want[p*int64(cv.Channels)+int64(g*cv.GroupChannels)+c] = true
			}
		}
		got := elems(cv.Window(g, m0, m1, k0, k1), int64(cv.Channels))
		if len(got) != len(want) {
			t.Fatalf("%+v g=%d m[%d,%d) k[%d,%d): %d elements, want %d", cv, g, m0, m1, k0, k1, len(got), len(want))
		}
		for e := range want {
			if !got[e] {
				t.Fatalf("%+v: missing element %d", cv, e)
			}
		}
	}
}

// Runs and requests: a full-row region is one run; a narrow column of a
// wide tensor is one run per pixel, each costing a whole request.
func TestRunsFollowBursts(t *testing.T) {
	tn := Tensor{Pixels: 10, Channels: 64, ElemBits: 8}
	if runs, reqs := tn.Runs(Box(0, 10, 0, 64), 64); runs != 1 || reqs != 10 {
		t.Errorf("full rows: %d runs %d requests, want 1 and 10", runs, reqs)
	}
	if runs, reqs := tn.Runs(Box(0, 10, 0, 32), 64); runs != 10 || reqs != 10 {
		t.Errorf("half rows: %d runs %d requests, want 10 and 10 (32 useful bytes per 64-byte request)", runs, reqs)
	}
	narrow := Tensor{Pixels: 64, Channels: 3, ElemBits: 8}
	if runs, reqs := narrow.Runs(Box(0, 64, 0, 2), 64); runs != 64 || reqs != 3 {
		t.Errorf("2 of 3 channels of 64 pixels: %d runs %d requests, want 64 and 3 (192 bytes in three 64-byte blocks)", runs, reqs)
	}
	if _, reqs := tn.Runs(Box(0, 1, 60, 64), 16); reqs != 1 {
		t.Errorf("4 bytes at offset 60: %d requests of 16 B, want 1", reqs)
	}
	if _, reqs := tn.Runs(Box(0, 1, 14, 18), 16); reqs != 2 {
		t.Errorf("4 bytes straddling a 16-B boundary: %d requests, want 2", reqs)
	}
}

// TestRunsCountDistinctBlocks: the requests Runs charges are exactly the
// distinct aligned blocks the region's elements occupy, found here by
// listing every element's bits — for random regions, element widths,
// channel counts, request sizes and base addresses.
func TestRunsCountDistinctBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < 3000; i++ {
		r := randRegion(rng) // channels below 18
		tn := Tensor{Pixels: 64, Channels: 18 + rng.Int64N(48), ElemBits: []int{4, 8, 16, 32}[rng.IntN(4)],
			Base: uint64(rng.IntN(3)) * uint64([]int{0, 8, 64, 100}[rng.IntN(4)])}
		if rng.IntN(4) == 0 {
			// Whole rows: a gather of token rows.
			seg := Seg{C: Span{0, tn.Channels}}
			for range 1 + rng.IntN(6) {
				p0 := rng.Int64N(56)
				seg.Pix = append(seg.Pix, Span{p0, p0 + 1 + rng.Int64N(8)})
			}
			r = NewRegion([]Seg{seg})
		}
		req := []int64{8, 16, 32, 64, 128}[rng.IntN(5)]
		want := map[int64]bool{}
		for e := range elems(r, tn.Channels) {
			bit := int64(tn.Base)*8 + e*int64(tn.ElemBits)
			for b := bit; b < bit+int64(tn.ElemBits); b++ {
				want[b/(req*8)] = true
			}
		}
		if _, got := tn.Runs(r, req); got != int64(len(want)) {
			t.Fatalf("case %d: %+v in %d channels × %d bits, base %d, %d-B requests: %d requests, %d distinct blocks",
				i, r, tn.Channels, tn.ElemBits, tn.Base, req, got, len(want))
		}
	}
}

// The read buffer's policy, checked against a direct element-level
// replay: LRU over whole requested regions, trimmed to capacity.
func TestReadBufferMatchesElementLRU(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const stride = 100
	tn := Tensor{ID: 1, Pixels: 60, Channels: stride, ElemBits: 8}
	for trial := 0; trial < 200; trial++ {
		capacity := int64(20 + rng.IntN(200))
		b := &ReadBuffer{Capacity: capacity}
		var lru []map[int64]bool // oldest first
		for i := 0; i < 30; i++ {
			r := randRegion(rng)
			want := 0
			er := elems(r, stride)
			held := map[int64]bool{}
			for _, s := range lru {
				for e := range s {
					held[e] = true
				}
			}
			for e := range er {
				if !held[e] {
					want++
				}
			}
			got := b.Request(tn, r).Elems()
			if got != int64(want) {
				t.Fatalf("trial %d request %d: fetched %d, element LRU fetches %d", trial, i, got, want)
			}
			if len(er) > 0 {
				lru = append(lru, er)
			}
			for len(lru) > 0 {
				u := map[int64]bool{}
				for _, s := range lru {
					for e := range s {
						u[e] = true
					}
				}
				if int64(len(u)) <= capacity || (len(lru) == 1 && int64(len(lru[0])) <= capacity) {
					break
				}
				lru = lru[1:]
			}
		}
	}
}
