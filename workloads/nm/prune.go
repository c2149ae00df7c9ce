package nm

import (
	"fmt"
	"sort"
)

// Prune keeps the N largest-magnitude weights in each group of M
// consecutive elements. alongRows groups down each column (the K dimension
// of a K×N weight, the input dimension the forward GEMM reduces over);
// otherwise groups run along each row. Ties keep the lower index, so the
// result is deterministic. A tail group shorter than M keeps min(N, len).
// It returns the pruned copy and the keep mask (row-major).
func Prune[T Number](w Matrix[T], p Pattern, alongRows bool) (Matrix[T], []bool) {
	out := NewMatrix[T](w.Rows, w.Cols)
	mask := make([]bool, len(w.Data))
	if p.Dense() {
		copy(out.Data, w.Data)
		for i := range mask {
			mask[i] = true
		}
		return out, mask
	}
	lines, length := w.Cols, w.Rows // groups run down columns
	at := func(line, pos int) int { return pos*w.Cols + line }
	if !alongRows {
		lines, length = w.Rows, w.Cols
		at = func(line, pos int) int { return line*w.Cols + pos }
	}
	order := make([]int, p.M)
	for line := 0; line < lines; line++ {
		for g := 0; g < length; g += p.M {
			n := min(p.M, length-g)
			order = order[:n]
			for j := range order {
				order[j] = j
			}
			sort.SliceStable(order, func(a, b int) bool {
				return abs(w.Data[at(line, g+order[a])]) > abs(w.Data[at(line, g+order[b])])
			})
			for _, j := range order[:min(p.N, n)] {
				i := at(line, g+j)
				mask[i] = true
				out.Data[i] = w.Data[i]
			}
		}
	}
	return out, mask
}

// CheckNM reports the first group of w (grouped like Prune) holding more
// than N nonzeros; exact says every full group must hold exactly N
// entries of mask.
func CheckNM(mask []bool, rows, cols int, p Pattern, alongRows, exact bool) error {
	lines, length := cols, rows
	at := func(line, pos int) int { return pos*cols + line }
	if !alongRows {
		lines, length = rows, cols
		at = func(line, pos int) int { return line*cols + pos }
	}
	for line := 0; line < lines; line++ {
		for g := 0; g < length; g += p.M {
			n := min(p.M, length-g)
			kept := 0
			for j := 0; j < n; j++ {
				if mask[at(line, g+j)] {
					kept++
				}
			}
			if kept > p.N || (exact && kept != min(p.N, n)) {
				return fmt.Errorf("line %d group at %d keeps %d of %d (pattern %s)", line, g, kept, n, p)
			}
		}
	}
	return nil
}
