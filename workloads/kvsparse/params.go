package kvsparse

import (
	"fmt"
	"slices"
	"strings"
)

// KV-cache sparsity methods (kv_sparsity.method, docs/kv-sparsity.md).
const (
	MethodNone           = "none"
	MethodEvict          = "evict"
	MethodQuest          = "quest"
	MethodDoubleSparsity = "double_sparsity"
	MethodDSA            = "dsa"
	MethodHISA           = "hisa"
	MethodMustafar       = "mustafar"
)

// Methods lists the methods in the order documentation gives them.
var Methods = []string{MethodNone, MethodEvict, MethodQuest, MethodDoubleSparsity, MethodDSA, MethodHISA, MethodMustafar}

// Params is the kv_sparsity block of an architecture config: which keys
// and values an LLM decode step reads (docs/kv-sparsity.md,
// docs/config.md). The workload owns it so that configs embeds it
// (configs.KVSparsity) and this package needs no configs. Each method
// reads the fields it needs; the rest are ignored.
type Params struct {
	Method string `yaml:"method" json:"method"`
	// Budget is the tokens per head kept (evict) or attended (quest,
	// double_sparsity), sink and recent included for evict.
	Budget   int `yaml:"budget" json:"budget"`
	PageSize int `yaml:"page_size" json:"page_size"` // quest
	Channels int `yaml:"channels" json:"channels"`   // double_sparsity label channels per head
	// K is the tokens the indexer keeps (dsa, hisa).
	K          int `yaml:"k" json:"k"`
	Block      int `yaml:"block" json:"block"`             // hisa pooled block tokens
	BlockTop   int `yaml:"block_top" json:"block_top"`     // hisa blocks kept by the coarse filter
	IndexHeads int `yaml:"index_heads" json:"index_heads"` // dsa, hisa
	IndexDim   int `yaml:"index_dim" json:"index_dim"`
	// IndexBits is the indexer keys' storage width (fp8: 8).
	IndexBits int `yaml:"index_bits" json:"index_bits"`
	// Sparsity is the fraction of K and V elements mustafar prunes per token.
	Sparsity float64 `yaml:"sparsity" json:"sparsity"`
	Sink     int     `yaml:"sink" json:"sink"`     // evict: first tokens always kept
	Recent   int     `yaml:"recent" json:"recent"` // evict: newest tokens always kept
	// Unit runs the scoring products (label-cache and indexer scores):
	// "array" (GEMMs on the systolic array) or "vector" (the vector unit).
	Unit string `yaml:"unit" json:"unit"`
	// BitmapDecodeElems is the elements per cycle mustafar's bitmap
	// decoder expands into dense rows on chip.
	BitmapDecodeElems int `yaml:"bitmap_decode_elems" json:"bitmap_decode_elems"`
	// SampleLayers, SampleHeads and SampleSteps are how many decoder
	// layers, KV heads per layer and decode steps the reference kernels
	// run on; every other (layer, head, step) reuses a sampled selection.
	SampleLayers int `yaml:"sample_layers" json:"sample_layers"`
	SampleHeads  int `yaml:"sample_heads" json:"sample_heads"`
	SampleSteps  int `yaml:"sample_steps" json:"sample_steps"`
	// Seed drives the synthetic Q/K/V.
	Seed int64 `yaml:"seed" json:"seed"`
	// Data, when set, is a directory of one head's q.npy, k.npy and v.npy
	// that every sampled (layer, head) uses instead of synthetic tensors
	// (docs/kv-sparsity.md).
	Data string `yaml:"data" json:"data"`
}

// DefaultParams is what a config that omits the block gets.
func DefaultParams() Params {
	return Params{Method: MethodNone, Budget: 2048, PageSize: 16, Channels: 8, K: 2048, Block: 128, BlockTop: 128,
		IndexHeads: 64, IndexDim: 128, IndexBits: 8, Sparsity: 0.7, Sink: 4, Recent: 256, Unit: "array",
		BitmapDecodeElems: 256, SampleLayers: 2, SampleHeads: 2, SampleSteps: 8, Seed: 1}
}

// FieldError is a bad key, named by its YAML path under kv_sparsity.
type FieldError struct{ Path, Msg string }

// Validate lists every bad key.
func (k Params) Validate() []FieldError {
	var errs []FieldError
	bad := func(key, format string, a ...any) {
		errs = append(errs, FieldError{"kv_sparsity." + key, fmt.Sprintf(format, a...)})
	}
	if !slices.Contains(Methods, k.Method) {
		bad("method", "unknown method %q (allowed: %s)", k.Method, strings.Join(Methods, ", "))
	}
	ints := []struct {
		key       string
		v, lo, hi int
	}{{"budget", k.Budget, 1, 1 << 24}, {"page_size", k.PageSize, 1, 1 << 16}, {"channels", k.Channels, 1, 1 << 12},
		{"k", k.K, 1, 1 << 24}, {"block", k.Block, 1, 1 << 16}, {"block_top", k.BlockTop, 1, 1 << 24},
		{"index_heads", k.IndexHeads, 1, 1024}, {"index_dim", k.IndexDim, 1, 4096}, {"index_bits", k.IndexBits, 1, 32},
		{"sink", k.Sink, 0, 1 << 24}, {"recent", k.Recent, 0, 1 << 24}, {"bitmap_decode_elems", k.BitmapDecodeElems, 1, 1 << 20},
		{"sample_layers", k.SampleLayers, 1, 1024}, {"sample_heads", k.SampleHeads, 1, 1024}, {"sample_steps", k.SampleSteps, 1, 1 << 16}}
	for _, f := range ints {
		if f.v < f.lo || f.v > f.hi {
			bad(f.key, "must be an integer from %d to %d, got %d", f.lo, f.hi, f.v)
		}
	}
	if !(k.Sparsity >= 0 && k.Sparsity < 1) {
		bad("sparsity", "must be a fraction in [0, 1), got %g", k.Sparsity)
	}
	if k.Method == MethodEvict && k.Sink+k.Recent >= k.Budget {
		bad("budget", "must exceed sink + recent (%d + %d) for evict, got %d", k.Sink, k.Recent, k.Budget)
	}
	if k.Method == MethodQuest && k.Budget < k.PageSize {
		bad("budget", "must be at least page_size (%d) for quest, got %d", k.PageSize, k.Budget)
	}
	if k.Unit != "array" && k.Unit != "vector" {
		bad("unit", "unknown unit %q (allowed: array, vector)", k.Unit)
	}
	return errs
}

// Setup is what a plan reads of an architecture config: the method's
// parameters and the few machine numbers its lowering (inference/kvlower)
// sizes operators and gathers with (configs.Config.KVSetup builds it), so
// the plan does not depend on the config schema.
type Setup struct {
	Params Params
	// KVBits is the KV cache's storage width (kv_cache.dtype).
	KVBits int
	// WordBytes is an operand's width (pe_array.dtype).
	WordBytes int
	// FilterBytes is the filter buffer (buffers.filter_kb) in bytes.
	FilterBytes int64
	// RequestBytes is one DRAM request (dram.request_bytes).
	RequestBytes int64
}

// sampling are the keys every method reads: where its reference kernels
// run (sample_layers, sample_heads, sample_steps) and on what tensors
// (seed, data).
var sampling = []string{"sample_layers", "sample_heads", "sample_steps", "seed", "data"}

// reads lists the keys each method reads besides method and the sampling
// keys (the table of docs/kv-sparsity.md): the kernels' selection
// (evictor, quest, doubleSparsity, Indexer), the lowering's operators
// (inference/kvlower) and the footprint (Storage). none reads nothing.
var reads = map[string][]string{
	MethodNone:           nil,
	MethodEvict:          {"budget", "sink", "recent"},
	MethodQuest:          {"budget", "page_size"},
	MethodDoubleSparsity: {"budget", "channels", "unit"},
	MethodDSA:            {"k", "index_heads", "index_dim", "index_bits", "unit"},
	MethodHISA:           {"k", "block", "block_top", "index_heads", "index_dim", "index_bits", "unit"},
	MethodMustafar:       {"sparsity", "bitmap_decode_elems"},
}

// counterpart is, for a key a method does not read, the key that plays
// its part there: how many tokens are read (budget, k) or how much of
// the cache is kept (mustafar's sparsity), the unit of a coarse
// selection (page_size, block).
var counterpart = map[[2]string]string{
	{"budget", MethodDSA}: "k", {"budget", MethodHISA}: "k", {"budget", MethodMustafar}: "sparsity",
	{"k", MethodEvict}: "budget", {"k", MethodQuest}: "budget", {"k", MethodDoubleSparsity}: "budget", {"k", MethodMustafar}: "sparsity",
	{"sparsity", MethodEvict}: "budget", {"sparsity", MethodQuest}: "budget", {"sparsity", MethodDoubleSparsity}: "budget",
	{"sparsity", MethodDSA}: "k", {"sparsity", MethodHISA}: "k",
	{"page_size", MethodHISA}: "block", {"block", MethodQuest}: "page_size",
}

// Reads lists the kv_sparsity keys (without the "kv_sparsity." prefix)
// method reads, method itself aside; nil for none or an unknown method.
func Reads(method string) []string {
	r, ok := reads[method]
	if !ok || method == MethodNone {
		return nil
	}
	return append(slices.Clone(r), sampling...)
}

// Unread says why method does not read key (a kv_sparsity key without
// its prefix) and which key applies instead, or "" when method reads it
// (or is unknown: Validate refuses that). The message follows the key's
// path, e.g. "does not apply to kv_sparsity.method dsa; use
// kv_sparsity.k".
func Unread(method, key string) string {
	if key == "method" {
		return ""
	}
	if _, ok := reads[method]; !ok {
		return ""
	}
	own := Reads(method)
	if slices.Contains(own, key) {
		return ""
	}
	if method == MethodNone {
		var by []string
		for _, m := range Methods {
			if slices.Contains(Reads(m), key) {
				by = append(by, m)
			}
		}
		return fmt.Sprintf("does not apply to kv_sparsity.method none (no KV sparsity); it is read by %s: set kv_sparsity.method", strings.Join(by, ", "))
	}
	if c, ok := counterpart[[2]string{key, method}]; ok {
		return fmt.Sprintf("does not apply to kv_sparsity.method %s; use kv_sparsity.%s", method, c)
	}
	return fmt.Sprintf("does not apply to kv_sparsity.method %s; %s reads kv_sparsity.%s", method, method,
		strings.Join(reads[method], ", kv_sparsity."))
}
