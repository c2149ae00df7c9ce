package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/internal/usererr"
)

// oneLine is the contract for a rejected input: a user error, one line,
// no raw control bytes echoed back.
func oneLine(t *testing.T, what string, err error) {
	t.Helper()
	if !usererr.Is(err) {
		t.Fatalf("%s: not a user error: %v", what, err)
	}
	if msg := err.Error(); strings.ContainsAny(msg, "\n\r\x00") {
		t.Fatalf("%s: error is not one clean line: %q", what, msg)
	}
}

// FuzzParseYAML feeds mangled architecture files and --set overrides to
// the strict YAML decoder: it accepts a valid config or refuses with one
// line, never panics.
func FuzzParseYAML(f *testing.F) {
	for _, n := range Embedded() {
		b, _ := EmbeddedSource(n)
		f.Add(b, "pe_array.rows=16")
	}
	f.Add([]byte("pe_array:\n  rows: 40.7\n"), "dram.channels=x")
	f.Add([]byte("\x7fELF\x02\x01"), "")
	f.Add([]byte("sparsity:\n  supported: [2:4, dense]\n"), "sparsity.supported=1:4,2:4")
	f.Add([]byte("energy:\n  overrides: {mac_int8: -1}\n"), "energy.overrides.mac_int8=0.2")
	f.Fuzz(func(t *testing.T, text []byte, set string) {
		var sets []string
		if set != "" {
			sets = strings.Split(set, "\n")
		}
		c, err := Parse("arch.yaml", text, sets)
		if err != nil {
			oneLine(t, "yaml", err)
			return
		}
		if c.PEArray.Rows < 1 || c.PEArray.Cols < 1 || c.ClockMHz <= 0 || c.DRAM.Channels < 1 {
			t.Fatalf("accepted an impossible config: %+v", c)
		}
	})
}

// FuzzScaleSimCfg does the same for SCALE-Sim .cfg files.
func FuzzScaleSimCfg(f *testing.F) {
	if b, err := os.ReadFile("../../shared/reference/scalesim/scale.cfg"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\nDataflow: ws\n"))
	f.Add([]byte("InterfaceBandwidth: USER\nBandwidth: 4\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text []byte) {
		p := filepath.Join(dir, "x.cfg")
		if err := os.WriteFile(p, text, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p, nil)
		if err != nil {
			oneLine(t, "cfg", err)
			return
		}
		if c.PEArray.Rows < 1 || c.PEArray.Cols < 1 {
			t.Fatalf("accepted %+v", c.PEArray)
		}
	})
}
