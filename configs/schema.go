package configs

import (
	"fmt"
	"math"
	"strings"

	"github.com/sparsesim/sparsesim/dataflow"
)

// Config is a whole accelerator architecture. Field meanings, units and
// ranges are in docs/config.md.
type Config struct {
	Name        string   `yaml:"name" json:"name"`
	Description string   `yaml:"description" json:"description"`
	ClockMHz    float64  `yaml:"clock_mhz" json:"clock_mhz"`
	PEArray     PEArray  `yaml:"pe_array" json:"pe_array"`
	Dataflow    string   `yaml:"dataflow" json:"dataflow"`
	Buffers     Buffers  `yaml:"buffers" json:"buffers"`
	DRAM        DRAM     `yaml:"dram" json:"dram"`
	Sparsity    Sparsity `yaml:"sparsity" json:"sparsity"`
}

// PEArray is the systolic array.
type PEArray struct {
	Rows  int    `yaml:"rows" json:"rows"`
	Cols  int    `yaml:"cols" json:"cols"`
	DType string `yaml:"dtype" json:"dtype"`
}

// Buffers are the three on-chip operand SRAMs.
type Buffers struct {
	IfmapKB        float64 `yaml:"ifmap_kb" json:"ifmap_kb"`
	FilterKB       float64 `yaml:"filter_kb" json:"filter_kb"`
	OfmapKB        float64 `yaml:"ofmap_kb" json:"ofmap_kb"`
	DoubleBuffered bool    `yaml:"double_buffered" json:"double_buffered"`
}

// DRAM is the off-chip memory.
type DRAM struct {
	Model         string  `yaml:"model" json:"model"`
	Preset        string  `yaml:"preset" json:"preset"`
	Channels      int     `yaml:"channels" json:"channels"`
	BandwidthGBps float64 `yaml:"bandwidth_gbps" json:"bandwidth_gbps"`
	LatencyNS     float64 `yaml:"latency_ns" json:"latency_ns"`
	RequestBytes  int     `yaml:"request_bytes" json:"request_bytes"`
}

// Sparsity selects weight sparsity support.
type Sparsity struct {
	// NM is the pattern applied to weight layers: "dense" or "N:M".
	NM string `yaml:"nm" json:"nm"`
}

// DRAM models.
const (
	DRAMIdeal    = "ideal"
	DRAMChannel  = "channel"
	DRAMDetailed = "detailed"
)

var dtypeBytes = map[string]int{"int8": 1, "int16": 2, "int32": 4, "fp16": 2, "bf16": 2, "fp32": 4}

// DTypes lists the supported MAC data types.
var DTypes = []string{"int8", "int16", "int32", "fp16", "bf16", "fp32"}

// WordBytes is the size of one operand word.
func (c *Config) WordBytes() int { return dtypeBytes[c.PEArray.DType] }

// DataflowSpec returns the configured dataflow.
func (c *Config) DataflowSpec() dataflow.Dataflow {
	d, _ := dataflow.Lookup(c.Dataflow)
	return d
}

// BytesPerCycle is one DRAM channel's bandwidth in bytes per accelerator cycle.
func (c *Config) BytesPerCycle() float64 {
	return c.DRAM.BandwidthGBps * 1e9 / (c.ClockMHz * 1e6)
}

// LatencyCycles is the DRAM latency in accelerator cycles, rounded up.
func (c *Config) LatencyCycles() int64 {
	return int64(math.Ceil(c.DRAM.LatencyNS*c.ClockMHz/1e3 - 1e-9))
}

// defaults is what a config that omits a field gets.
func defaults() Config {
	return Config{
		Name: "custom", ClockMHz: 1000,
		PEArray:  PEArray{Rows: 32, Cols: 32, DType: "int8"},
		Dataflow: "ws",
		Buffers:  Buffers{IfmapKB: 64, FilterKB: 64, OfmapKB: 64, DoubleBuffered: true},
		DRAM: DRAM{Model: DRAMChannel, Preset: "ddr4-2400", Channels: 1, BandwidthGBps: 19.2,
			LatencyNS: 50, RequestBytes: 64},
		Sparsity: Sparsity{NM: "dense"},
	}
}

// fieldError is a validation failure at a YAML path.
type fieldError struct {
	path, msg string
}

func (c *Config) validate() []fieldError {
	var errs []fieldError
	bad := func(path, format string, a ...any) {
		errs = append(errs, fieldError{path, fmt.Sprintf(format, a...)})
	}
	intRange := func(path string, v, lo, hi int) {
		if v < lo || v > hi {
			bad(path, "must be an integer from %d to %d, got %d", lo, hi, v)
		}
	}
	posFloat := func(path string, v, hi float64) {
		if !(v > 0 && v <= hi) {
			bad(path, "must be a number above 0 and at most %g, got %g", hi, v)
		}
	}
	posFloat("clock_mhz", c.ClockMHz, 100000)
	intRange("pe_array.rows", c.PEArray.Rows, 1, 4096)
	intRange("pe_array.cols", c.PEArray.Cols, 1, 4096)
	if _, ok := dtypeBytes[c.PEArray.DType]; !ok {
		bad("pe_array.dtype", "unknown data type %q (allowed: %s)", c.PEArray.DType, strings.Join(DTypes, ", "))
	}
	if _, err := dataflow.Lookup(c.Dataflow); err != nil {
		bad("dataflow", "unknown dataflow %q (allowed: %s)", c.Dataflow, strings.Join(dataflow.Names(), ", "))
	}
	posFloat("buffers.ifmap_kb", c.Buffers.IfmapKB, 1<<20)
	posFloat("buffers.filter_kb", c.Buffers.FilterKB, 1<<20)
	posFloat("buffers.ofmap_kb", c.Buffers.OfmapKB, 1<<20)
	switch c.DRAM.Model {
	case DRAMIdeal, DRAMChannel, DRAMDetailed:
	default:
		bad("dram.model", "unknown DRAM model %q (allowed: ideal, channel, detailed)", c.DRAM.Model)
	}
	if c.DRAM.Model == DRAMDetailed {
		if _, ok := DRAMPresets[c.DRAM.Preset]; !ok {
			bad("dram.preset", "unknown preset %q (allowed: %s)", c.DRAM.Preset, strings.Join(PresetNames(), ", "))
		}
	}
	intRange("dram.channels", c.DRAM.Channels, 1, 1024)
	posFloat("dram.bandwidth_gbps", c.DRAM.BandwidthGBps, 1e5)
	if !(c.DRAM.LatencyNS >= 0 && c.DRAM.LatencyNS <= 1e6) {
		bad("dram.latency_ns", "must be a number from 0 to 1e6, got %g", c.DRAM.LatencyNS)
	}
	intRange("dram.request_bytes", c.DRAM.RequestBytes, 1, 1<<20)
	if _, _, err := ParseNM(c.Sparsity.NM); err != nil {
		bad("sparsity.nm", "%v", err)
	}
	return errs
}

// ParseNM parses "dense" (returns 0, 0) or "N:M" with 0 < N < M ≤ 64.
func ParseNM(s string) (n, m int, err error) {
	if s == "" || strings.EqualFold(s, "dense") {
		return 0, 0, nil
	}
	if _, err := fmt.Sscanf(s, "%d:%d", &n, &m); err != nil || fmt.Sprintf("%d:%d", n, m) != s {
		return 0, 0, fmt.Errorf("sparsity pattern %q is not \"dense\" or N:M such as 2:4", s)
	}
	if n <= 0 || m > 64 || n >= m {
		return 0, 0, fmt.Errorf("sparsity pattern %q needs 0 < N < M ≤ 64", s)
	}
	return n, m, nil
}
