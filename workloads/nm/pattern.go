package nm

import (
	"fmt"
	"math/bits"
	"strings"
)

// Pattern is N:M: at most N nonzeros in every group of M consecutive
// weights. The zero Pattern means dense.
type Pattern struct{ N, M int }

// Dense reports whether p is the dense (no sparsity) pattern.
func (p Pattern) Dense() bool { return p.M == 0 }

func (p Pattern) String() string {
	if p.Dense() {
		return "dense"
	}
	return fmt.Sprintf("%d:%d", p.N, p.M)
}

// Density is the kept fraction N/M (1 when dense).
func (p Pattern) Density() float64 {
	if p.Dense() {
		return 1
	}
	return float64(p.N) / float64(p.M)
}

// IndexBits is the metadata width per kept weight: log2(M) rounded up.
func (p Pattern) IndexBits() int {
	if p.Dense() {
		return 0
	}
	return CeilLog2(p.M)
}

// CeilLog2 is the bits needed to index m things (0 for m < 2): index
// widths, multiplexer levels, comparator-tree depths.
func CeilLog2(m int) int {
	if m < 2 {
		return 0
	}
	return bits.Len(uint(m - 1))
}

// Kept is how many weights of a length-k run survive: N per full group of
// M, and min(N, tail) for a partial tail group.
func (p Pattern) Kept(k int) int {
	if p.Dense() {
		return k
	}
	return k/p.M*p.N + min(p.N, k%p.M)
}

// Parse reads "dense" or "N:M" with 0 < N < M ≤ 64.
func Parse(s string) (Pattern, error) {
	if s == "" || strings.EqualFold(s, "dense") {
		return Pattern{}, nil
	}
	var n, m int
	if _, err := fmt.Sscanf(s, "%d:%d", &n, &m); err != nil || fmt.Sprintf("%d:%d", n, m) != s {
		return Pattern{}, fmt.Errorf("sparsity pattern %q is not \"dense\" or N:M such as 2:4", s)
	}
	if n <= 0 || m > 64 || n >= m {
		return Pattern{}, fmt.Errorf("sparsity pattern %q needs 0 < N < M ≤ 64", s)
	}
	return Pattern{N: n, M: m}, nil
}
