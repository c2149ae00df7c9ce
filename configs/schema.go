package configs

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/energy/catalog"
	"github.com/sparsesim/sparsesim/mapping"
	"github.com/sparsesim/sparsesim/workloads/actsparse"
	"github.com/sparsesim/sparsesim/workloads/kvsparse"
	"github.com/sparsesim/sparsesim/workloads/moe"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

// Config is a whole accelerator architecture. Field meanings, units and
// ranges are in docs/config.md.
type Config struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description"`
	// Engine is "systolic" (GEMM layers on a PE array) or "spatten"
	// (attention rows on a sparse attention engine).
	Engine   string  `yaml:"engine" json:"engine"`
	ClockMHz float64 `yaml:"clock_mhz" json:"clock_mhz"`
	PEArray  PEArray `yaml:"pe_array" json:"pe_array"`
	// Interconnect joins several matrix units to the shared buffers.
	Interconnect Interconnect `yaml:"interconnect" json:"interconnect"`
	Dataflow     string       `yaml:"dataflow" json:"dataflow"`
	// Mapping chooses each layer's loop order and tiles (docs/mapping.md).
	Mapping   Mapping   `yaml:"mapping" json:"mapping"`
	Buffers   Buffers   `yaml:"buffers" json:"buffers"`
	Memory    Memory    `yaml:"memory" json:"memory"`
	DRAM      DRAM      `yaml:"dram" json:"dram"`
	Sparsity  Sparsity  `yaml:"sparsity" json:"sparsity"`
	SAT       SAT       `yaml:"sat" json:"sat"`
	Attention Attention `yaml:"attention" json:"attention"`
	Energy    Energy    `yaml:"energy" json:"energy"`
	FPGA      FPGA      `yaml:"fpga" json:"fpga"`
	// MoE sets how LLM runs route tokens to experts (configs/moe.go,
	// docs/ffn-moe.md).
	MoE MoE `yaml:"moe" json:"moe"`
	// Vector is the vector unit LLM runs use for norms, activations,
	// RoPE, softmax and residual adds (docs/llm.md).
	Vector VectorUnit `yaml:"vector" json:"vector"`
	// KVCache sets how LLM runs store the attention key/value cache.
	KVCache KVCache `yaml:"kv_cache" json:"kv_cache"`
	// ActivationSparsity selects an FFN activation-sparsity technique for
	// LLM decode (docs/ffn-moe.md).
	ActivationSparsity actsparse.Spec `yaml:"activation_sparsity" json:"activation_sparsity"`
	// KVSparsity chooses which cached keys and values decode reads
	// (workloads/kvsparse/params.go, docs/kv-sparsity.md).
	KVSparsity KVSparsity `yaml:"kv_sparsity" json:"kv_sparsity"`

	// explicit holds the field paths the config's source or a --set
	// gave, sections included (Explicit). A key a run does not read is
	// refused only when given, so that defaults, which every run
	// carries, never are.
	explicit map[string]bool
}

// Explicit reports whether the config's source or a --set gave the field
// at a dotted path (a section counts when any of its fields was given).
// A config not made by Load or Parse has none.
func (c *Config) Explicit(path string) bool { return c.explicit[path] }

// ExplicitIn lists the given fields of a section (e.g. "moe"), as dotted
// paths in schema order.
func (c *Config) ExplicitIn(section string) []string {
	var out []string
	for _, p := range FieldPaths() {
		if strings.HasPrefix(p, section+".") && c.explicit[strings.TrimSuffix(p, ".")] {
			out = append(out, strings.TrimSuffix(p, "."))
		}
	}
	return out
}

// VectorUnit is an element-wise SIMD unit beside the array: Lanes
// elements a cycle, each lane doing OpsPerCycle operations a cycle, a
// result LatencyCycles after its operands arrive.
type VectorUnit struct {
	Lanes         int `yaml:"lanes" json:"lanes"`
	OpsPerCycle   int `yaml:"ops_per_cycle" json:"ops_per_cycle"`
	LatencyCycles int `yaml:"latency_cycles" json:"latency_cycles"`
}

// KVCache is the LLM key/value cache's storage type.
type KVCache struct {
	DType string `yaml:"dtype" json:"dtype"`
}

// KVDTypeBits is the storage width of each KV cache type.
var KVDTypeBits = map[string]int{"fp16": 16, "bf16": 16, "fp8": 8, "int8": 8, "int4": 4}

// KVDTypes lists the KV cache types in the order documentation gives them.
var KVDTypes = []string{"fp16", "bf16", "fp8", "int8", "int4"}

// Energy selects the energy model's technology and tables (docs/energy.md).
type Energy struct {
	TechnologyNM float64 `yaml:"technology_nm" json:"technology_nm"`
	// DRAM is the memory type for energy per bit; empty derives it from
	// dram.preset.
	DRAM string `yaml:"dram" json:"dram"`
	// Overrides replaces table entries, pJ at 45 nm before scaling.
	Overrides map[string]float64 `yaml:"overrides" json:"overrides"`
}

// FPGA names a target device; empty means an ASIC (no resource model).
type FPGA struct {
	Device string `yaml:"device" json:"device"`
}

// Attention is a SpAtten-style engine (docs/spatten.md).
type Attention struct {
	QKMultipliers    int     `yaml:"qk_multipliers" json:"qk_multipliers"`
	PVMultipliers    int     `yaml:"pv_multipliers" json:"pv_multipliers"`
	QKLatency        int     `yaml:"qk_latency" json:"qk_latency"`
	PVLatency        int     `yaml:"pv_latency" json:"pv_latency"`
	SoftmaxLanes     int     `yaml:"softmax_lanes" json:"softmax_lanes"`
	SoftmaxLatency   int     `yaml:"softmax_latency" json:"softmax_latency"`
	TopKComparators  int     `yaml:"topk_comparators" json:"topk_comparators"`
	FullBits         int     `yaml:"full_bits" json:"full_bits"`
	PipelineDepth    int     `yaml:"pipeline_depth" json:"pipeline_depth"`
	TokenPruning     bool    `yaml:"token_pruning" json:"token_pruning"`
	HeadPruning      bool    `yaml:"head_pruning" json:"head_pruning"`
	LocalVPruning    bool    `yaml:"local_v_pruning" json:"local_v_pruning"`
	ProgressiveQuant bool    `yaml:"progressive_quant" json:"progressive_quant"`
	TokenPruneRatio  float64 `yaml:"token_prune_ratio" json:"token_prune_ratio"`
	HeadPruneRatio   float64 `yaml:"head_prune_ratio" json:"head_prune_ratio"`
	VPruneRatio      float64 `yaml:"v_prune_ratio" json:"v_prune_ratio"`
	MSBBits          int     `yaml:"msb_bits" json:"msb_bits"`
	LSBBits          int     `yaml:"lsb_bits" json:"lsb_bits"`
	Tau              float64 `yaml:"tau" json:"tau"`
	Seed             int64   `yaml:"seed" json:"seed"`
	// Unquantized is how a −1 (unquantized) or 10/12-bit K/V width is
	// fetched: "testbench" as SpAtten's RTL testbench does (8-bit words,
	// keys also refetch 4 LSBs; sim/TestSpAtten.scala:74-87) or
	// "full_bits" (one fetch of full_bits-wide words). docs/spatten.md.
	Unquantized string `yaml:"unquantized" json:"unquantized"`
	// QueryScale is the synthetic queries' standard deviation for the
	// kernel workloads: a calibrated input (docs/spatten.md), 1.3.
	QueryScale float64 `yaml:"query_scale" json:"query_scale"`
	// TokenPruneStart and HeadPruneStart are the fractions of layers the
	// kernel workloads leave unpruned before the cascade ramps start
	// (paper: ~15% and ~30%; calibrated inputs, docs/spatten.md).
	TokenPruneStart float64 `yaml:"token_prune_start" json:"token_prune_start"`
	HeadPruneStart  float64 `yaml:"head_prune_start" json:"head_prune_start"`
	// DecodeOnEngine runs LLM decode attention on these attention units
	// (Q×K, softmax, prob×V with the accelerator's buffers as K/V SRAMs
	// and its DRAM) instead of as GEMVs on the array (docs/llm.md).
	DecodeOnEngine bool `yaml:"decode_on_engine" json:"decode_on_engine"`
	// Fused runs LLM attention on the array fused, flash-style: scores
	// stay on chip tile by tile with an online softmax (docs/llm.md).
	// Unset (nil) means on for LLM runs, off with a kv_sparsity method;
	// a pointer so that an explicit setting can be refused where nothing
	// reads it (FusedAttention).
	Fused *bool `yaml:"fused,omitempty" json:"fused,omitempty"`
}

// FusedAttention is whether LLM attention on the systolic array runs
// fused (attention.fused). Unset, it is on, except with a kv_sparsity
// method: the method lowers decode attention itself and is measured
// against the unfused dense decode, so its run stays unfused throughout.
func (c *Config) FusedAttention() bool {
	if f := c.Attention.Fused; f != nil {
		return *f
	}
	return c.KVSparsity.Method == KVNone
}

// PEArray is the systolic array.
type PEArray struct {
	Rows  int    `yaml:"rows" json:"rows"`
	Cols  int    `yaml:"cols" json:"cols"`
	DType string `yaml:"dtype" json:"dtype"`
	// WeightBuffers is the stationary-operand registers a PE holds: 1,
	// or 2 for a shadow weight that loads while the active one computes
	// (TPU v1's weight double-buffering), so a fold's preload hides behind
	// the previous fold and consecutive folds' wavefronts follow each other
	// (docs/mapping.md, "Weight double-buffering").
	WeightBuffers int `yaml:"weight_buffers" json:"weight_buffers"`
	// Units is the number of identical matrix units (each a rows×cols
	// array) that share the buffers and DRAM through the interconnect.
	Units int `yaml:"units" json:"units"`
}

// Interconnect is the crossbar between the shared buffers and the matrix
// units (read only with pe_array.units above 1): each unit has a port of
// PortBytesPerCycle (0: matched to what the unit's edges take, (rows +
// cols) operand words a cycle) and LatencyCycles from buffer to unit.
type Interconnect struct {
	PortBytesPerCycle float64 `yaml:"port_bytes_per_cycle" json:"port_bytes_per_cycle"`
	LatencyCycles     int     `yaml:"latency_cycles" json:"latency_cycles"`
}

// ArrayName names the matrix units: "128x128 bf16", "4x128x128 bf16".
func (c *Config) ArrayName() string {
	s := fmt.Sprintf("%dx%d %s", c.PEArray.Rows, c.PEArray.Cols, c.PEArray.DType)
	if c.PEArray.Units > 1 {
		s = fmt.Sprintf("%dx%s", c.PEArray.Units, s)
	}
	return s
}

// ArrayLine names the matrix units for a report's header, with their
// weight registers when they are shadowed.
func (c *Config) ArrayLine() string {
	if c.PEArray.WeightBuffers > 1 {
		return c.ArrayName() + ", shadow weights,"
	}
	return c.ArrayName()
}

// PEs is the processing elements of every matrix unit.
func (c *Config) PEs() int { return c.PEArray.Rows * c.PEArray.Cols * c.PEArray.Units }

// PortBytes is a unit's port width in bytes a cycle.
func (c *Config) PortBytes() float64 {
	if c.Interconnect.PortBytesPerCycle > 0 {
		return c.Interconnect.PortBytesPerCycle
	}
	return float64((c.PEArray.Rows + c.PEArray.Cols) * c.WordBytes())
}

// Buffers are the three on-chip operand SRAMs.
type Buffers struct {
	IfmapKB        float64 `yaml:"ifmap_kb" json:"ifmap_kb"`
	FilterKB       float64 `yaml:"filter_kb" json:"filter_kb"`
	OfmapKB        float64 `yaml:"ofmap_kb" json:"ofmap_kb"`
	DoubleBuffered bool    `yaml:"double_buffered" json:"double_buffered"`
}

// Memory holds the memory model's policies (docs/memory.md).
type Memory struct {
	// KeepActivations keeps a layer's output on chip as the next layer's
	// input when the whole output fits the ifmap buffer.
	KeepActivations bool `yaml:"keep_activations" json:"keep_activations"`
	// PrefetchNextLayer fetches the next layer's first weight tile while
	// the current layer finishes. Off by default: with it, layer
	// boundaries do not drain, so identical layers cannot be reused
	// exactly (arch/memo.go) and long transformer runs simulate every
	// layer.
	PrefetchNextLayer bool `yaml:"prefetch_next_layer" json:"prefetch_next_layer"`
	// AccumulatorBits is the partial-sum width: what a partial sum that
	// leaves the chip costs (0: 32).
	AccumulatorBits int `yaml:"accumulator_bits" json:"accumulator_bits"`
	// OutputBits is the width final outputs are written at (0: the
	// operand width, i.e. requantized on the way out).
	OutputBits int `yaml:"output_bits" json:"output_bits"`
}

// AccBits is the partial-sum width in bits.
func (c *Config) AccBits() int {
	if c.Memory.AccumulatorBits > 0 {
		return c.Memory.AccumulatorBits
	}
	return 32
}

// OutBits is the final-output width in bits.
func (c *Config) OutBits() int {
	if c.Memory.OutputBits > 0 {
		return c.Memory.OutputBits
	}
	return 8 * c.WordBytes()
}

// DRAM is the off-chip memory.
type DRAM struct {
	Model         string  `yaml:"model" json:"model"`
	Preset        string  `yaml:"preset" json:"preset"`
	Channels      int     `yaml:"channels" json:"channels"`
	BandwidthGBps float64 `yaml:"bandwidth_gbps" json:"bandwidth_gbps"`
	LatencyNS     float64 `yaml:"latency_ns" json:"latency_ns"`
	RequestBytes  int     `yaml:"request_bytes" json:"request_bytes"`
	// CapacityGB is the memory size LLM runs must fit in (GB = 1e9
	// bytes); 0 means unchecked.
	CapacityGB float64 `yaml:"capacity_gb" json:"capacity_gb"`
}

// Sparsity selects weight sparsity support.
type Sparsity struct {
	// NM is the pattern applied to weight layers: "dense" or "N:M".
	NM string `yaml:"nm" json:"nm"`
	// Supported lists the patterns the N:M PEs implement; a layer's pattern
	// runs on the supported one with the same M and the smallest N' ≥ N
	// (padding with zeros), else dense. Empty means every pattern.
	Supported []string `yaml:"supported" json:"supported"`
	// MaskUnitLanes is how many groups of M the mask-generation unit sorts
	// per cycle.
	MaskUnitLanes int `yaml:"mask_unit_lanes" json:"mask_unit_lanes"`
}

// Mapping searches.
const (
	// MappingBest searches each layer's loop orders and time tiles and
	// runs the best by Objective.
	MappingBest = "best"
	// MappingSCALESim is SCALE-Sim v2's fixed order: column folds outside
	// row folds, the streamed dimension whole.
	MappingSCALESim = "scalesim"
	// MappingRowMajor is row folds outside column folds, the streamed
	// dimension whole: sparsesim's only order before the mapper.
	MappingRowMajor = "rowmajor"
	// MappingFixed runs Order and TimeTile on every layer.
	MappingFixed = "fixed"
)

// MappingSearches lists the mapping searches.
var MappingSearches = []string{MappingBest, MappingSCALESim, MappingRowMajor, MappingFixed}

// MappingObjectives lists what the search minimises.
var MappingObjectives = []string{"cycles", "energy", "edp", "dram_bytes"}

// Mapping is how each layer's temporal mapping is chosen: the dataflow
// fixes what sits on the array's rows and columns; the mapping chooses
// the loop order over row folds, column folds and tiles of the streamed
// dimension, and the tile length.
type Mapping struct {
	Search    string `yaml:"search" json:"search"`
	Objective string `yaml:"objective" json:"objective"`
	// Simulate is how many of the analytically best candidates of a layer
	// are simulated on the memory model; the best simulated one runs.
	Simulate int `yaml:"simulate" json:"simulate"`
	// Tolerance is how close to the best objective a candidate must come
	// to count as a tie; ties go to the least energy (0.01: within 1%,
	// below what the timing model can tell apart).
	Tolerance float64 `yaml:"tolerance" json:"tolerance"`
	// Order and TimeTile are the fixed mapping (search: fixed): a loop
	// order such as TCR (outermost first; R row folds, C column folds, T
	// tiles of the streamed dimension) and a tile length (0: whole).
	Order    string `yaml:"order" json:"order"`
	TimeTile int    `yaml:"time_tile" json:"time_tile"`
	// Layers fix single layers' mappings (search: fixed), overriding
	// Order and TimeTile for the layers they name; File is a YAML list
	// of the same entries, read when the config loads (like Timeloop's
	// mapping files).
	Layers []LayerMapping `yaml:"layers" json:"layers"`
	File   string         `yaml:"file" json:"file"`
}

// LayerMapping is one layer's fixed mapping.
type LayerMapping struct {
	// Layer is the layer's name as reports print it.
	Layer    string `yaml:"layer" json:"layer"`
	Order    string `yaml:"order" json:"order"`
	TimeTile int    `yaml:"time_tile" json:"time_tile"`
	// Dataflow, when set, is the layer's own dataflow (os, ws, is).
	Dataflow string `yaml:"dataflow" json:"dataflow"`
}

// LayerMappingOf is the fixed mapping of the layer named name: its
// entry, else the config's order and time tile.
func (m Mapping) LayerMappingOf(name string) LayerMapping {
	for _, e := range m.Layers {
		if e.Layer == name {
			return e
		}
	}
	return LayerMapping{Layer: name, Order: m.Order, TimeTile: m.TimeTile}
}

// SAT holds the SAT training dataflow switches (docs/sat.md).
type SAT struct {
	InterleaveMapping bool `yaml:"interleave_mapping" json:"interleave_mapping"`
	Pregenerate       bool `yaml:"pregenerate" json:"pregenerate"`
	OfflineScheduling bool `yaml:"offline_scheduling" json:"offline_scheduling"`
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
//
// With dataflow: auto the mapper chooses per layer; DataflowSpec is then
// ws, what the array's functional model and the bare Plan use.
func (c *Config) DataflowSpec() dataflow.Dataflow {
	name := c.Dataflow
	if name == DataflowAuto {
		name = "ws"
	}
	d, _ := dataflow.Lookup(name)
	return d
}

// DataflowAuto lets the mapper choose each layer's dataflow (the array
// can run all three: docs/mapping.md).
const DataflowAuto = "auto"

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
		Name: "custom", Engine: "systolic", ClockMHz: 1000,
		PEArray:  PEArray{Rows: 32, Cols: 32, DType: "int8", WeightBuffers: 1, Units: 1},
		Dataflow: "ws",
		Mapping:  Mapping{Search: MappingBest, Objective: "cycles", Simulate: 3, Tolerance: 0.01, Order: "RCT"},
		Buffers:  Buffers{IfmapKB: 64, FilterKB: 64, OfmapKB: 64, DoubleBuffered: true},
		Memory:   Memory{KeepActivations: true},
		DRAM: DRAM{Model: DRAMChannel, Preset: "ddr4-2400", Channels: 1, BandwidthGBps: 19.2,
			LatencyNS: 50, RequestBytes: 64},
		Sparsity:           Sparsity{NM: "dense", MaskUnitLanes: 16},
		Energy:             Energy{TechnologyNM: 45},
		Vector:             VectorUnit{Lanes: 16, OpsPerCycle: 1, LatencyCycles: 4},
		KVCache:            KVCache{DType: "fp16"},
		ActivationSparsity: actsparse.DefaultSpec(),
		KVSparsity:         kvsparse.DefaultParams(),
		Attention: Attention{QKMultipliers: 512, PVMultipliers: 512, QKLatency: 11, PVLatency: 10,
			SoftmaxLanes: 8, SoftmaxLatency: 87, TopKComparators: 16, FullBits: 12, PipelineDepth: 2,
			TokenPruning: true, HeadPruning: true, LocalVPruning: true, ProgressiveQuant: true,
			TokenPruneRatio: 0.9, HeadPruneRatio: 0.3, VPruneRatio: 0.8, MSBBits: 6, LSBBits: 4, Tau: 0.1, Seed: 1,
			Unquantized: "testbench", QueryScale: 1.3, TokenPruneStart: 0.15, HeadPruneStart: 0.3},
		MoE: defaultMoE(),
	}
}

// fieldError is a validation failure at a YAML path; notRead marks a
// given key that the other settings leave unread (NotRead).
type fieldError struct {
	path, msg string
	notRead   bool
}

func (c *Config) validate() []fieldError {
	var errs []fieldError
	bad := func(path, format string, a ...any) {
		errs = append(errs, fieldError{path: path, msg: fmt.Sprintf(format, a...)})
	}
	notRead := func(path, format string, a ...any) {
		errs = append(errs, fieldError{path: path, msg: fmt.Sprintf(format, a...), notRead: true})
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
	intRange("pe_array.weight_buffers", c.PEArray.WeightBuffers, 1, 2)
	intRange("pe_array.units", c.PEArray.Units, 1, 64)
	if c.Interconnect.PortBytesPerCycle < 0 || c.Interconnect.PortBytesPerCycle > 1<<20 {
		bad("interconnect.port_bytes_per_cycle", "must be 0 (matched to the unit) or a number up to %d, got %g", 1<<20, c.Interconnect.PortBytesPerCycle)
	}
	intRange("interconnect.latency_cycles", c.Interconnect.LatencyCycles, 0, 1<<16)
	if c.PEArray.Units == 1 && c.Interconnect != (Interconnect{}) {
		bad("interconnect", "is read only with pe_array.units above 1 (one unit sits on the buffers directly)")
	}
	if _, ok := dtypeBytes[c.PEArray.DType]; !ok {
		bad("pe_array.dtype", "unknown data type %q (allowed: %s)", c.PEArray.DType, strings.Join(DTypes, ", "))
	}
	if _, err := dataflow.Lookup(c.Dataflow); err != nil && c.Dataflow != DataflowAuto {
		bad("dataflow", "unknown dataflow %q (allowed: %s, auto)", c.Dataflow, strings.Join(dataflow.Names(), ", "))
	}
	if c.PEArray.WeightBuffers == 2 && strings.EqualFold(c.Dataflow, "os") {
		bad("pe_array.weight_buffers", "a shadow weight register needs a dataflow that preloads (ws, is, auto); os keeps its outputs in the PEs")
	}
	if !slices.Contains(MappingSearches, c.Mapping.Search) {
		bad("mapping.search", "unknown search %q (allowed: %s)", c.Mapping.Search, strings.Join(MappingSearches, ", "))
	}
	if !slices.Contains(MappingObjectives, c.Mapping.Objective) {
		bad("mapping.objective", "unknown objective %q (allowed: %s)", c.Mapping.Objective, strings.Join(MappingObjectives, ", "))
	}
	intRange("mapping.simulate", c.Mapping.Simulate, 1, 64)
	if !(c.Mapping.Tolerance >= 0 && c.Mapping.Tolerance <= 0.5) {
		bad("mapping.tolerance", "must be a number from 0 to 0.5, got %g", c.Mapping.Tolerance)
	}
	if !validOrder(c.Mapping.Order) {
		bad("mapping.order", "loop order %q: want a permutation of R (row folds), C (column folds) and T (time tiles), outermost first, e.g. RCT or TCR", c.Mapping.Order)
	}
	intRange("mapping.time_tile", c.Mapping.TimeTile, 0, 1<<30)
	switch {
	case c.Mapping.Search == MappingFixed:
	case c.Mapping.File != "":
		bad("mapping.file", "a mapping file is read with mapping.search: fixed, not %s", c.Mapping.Search)
	case len(c.Mapping.Layers) > 0:
		bad("mapping.layers", "per-layer mappings are read with mapping.search: fixed, not %s", c.Mapping.Search)
	case c.Mapping.Order != "RCT" || c.Mapping.TimeTile != 0:
		bad("mapping.order", "mapping.order and mapping.time_tile are read with mapping.search: fixed, not %s", c.Mapping.Search)
	}
	seen := map[string]bool{}
	for i, e := range c.Mapping.Layers {
		for _, msg := range e.problems() {
			bad(fmt.Sprintf("mapping.layers[%d]", i), "%s", msg)
		}
		if seen[e.Layer] {
			bad(fmt.Sprintf("mapping.layers[%d].layer", i), "layer %q has two mappings", e.Layer)
		}
		seen[e.Layer] = true
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
	intRange("memory.accumulator_bits", c.Memory.AccumulatorBits, 0, 64)
	intRange("memory.output_bits", c.Memory.OutputBits, 0, 64)
	if wb := 8 * c.WordBytes(); wb > 0 && c.Memory.AccumulatorBits > 0 && c.Memory.AccumulatorBits < wb {
		bad("memory.accumulator_bits", "must be 0 (32) or at least the %d-bit operand width, got %d", wb, c.Memory.AccumulatorBits)
	}
	if !(c.DRAM.CapacityGB >= 0 && c.DRAM.CapacityGB <= 1e6) {
		bad("dram.capacity_gb", "must be a number from 0 (unchecked) to 1e6, got %g", c.DRAM.CapacityGB)
	}
	intRange("vector.lanes", c.Vector.Lanes, 1, 1<<20)
	intRange("vector.ops_per_cycle", c.Vector.OpsPerCycle, 1, 1<<10)
	intRange("vector.latency_cycles", c.Vector.LatencyCycles, 0, 1<<20)
	if _, ok := KVDTypeBits[c.KVCache.DType]; !ok {
		bad("kv_cache.dtype", "unknown KV cache type %q (allowed: %s)", c.KVCache.DType, strings.Join(KVDTypes, ", "))
	}
	for _, e := range c.ActivationSparsity.Validate() {
		bad(e.Path, "%s", e.Msg)
	}
	if _, err := nm.Parse(c.Sparsity.NM); err != nil {
		bad("sparsity.nm", "%v", err)
	}
	for _, s := range c.Sparsity.Supported {
		if p, err := nm.Parse(s); err != nil || p.Dense() {
			bad("sparsity.supported", "entry %q is not an N:M pattern such as 2:4", s)
		}
	}
	intRange("sparsity.mask_unit_lanes", c.Sparsity.MaskUnitLanes, 1, 1<<16)
	if c.Engine != "systolic" && c.Engine != "spatten" {
		bad("engine", "unknown engine %q (allowed: systolic, spatten)", c.Engine)
	}
	a := c.Attention
	intRange("attention.qk_multipliers", a.QKMultipliers, 1, 1<<20)
	intRange("attention.pv_multipliers", a.PVMultipliers, 1, 1<<20)
	intRange("attention.qk_latency", a.QKLatency, 0, 1<<20)
	intRange("attention.pv_latency", a.PVLatency, 0, 1<<20)
	intRange("attention.softmax_lanes", a.SoftmaxLanes, 1, 1<<20)
	intRange("attention.softmax_latency", a.SoftmaxLatency, 0, 1<<20)
	intRange("attention.topk_comparators", a.TopKComparators, 1, 1<<16)
	intRange("attention.full_bits", a.FullBits, 1, 32)
	intRange("attention.pipeline_depth", a.PipelineDepth, 1, 64)
	intRange("attention.msb_bits", a.MSBBits, 1, 31)
	intRange("attention.lsb_bits", a.LSBBits, 0, 31)
	if c.Engine != "systolic" && (c.PEArray.Units != 1 || c.PEArray.WeightBuffers != 1) {
		bad("pe_array.units", "pe_array.units and pe_array.weight_buffers are read by the systolic engine; engine %s has its own attention units (leave them at 1)", c.Engine)
	}
	if a.Fused != nil && c.Engine != "systolic" {
		bad("attention.fused", "is read by LLM runs on the systolic array; engine %s runs its own attention rows (leave it unset)", c.Engine)
	}
	if a.Fused != nil && *a.Fused && c.KVSparsity.Method != KVNone {
		bad("attention.fused", "kv_sparsity.method %s lowers decode attention itself and is compared with the unfused dense decode, so its runs stay unfused; leave attention.fused unset or false", c.KVSparsity.Method)
	}
	if !(a.QueryScale > 0 && a.QueryScale <= 100) {
		bad("attention.query_scale", "must be in (0, 100], got %g", a.QueryScale)
	}
	if a.Unquantized != "testbench" && a.Unquantized != "full_bits" {
		bad("attention.unquantized", "unknown reading %q (allowed: testbench, full_bits)", a.Unquantized)
	}
	if !(c.Energy.TechnologyNM >= 7 && c.Energy.TechnologyNM <= 45) {
		bad("energy.technology_nm", "must be a node from 7 to 45 nm, got %g", c.Energy.TechnologyNM)
	}
	switch c.Energy.DRAM {
	case "", "ddr4", "lpddr4", "hbm2", "gddr5", "ddr3":
	default:
		bad("energy.dram", "unknown DRAM type %q (allowed: ddr4, lpddr4, hbm2, gddr5, ddr3, or empty for the preset's)", c.Energy.DRAM)
	}
	for _, k := range sortedKeys(c.Energy.Overrides) {
		if !contains(catalog.Names(), k) {
			bad("energy.overrides."+k, "unknown energy action (known: %s)", strings.Join(catalog.Names(), ", "))
		} else if v := c.Energy.Overrides[k]; !(v >= 0) {
			bad("energy.overrides."+k, "must be a non-negative number of pJ, got %g", v)
		}
	}
	if c.FPGA.Device != "" && !contains(catalog.DeviceNames(), c.FPGA.Device) {
		bad("fpga.device", "unknown device %q (allowed: %s)", c.FPGA.Device, strings.Join(catalog.DeviceNames(), ", "))
	}
	for _, f := range []struct {
		path string
		v    float64
	}{{"attention.token_prune_ratio", a.TokenPruneRatio}, {"attention.head_prune_ratio", a.HeadPruneRatio},
		{"attention.v_prune_ratio", a.VPruneRatio}, {"attention.tau", a.Tau},
		{"attention.token_prune_start", a.TokenPruneStart}, {"attention.head_prune_start", a.HeadPruneStart}} {
		if !(f.v >= 0 && f.v < 1) {
			bad(f.path, "must be a number in [0, 1), got %g", f.v)
		}
	}
	for _, e := range c.KVSparsity.Validate() {
		bad(e.Path, "%s", e.Msg)
	}
	// A key the method does not read would run as if unset (a sweep over
	// budget on dsa gave identical rows): refused when given, naming
	// the key that applies.
	for _, key := range fieldNames(reflect.TypeOf(c.KVSparsity)) {
		if msg := kvsparse.Unread(c.KVSparsity.Method, key); msg != "" && c.Explicit("kv_sparsity."+key) {
			notRead("kv_sparsity."+key, "%s", msg)
		}
	}
	errs = append(errs, c.MoE.validate()...)
	// Routing keys the routing does not draw with (moe.trace is refused
	// by MoE.validate, which needs no explicit keys: its default is
	// empty).
	switch r := c.MoE.Routing; {
	case c.Explicit("moe.imbalance") && r != moe.Zipf && r != moe.Dirichlet:
		notRead("moe.imbalance", "is read with moe.routing zipf (the exponent) or dirichlet (the concentration), not %s", r)
	case c.Explicit("moe.locality") && r != moe.Uniform && r != moe.Zipf && r != moe.Dirichlet:
		notRead("moe.locality", "is read with moe.routing uniform, zipf or dirichlet (which draw logits per token), not %s", r)
	}
	return errs
}

// Pattern is the configured default weight pattern.
func (c *Config) Pattern() nm.Pattern {
	p, _ := nm.Parse(c.Sparsity.NM)
	return p
}

// LayerPattern is the pattern a layer's PEs execute: none without a weight
// operand; else the layer's own pattern (layerNM, may be empty) or the
// configured one, mapped onto what the PEs support.
func (c *Config) LayerPattern(weightOperand bool, layerNM string) (nm.Pattern, error) {
	if !weightOperand {
		return nm.Pattern{}, nil
	}
	req := c.Pattern()
	if layerNM != "" {
		p, err := nm.Parse(layerNM)
		if err != nil {
			return nm.Pattern{}, err
		}
		req = p
	}
	return c.Executable(req), nil
}

// Executable maps a requested pattern onto what the PEs support.
func (c *Config) Executable(p nm.Pattern) nm.Pattern {
	if p.Dense() || len(c.Sparsity.Supported) == 0 {
		return p
	}
	best := nm.Pattern{}
	for _, s := range c.Sparsity.Supported {
		q, _ := nm.Parse(s)
		if q.M == p.M && q.N >= p.N && (best.Dense() || q.N < best.N) {
			best = q
		}
	}
	return best
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]float64) []string { return slices.Sorted(maps.Keys(m)) }

// validOrder reports whether s is a loop order mapping reads (a
// permutation of R, C and T, outermost first).
func validOrder(s string) bool {
	_, err := mapping.ParseOrder(s)
	return err == nil && s == strings.ToUpper(strings.TrimSpace(s))
}

// problems lists what is wrong with a layer mapping.
func (e LayerMapping) problems() []string {
	var out []string
	if e.Layer == "" {
		out = append(out, "layer: a layer name is needed")
	}
	if !validOrder(e.Order) {
		out = append(out, fmt.Sprintf("order: loop order %q: want a permutation of R, C and T, outermost first, e.g. TCR", e.Order))
	}
	if e.TimeTile < 0 {
		out = append(out, fmt.Sprintf("time_tile: must be 0 (whole) or more, got %d", e.TimeTile))
	}
	if _, err := dataflow.Lookup(e.Dataflow); err != nil && e.Dataflow != "" {
		out = append(out, fmt.Sprintf("dataflow: unknown dataflow %q (allowed: %s)", e.Dataflow, strings.Join(dataflow.Names(), ", ")))
	}
	return out
}

// notReadError is a refusal of a key the run's other settings do not
// read (NotRead).
type notReadError struct{ error }

func (e notReadError) Unwrap() error { return e.error }

// NotRead marks err as the refusal of a given key that the rest of the
// configuration (or the model it meets) does not read. A sweep refuses a
// grid any of whose points has one before running a point, rather than
// recording failed points: no value of such an axis can run.
func NotRead(err error) error { return notReadError{err} }

// IsNotRead reports whether err (or one it wraps) is a NotRead refusal.
func IsNotRead(err error) bool {
	var e notReadError
	return errors.As(err, &e)
}
