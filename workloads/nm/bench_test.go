package nm

import (
	"fmt"
	"testing"
)

// 1024×1024 by 1024×1024: dense through gonum, sparse through the
// compressed kernel; the issue asks sparse ≥ 0.7·M/N × dense.
func BenchmarkGEMM1024(b *testing.B) {
	x := Random[float64](1024, 1024, 1, 0)
	w := Random[float64](1024, 1024, 2, 0)
	b.Run("dense-gonum", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			DenseGEMM(x, w)
		}
	})
	for _, p := range []Pattern{{2, 4}, {2, 8}, {1, 8}} {
		pr, _ := Prune(w, p, true)
		c, _ := Compress(pr, p)
		b.Run(fmt.Sprintf("sparse-%d:%d", p.N, p.M), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				SparseGEMM(x, c)
			}
		})
	}
}
