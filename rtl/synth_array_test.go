package rtl

import (
	"os"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/energy/catalog"
)

// The committed table has a whole-array row for every fit and check size,
// and yosys reproduces the smallest one.
func TestSynthArrayTable(t *testing.T) {
	b, err := os.ReadFile("../energy/catalog/rtl_resources.csv")
	if err != nil {
		t.Fatal(err)
	}
	table := string(b)
	sizes := append(append([]catalog.ArraySize(nil), catalog.ArrayFitSizes...), catalog.ArrayCheckSizes...)
	for _, a := range sizes {
		if _, ok := catalog.FindArray(a); !ok {
			t.Errorf("no %s row for %+v (run make rtl-synth)", catalog.ArrayUnit, a)
		}
	}
	if !Available("yosys") {
		t.Log("SKIPPED the yosys re-run: yosys not installed")
		return
	}
	r, err := SynthArray(catalog.ArraySize{R: 4, C: 4, M: 1, W: 8})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table, strings.TrimSuffix(r.CSV(), "\n")) {
		t.Errorf("yosys now gives %s, the table has another row", r.CSV())
	}
}
