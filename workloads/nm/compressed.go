package nm

import "fmt"

// Compressed is a K×N weight matrix N:M-compressed along K: for each output
// column, each group of M rows keeps exactly N slots (value + index within
// the group; unused slots hold a zero value). Slot order within a group is
// by increasing index, so decoding is unambiguous.
type Compressed[T Number] struct {
	K, Cols int
	P       Pattern
	Groups  int // ceil(K / M)
	// Values[c*Groups*N + g*N + s] and Index[...] are slot s of group g of
	// column c.
	Values []T
	Index  []uint8
}

// Compress encodes w (K×N) whose columns are N:M along K. A group with more
// than N nonzeros is an error; one with fewer pads with zero values.
func Compress[T Number](w Matrix[T], p Pattern) (Compressed[T], error) {
	if p.Dense() {
		return Compressed[T]{}, fmt.Errorf("nm: cannot compress with the dense pattern")
	}
	g := (w.Rows + p.M - 1) / p.M
	c := Compressed[T]{K: w.Rows, Cols: w.Cols, P: p, Groups: g,
		Values: make([]T, w.Cols*g*p.N), Index: make([]uint8, w.Cols*g*p.N)}
	for col := 0; col < w.Cols; col++ {
		for gi := 0; gi < g; gi++ {
			base := (col*g + gi) * p.N
			s := 0
			for j := 0; j < p.M && gi*p.M+j < w.Rows; j++ {
				v := w.Data[(gi*p.M+j)*w.Cols+col]
				if v == 0 {
					continue
				}
				if s == p.N {
					return Compressed[T]{}, fmt.Errorf("nm: column %d group %d has more than %d nonzeros", col, gi, p.N)
				}
				c.Values[base+s], c.Index[base+s] = v, uint8(j)
				s++
			}
			// Padding slots point at distinct unused positions so the
			// format stays a valid N:M selection (value 0 either way).
			for j := 0; s < p.N; j++ {
				if !c.slotUses(base, s, uint8(j)) {
					c.Index[base+s] = uint8(j)
					s++
				}
			}
		}
	}
	return c, nil
}

func (c Compressed[T]) slotUses(base, filled int, idx uint8) bool {
	for s := 0; s < filled; s++ {
		if c.Index[base+s] == idx {
			return true
		}
	}
	return false
}

// Decompress rebuilds the dense K×N matrix.
func (c Compressed[T]) Decompress() Matrix[T] {
	w := NewMatrix[T](c.K, c.Cols)
	for col := 0; col < c.Cols; col++ {
		for gi := 0; gi < c.Groups; gi++ {
			base := (col*c.Groups + gi) * c.P.N
			for s := 0; s < c.P.N; s++ {
				k := gi*c.P.M + int(c.Index[base+s])
				if v := c.Values[base+s]; v != 0 {
					w.Data[k*c.Cols+col] = v
				}
			}
		}
	}
	return w
}

// MetadataBytes is the packed index size: IndexBits per slot.
func (c Compressed[T]) MetadataBytes() int {
	return (len(c.Index)*c.P.IndexBits() + 7) / 8
}

// PackIndices packs indices of width bits into a little-endian bitstream,
// the layout metadata has in DRAM.
func PackIndices(idx []uint8, width int) []byte {
	out := make([]byte, (len(idx)*width+7)/8)
	for i, v := range idx {
		for b := 0; b < width; b++ {
			if v>>b&1 == 1 {
				bit := i*width + b
				out[bit/8] |= 1 << (bit % 8)
			}
		}
	}
	return out
}

// UnpackIndices reverses PackIndices for n indices.
func UnpackIndices(packed []byte, width, n int) []uint8 {
	out := make([]uint8, n)
	for i := range out {
		for b := 0; b < width; b++ {
			bit := i*width + b
			if packed[bit/8]>>(bit%8)&1 == 1 {
				out[i] |= 1 << b
			}
		}
	}
	return out
}
