package configs

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/sparsesim/sparsesim/internal/usererr"
)

// scaleSimIgnored are SCALE-Sim keys that change nothing sparsesim models:
// address offsets, and v2/v3 request-buffer and trace switches.
var scaleSimIgnored = map[string]bool{
	"IfmapOffset": true, "FilterOffset": true, "OfmapOffset": true,
	"ReadRequestBuffer": true, "WriteRequestBuffer": true,
	"UseRamulatorTrace": true, "MemoryBanks": true,
}

// loadScaleSim reads a SCALE-Sim .cfg. SCALE-Sim has no clock and one-byte
// words; sparsesim assumes 1 GHz, so its USER bandwidth of B words/cycle
// becomes B GB/s on one channel with no latency. CALC becomes the ideal DRAM.
func loadScaleSim(path string, sets []string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usererr.New("--config %s: %v", path, err)
	}
	cfg := defaults()
	// SCALE-Sim walks its own fold order; its files run with it so cycles
	// and reports line up with SCALE-Sim's.
	cfg.Mapping.Search = MappingSCALESim
	cfg.Name = "scalesim"
	cfg.ClockMHz = 1000
	cfg.PEArray.DType = "int8"
	cfg.Buffers.DoubleBuffered = true
	cfg.DRAM = DRAM{Model: DRAMIdeal, Preset: "ddr4-2400", Channels: 1, BandwidthGBps: 10, LatencyNS: 0, RequestBytes: 64}
	lines := map[string]int{}
	interfaceLine := 0
	iface := "CALC"
	sc := bufio.NewScanner(bytes.NewReader(b))
	for ln := 1; sc.Scan(); ln++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || t[0] == '#' || t[0] == ';' || (t[0] == '[' && strings.HasSuffix(t, "]")) {
			continue
		}
		i := strings.IndexAny(t, ":=")
		if i < 0 {
			return nil, usererr.New("%s:%d: expected \"Key: value\", got %q", path, ln, t)
		}
		key, val := strings.TrimSpace(t[:i]), strings.TrimSpace(t[i+1:])
		num := func(field string, dst *float64) error {
			f, err := strconv.ParseFloat(val, 64)
			if err != nil {
				return usererr.New("%s:%d: field %s: expected a number, got %q", path, ln, key, val)
			}
			*dst = f
			lines[field] = ln
			return nil
		}
		var f float64
		switch key {
		case "run_name":
			cfg.Name = val
		case "ArrayHeight", "ArrayWidth":
			if err := num("", &f); err != nil {
				return nil, err
			}
			if key == "ArrayHeight" {
				cfg.PEArray.Rows, lines["pe_array.rows"] = int(f), ln
			} else {
				cfg.PEArray.Cols, lines["pe_array.cols"] = int(f), ln
			}
		case "IfmapSramSzkB":
			err = num("buffers.ifmap_kb", &cfg.Buffers.IfmapKB)
		case "FilterSramSzkB":
			err = num("buffers.filter_kb", &cfg.Buffers.FilterKB)
		case "OfmapSramSzkB":
			err = num("buffers.ofmap_kb", &cfg.Buffers.OfmapKB)
		case "Bandwidth":
			err = num("dram.bandwidth_gbps", &cfg.DRAM.BandwidthGBps)
		case "Dataflow":
			cfg.Dataflow, lines["dataflow"] = strings.ToLower(val), ln
		case "InterfaceBandwidth":
			iface, interfaceLine = strings.ToUpper(val), ln
		default:
			if !scaleSimIgnored[key] {
				return nil, usererr.New("%s:%d: unknown SCALE-Sim key %s", path, ln, key)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	switch iface {
	case "CALC":
		cfg.DRAM.Model = DRAMIdeal
	case "USER":
		cfg.DRAM.Model = DRAMChannel
	default:
		return nil, usererr.New("%s:%d: field InterfaceBandwidth: expected CALC or USER, got %q", path, interfaceLine, iface)
	}
	lines["dram.model"] = interfaceLine
	text, err := yaml.Marshal(&cfg)
	if err != nil {
		return nil, fmt.Errorf("configs: re-encoding %s: %w", path, err)
	}
	return parse(path, text, sets, lines)
}
