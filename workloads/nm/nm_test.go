package nm

import (
	"fmt"
	"math"
	"testing"
)

var patterns = []Pattern{{1, 2}, {1, 4}, {2, 4}, {1, 8}, {2, 8}, {4, 8}, {3, 16}, {8, 16}}

func TestPruneKeepsExactlyNLargest(t *testing.T) {
	for _, p := range patterns {
		for _, along := range []bool{true, false} {
			w := Random[float64](37, 29, 7, 0) // odd sizes: partial tail groups
			pr, mask := Prune(w, p, along)
			if err := CheckNM(mask, w.Rows, w.Cols, p, along, true); err != nil {
				t.Fatalf("%s along rows %v: %v", p, along, err)
			}
			// Every kept weight is at least as large as every dropped one
			// of its group.
			for i, keep := range mask {
				if keep != (pr.Data[i] != 0) {
					t.Fatalf("%s: mask and pruned values disagree at %d", p, i)
				}
			}
		}
	}
	// Hand example, groups of 4 along a row: |−5| and 4 are the two largest.
	w := Matrix[int32]{Rows: 1, Cols: 4, Data: []int32{1, -5, 4, 2}}
	pr, _ := Prune(w, Pattern{2, 4}, false)
	if fmt.Sprint(pr.Data) != "[0 -5 4 0]" {
		t.Errorf("2:4 of [1 -5 4 2] = %v, want [0 -5 4 0]", pr.Data)
	}
	// Ties keep the lower index.
	w = Matrix[int32]{Rows: 1, Cols: 4, Data: []int32{3, 3, 3, 3}}
	pr, _ = Prune(w, Pattern{1, 4}, false)
	if fmt.Sprint(pr.Data) != "[3 0 0 0]" {
		t.Errorf("1:4 tie = %v, want [3 0 0 0]", pr.Data)
	}
}

func TestCompressRoundTrip(t *testing.T) {
	for _, p := range patterns {
		w := Random[int32](50, 13, 3, 100)
		pr, _ := Prune(w, p, true)
		c, err := Compress(pr, p)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Decompress(); fmt.Sprint(got.Data) != fmt.Sprint(pr.Data) {
			t.Fatalf("%s: decompress differs", p)
		}
		if len(c.Values) != 13*((50+p.M-1)/p.M)*p.N {
			t.Errorf("%s: %d slots", p, len(c.Values))
		}
		packed := PackIndices(c.Index, p.IndexBits())
		if len(packed) != c.MetadataBytes() {
			t.Errorf("%s: packed %d bytes, MetadataBytes %d", p, len(packed), c.MetadataBytes())
		}
		if fmt.Sprint(UnpackIndices(packed, p.IndexBits(), len(c.Index))) != fmt.Sprint(c.Index) {
			t.Errorf("%s: index pack/unpack differs", p)
		}
	}
	// 2:4 metadata is 2 bits per kept weight, 4 bits a group, as NVIDIA's.
	if (Pattern{2, 4}).IndexBits() != 2 || (Pattern{1, 8}).IndexBits() != 3 || (Pattern{8, 16}).IndexBits() != 4 {
		t.Error("index widths")
	}
	over := Matrix[int32]{Rows: 4, Cols: 1, Data: []int32{1, 2, 3, 0}}
	if _, err := Compress(over, Pattern{2, 4}); err == nil {
		t.Error("a group with 3 nonzeros compressed as 2:4")
	}
}

func TestSparseGEMMEqualsDenseOnPrunedWeights(t *testing.T) {
	for _, p := range patterns {
		// Integers: bit-exact against the triple loop.
		x := Random[int32](33, 40, 1, 50)
		w, _ := Prune(Random[int32](40, 21, 2, 50), p, true)
		c, _ := Compress(w, p)
		if got, want := SparseGEMM(x, c), DenseGEMMRef(x, w); fmt.Sprint(got.Data) != fmt.Sprint(want.Data) {
			t.Fatalf("%s int32: sparse ≠ dense", p)
		}
		// float64 against gonum: each output sums K products of |v| < 1 in
		// a different order, so the error is bounded by K·ε·Σ|x·w| ≤ K²·ε.
		xf := Random[float64](64, 96, 3, 0)
		wf, _ := Prune(Random[float64](96, 48, 4, 0), p, true)
		cf, _ := Compress(wf, p)
		got, want := SparseGEMM(xf, cf), DenseGEMM(xf, wf)
		tol := 96 * 96 * math.Pow(2, -52)
		for i := range got.Data {
			if d := math.Abs(got.Data[i] - want.Data[i]); d > tol {
				t.Fatalf("%s float64: |Δ| = %g > %g", p, d, tol)
			}
		}
	}
}

func TestBDWP(t *testing.T) {
	p := Pattern{2, 8}
	x := Random[int32](16, 64, 1, 20)
	w := Random[int32](64, 32, 2, 20)
	dy := Random[int32](16, 32, 3, 20)
	s, err := BDWP(x, w, dy, p, DenseGEMMRef[int32])
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckNM(s.FwdMask, 64, 32, p, true, false); err != nil {
		t.Errorf("forward mask: %v", err)
	}
	if err := CheckNM(s.BwdMask, 64, 32, p, false, false); err != nil {
		t.Errorf("backward mask: %v", err)
	}
	for i := range s.BwdMask {
		if s.BwdMask[i] && !s.FwdMask[i] {
			t.Fatal("backward mask keeps a weight the forward mask dropped")
		}
	}
	wf := s.Fwd.Decompress()
	if fmt.Sprint(s.Y.Data) != fmt.Sprint(DenseGEMMRef(x, wf).Data) {
		t.Error("Y ≠ X·(W∘fwd)")
	}
	wb := s.Bwd.Decompress() // N×K
	if fmt.Sprint(s.DX.Data) != fmt.Sprint(DenseGEMMRef(dy, wb).Data) {
		t.Error("dX ≠ dY·(W∘fwd∘bwd)ᵀ")
	}
	if fmt.Sprint(s.DW.Data) != fmt.Sprint(DenseGEMMRef(x.T(), dy).Data) {
		t.Error("dW ≠ Xᵀ·dY (dense)")
	}
}

func TestParse(t *testing.T) {
	for s, want := range map[string]Pattern{"dense": {}, "2:4": {2, 4}, "1:8": {1, 8}, "": {}} {
		if p, err := Parse(s); err != nil || p != want {
			t.Errorf("%q → %v %v", s, p, err)
		}
	}
	for _, s := range []string{"4:4", "0:4", "2:", "2:4x", "a:b", "5:3", "1:128"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if (Pattern{2, 4}).Kept(10) != 4+2 || (Pattern{2, 8}).Kept(147) != 18*2+2 {
		t.Errorf("Kept: %d %d", (Pattern{2, 4}).Kept(10), (Pattern{2, 8}).Kept(147))
	}
}
