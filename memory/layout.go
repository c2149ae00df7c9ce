package memory

// Conv is a convolution's input geometry as DRAM holds it: an unpadded
// Batch×InH×InW×Channels tensor (NHWC); the window of output (oy, ox) at
// filter tap (fy, fx) reads input row oy·Stride + fy − PadH and column
// ox·Stride + fx − PadW, and taps that fall in the padding read zeros made
// on chip (never fetched). GroupChannels is the input channels of one
// group (Channels for a normal conv, 1 for depthwise).
type Conv struct {
	Batch, InH, InW, Channels int
	FilterH, FilterW          int
	Stride, PadH, PadW        int
	OutH, OutW                int
	GroupChannels             int
}

// im2col's K index k is tap (fy, fx) and channel c with c fastest:
// k = (fy·FilterW + fx)·GroupChannels + c, SCALE-Sim's order.

// Window is the input region that output pixels [m0, m1) (raster order
// n, oy, ox) of group g read at im2col columns [k0, k1).
func (cv Conv) Window(g int, m0, m1, k0, k1 int64) Region {
	if m1 <= m0 || k1 <= k0 {
		return Region{}
	}
	cg := int64(cv.GroupChannels)
	chOff := int64(g) * cg
	// The K range as taps, each with a channel interval; taps sharing an
	// interval share their pixel footprint's computation.
	type group struct {
		c    Span
		taps [][2]int64
	}
	var groups []group
	for k := k0; k < k1; {
		tap := k / cg
		c := k % cg
		end := min(k1, (tap+1)*cg)
		sp := Span{chOff + c, chOff + c + (end - k)}
		t := [2]int64{tap / int64(cv.FilterW), tap % int64(cv.FilterW)}
		found := false
		for i := range groups {
			if groups[i].c == sp {
				groups[i].taps = append(groups[i].taps, t)
				found = true
				break
			}
		}
		if !found {
			groups = append(groups, group{c: sp, taps: [][2]int64{t}})
		}
		k = end
	}
	segs := make([]Seg, 0, len(groups))
	for _, gr := range groups {
		segs = append(segs, Seg{C: gr.c, Pix: cv.footprint(gr.taps, m0, m1)})
	}
	return NewRegion(segs)
}

// footprint is the sorted pixel spans that output pixels [m0, m1) read
// through the taps: walked input row by input row, so the spans come out
// in address order with no sort.
func (cv Conv) footprint(taps [][2]int64, m0, m1 int64) []Span {
	ow, oh := int64(cv.OutW), int64(cv.OutH)
	inW, inH := int64(cv.InW), int64(cv.InH)
	s, pad := int64(cv.Stride), int64(cv.PadH)
	// Taps by filter row, each with its columns' offsets.
	var fys []int64
	var fxs [][]int64
	for _, t := range taps {
		i := len(fys) - 1
		if i < 0 || fys[i] != t[0] {
			found := -1
			for j, fy := range fys {
				if fy == t[0] {
					found = j
				}
			}
			if found < 0 {
				fys = append(fys, t[0])
				fxs = append(fxs, nil)
				i = len(fys) - 1
			} else {
				i = found
			}
		}
		fxs[i] = append(fxs[i], t[1]-int64(cv.PadW))
	}
	// Input columns output columns [a, b) read through filter row i.
	cols := func(i int, a, b int64) []Span {
		var out []Span
		if s == 1 { // each tap reads a contiguous run of columns
			for _, fx := range fxs[i] {
				if lo, hi := max(0, a+fx), min(inW, b+fx); lo < hi {
					out = append(out, Span{lo, hi})
				}
			}
			return normalizeSpans(out)
		}
		for ox := a; ox < b; ox++ {
			for _, fx := range fxs[i] {
				if ix := ox*s + fx; ix >= 0 && ix < inW {
					out = append(out, Span{ix, ix + 1})
				}
			}
		}
		return normalizeSpans(out)
	}
	full := make([][]Span, len(fys))
	for i := range fys {
		full[i] = cols(i, 0, ow)
	}
	var pix []Span
	add := func(sp Span) {
		if n := len(pix); n > 0 && sp.Lo <= pix[n-1].Hi {
			pix[n-1].Hi = max(pix[n-1].Hi, sp.Hi)
			return
		}
		pix = append(pix, sp)
	}
	rowOf := func(m int64) int64 { return m / ow } // global output row n·OH + oy
	r0, r1 := rowOf(m0), rowOf(m1-1)
	for n := r0 / oh; n <= r1/oh; n++ {
		// Output rows of image n in the range, and their column ranges.
		oyLo, oyHi := max(r0, n*oh)-n*oh, min(r1, n*oh+oh-1)-n*oh
		span := func(oy int64) (int64, int64) {
			g := n*oh + oy
			return max(m0, g*ow) - g*ow, min(m1, g*ow+ow) - g*ow
		}
		iyLo := max(0, oyLo*s+fys[0]-pad)
		iyHi := inH - 1
		for _, fy := range fys {
			iyLo = min(iyLo, max(0, oyLo*s+fy-pad))
		}
		iyMax := int64(0)
		for _, fy := range fys {
			iyMax = max(iyMax, oyHi*s+fy-pad)
		}
		iyHi = min(iyHi, iyMax)
		for iy := iyLo; iy <= iyHi; iy++ {
			var row []Span
			isFull := false
			for i, fy := range fys {
				d := iy + pad - fy
				if d < 0 || d%s != 0 {
					continue
				}
				oy := d / s
				if oy < oyLo || oy > oyHi {
					continue
				}
				a, b := span(oy)
				if a == 0 && b == ow {
					row = unionSpans(row, full[i])
					isFull = isFull || len(full[i]) == 1 && full[i][0] == Span{0, inW}
				} else {
					row = unionSpans(row, cols(i, a, b))
				}
				if isFull {
					break
				}
			}
			base := (n*inH + iy) * inW
			for _, sp := range row {
				add(Span{base + sp.Lo, base + sp.Hi})
			}
		}
	}
	return pix
}

// Pixels is the input tensor's pixel count.
func (cv Conv) Pixels() int64 { return int64(cv.Batch) * int64(cv.InH) * int64(cv.InW) }
