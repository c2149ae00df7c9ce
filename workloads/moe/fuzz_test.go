package moe

import (
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/internal/usererr"
)

// FuzzTrace: any input either parses into a trace whose tokens all have k
// distinct experts in range, or is refused with one user-error line that
// names the file; it never panics.
func FuzzTrace(f *testing.F) {
	for _, s := range []string{
		"moe-trace v1 experts=8 k=2\n0 1,2\n* 3,4\n",
		"# c\nmoe-trace v1 experts=4 k=1\n0 3\n1 2\n",
		"moe-trace v1 experts=8 k=2\n0 1,1\n",
		"moe-trace v2 experts=8 k=2\n",
		"moe-trace v1 experts=8 k=2\n0 1,2 3\n",
		"\x00\x01",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tr, err := ParseTrace("f.trace", strings.NewReader(s))
		if err != nil {
			if !usererr.Is(err) || !strings.HasPrefix(err.Error(), "f.trace:") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q: want one user-error line naming the file", err)
			}
			return
		}
		check := func(layer int) {
			for i := 0; i < tr.Tokens(layer); i++ {
				ex := tr.Token(layer, i)
				seen := map[int]bool{}
				for _, e := range ex {
					if e < 0 || e >= tr.Experts || seen[e] {
						t.Fatalf("layer %d token %d: experts %v", layer, i, ex)
					}
					seen[e] = true
				}
				if len(ex) != tr.K {
					t.Fatalf("layer %d token %d: %d experts, k=%d", layer, i, len(ex), tr.K)
				}
			}
		}
		for l := 0; l <= tr.maxLayer; l++ {
			if len(tr.layers[l]) > 0 || len(tr.all) > 0 {
				check(l)
			}
		}
		if len(tr.all) > 0 {
			check(tr.maxLayer + 1)
		}
	})
}
