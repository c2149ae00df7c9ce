package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

func TestEmbeddedConfigsLoad(t *testing.T) {
	for _, n := range Embedded() {
		c, err := Load(n, nil)
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if c.Name != n {
			t.Errorf("%s: name field %q differs from the file name", n, c.Name)
		}
	}
	if _, ok := EmbeddedSource(DefaultName); !ok {
		t.Fatalf("default %s is not embedded", DefaultName)
	}
}

func writeTemp(t *testing.T, text string) string {
	p := filepath.Join(t.TempDir(), "arch.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Each kind of bad config gives a user error naming file:line and field.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		sets       []string
		want       []string
	}{
		{"unknown field", "pe_array:\n  rows: 8\n  colls: 8\n", nil, []string{"arch.yaml:3:", "pe_array.colls", "allowed in pe_array: rows, cols, dtype"}},
		{"wrong type", "clock_mhz: 200\npe_array:\n  rows: eight\n", nil, []string{"arch.yaml:3:", "pe_array.rows", "expected an integer", `"eight"`}},
		{"out of range", "pe_array:\n  rows: 8\n  cols: 0\n", nil, []string{"arch.yaml:3:", "pe_array.cols", "from 1 to 4096, got 0"}},
		{"bad enum", "dataflow: rs\n", nil, []string{"arch.yaml:1:", "dataflow", "allowed: os, ws, is, auto"}},
		{"malformed", "pe_array: [1,\n", nil, []string{"arch.yaml:", "malformed YAML"}},
		{"section as scalar", "dram: 5\n", nil, []string{"arch.yaml:1:", "field dram", "expected a mapping"}},
		{"bad set path", "name: t\n", []string{"pe_array.depth=3"}, []string{"--set pe_array.depth=3", "unknown field pe_array.depth"}},
		{"bad set value", "name: t\n", []string{"dram.channels=x"}, []string{"--set dram.channels=x", "expected an integer"}},
		{"set out of range", "name: t\n", []string{"dram.bandwidth_gbps=-1"}, []string{"--set dram.bandwidth_gbps=-1", "above 0"}},
		{"bad nm", "sparsity:\n  nm: 4:2\n", nil, []string{"arch.yaml:2:", "sparsity.nm", "0 < N < M"}},
		{"duplicate", "clock_mhz: 1\nclock_mhz: 2\n", nil, []string{"arch.yaml:"}},
	} {
		_, err := Load(writeTemp(t, tc.text), tc.sets)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if !usererr.Is(err) {
			t.Errorf("%s: %v is not a user error", tc.name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", tc.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is not one line: %q", tc.name, err)
		}
	}
}

func TestSetOverridesAndDefaults(t *testing.T) {
	c, err := Load(writeTemp(t, "pe_array:\n  rows: 8\n"), []string{"pe_array.cols=16", "dataflow=os", "buffers.double_buffered=false"})
	if err != nil {
		t.Fatal(err)
	}
	if c.PEArray.Rows != 8 || c.PEArray.Cols != 16 || c.Dataflow != "os" || c.Buffers.DoubleBuffered {
		t.Errorf("overrides not applied: %+v", c)
	}
	if c.DRAM.Model != DRAMChannel || c.PEArray.DType != "int8" {
		t.Errorf("defaults not applied: %+v", c)
	}
}

// shared/reference/scalesim/scale.cfg: 32×32, 64 KB SRAMs, os, CALC.
func TestScaleSimCfg(t *testing.T) {
	c, err := Load("../../shared/reference/scalesim/scale.cfg", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.PEArray.Rows != 32 || c.PEArray.Cols != 32 || c.Dataflow != "os" || c.DRAM.Model != DRAMIdeal ||
		c.Buffers.IfmapKB != 64 || c.Buffers.FilterKB != 64 || c.Buffers.OfmapKB != 64 {
		t.Errorf("scale.cfg read as %+v", c)
	}
	p := filepath.Join(t.TempDir(), "x.cfg")
	os.WriteFile(p, []byte("[architecture_presets]\nArrayHeight: 16\nArrayWidth: sixteen\n"), 0o644)
	if _, err := Load(p, nil); err == nil || !strings.Contains(err.Error(), "x.cfg:3: field ArrayWidth") {
		t.Errorf("bad cfg value: %v", err)
	}
	os.WriteFile(p, []byte("ArrayHeight: 0\n"), 0o644)
	if _, err := Load(p, nil); err == nil || !strings.Contains(err.Error(), "x.cfg:1: field pe_array.rows") {
		t.Errorf("out-of-range cfg value: %v", err)
	}
	os.WriteFile(p, []byte("Frobnicate: 1\n"), 0o644)
	if _, err := Load(p, nil); err == nil || !strings.Contains(err.Error(), "x.cfg:1: unknown SCALE-Sim key Frobnicate") {
		t.Errorf("unknown cfg key: %v", err)
	}
	os.WriteFile(p, []byte("InterfaceBandwidth: USER\nBandwidth: 4\n"), 0o644)
	c, err = Load(p, nil)
	if err != nil || c.DRAM.Model != DRAMChannel || c.BytesPerCycle() != 4 {
		t.Errorf("USER bandwidth 4 words/cycle: %+v %v", c, err)
	}
}

func TestSupportedPatterns(t *testing.T) {
	c, err := Load(writeTemp(t, "sparsity:\n  nm: 1:8\n  supported: [2:4, 2:8, 4:8]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for req, want := range map[string]string{"1:8": "2:8", "2:8": "2:8", "3:8": "4:8", "1:4": "2:4", "1:16": "dense", "dense": "dense"} {
		p, _ := nm.Parse(req)
		if got := c.Executable(p).String(); got != want {
			t.Errorf("%s runs as %s, want %s", req, got, want)
		}
	}
	c, err = Load(writeTemp(t, "name: t\n"), []string{"sparsity.supported=1:4,2:4"})
	if err != nil || len(c.Sparsity.Supported) != 2 {
		t.Errorf("--set list: %v %v", c, err)
	}
	if _, err := Load(writeTemp(t, "sparsity:\n  supported: [2:4, dense]\n"), nil); err == nil || !strings.Contains(err.Error(), "arch.yaml:2: field sparsity.supported") {
		t.Errorf("dense in supported list: %v", err)
	}
	if _, err := Load(writeTemp(t, "sparsity:\n  supported: {a: 1}\n"), nil); err == nil || !strings.Contains(err.Error(), "arch.yaml:2:") {
		t.Errorf("mapping as list: %v", err)
	}
}

// A mapping file's errors name the file and line; entries need search:
// fixed.
func TestMappingFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", "- layer: conv1\n  order: TCR\n  time_tile: 64\n")
	cfg, err := Load("systolic-32x32", []string{"mapping.search=fixed", "mapping.file=" + good})
	if err != nil || len(cfg.Mapping.Layers) != 1 || cfg.Mapping.LayerMappingOf("conv1").TimeTile != 64 || cfg.Mapping.LayerMappingOf("x").Order != "RCT" {
		t.Fatalf("good file: %v %+v", err, cfg)
	}
	for _, c := range []struct{ text, sets, want string }{
		{"- layer: conv1\n  order: TXR\n", "fixed", "bad.yaml:1: entry 0: order"},
		{"- layer: conv1\n  odrer: TCR\n", "fixed", "bad.yaml:2: unknown field [0].odrer"},
		{"- layer: conv1\n  order: TCR\n  dataflow: rs\n", "fixed", "bad.yaml:1: entry 0: dataflow"},
		{"layer: conv1\n", "fixed", "a YAML list"},
		{"- layer: conv1\n  order: TCR\n", "best", "mapping.search: fixed"},
	} {
		p := write("bad.yaml", c.text)
		_, err := Load("systolic-32x32", []string{"mapping.search=" + c.sets, "mapping.file=" + p})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.text, err, c.want)
		}
	}
}
