package energy

import (
	"testing"

	"github.com/sparsesim/sparsesim/energy/catalog"
)

// BRAM36 counts of buffers: by capacity, or by port width when wider.
func TestBufferBRAMs(t *testing.T) {
	// A 36 KiB buffer read 72 bits wide fits one BRAM36... of 36 Kb: 8 of them.
	if m := memory(catalog.Devices["xczu9eg"], 36, 72); m.BRAM36 != 8 {
		t.Errorf("36 KiB as BRAM36: %g", m.BRAM36)
	}
	if m := memory(catalog.Devices["xczu9eg"], 1, 64*16); m.BRAM36 != 15 {
		t.Errorf("1 KiB read 1024 bits wide: %g BRAM36, want 15 (width-bound)", m.BRAM36)
	}
}
