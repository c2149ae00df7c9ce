package inference

import (
	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/inference/ops"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// Bytes splits DRAM traffic (reads and writes) by what moves.
type Bytes struct {
	Weights     int64 `json:"weights"`
	KV          int64 `json:"kv"`
	Activations int64 `json:"activations"`
}

// Total sums the split.
func (b Bytes) Total() int64 { return b.Weights + b.KV + b.Activations }

func (b *Bytes) add(o Bytes) {
	b.Weights += o.Weights
	b.KV += o.KV
	b.Activations += o.Activations
}

// ClassStats is one operator class over a phase.
type ClassStats struct {
	Ops           int64
	Cycles        int64 // elapsed, the operators run one after another
	ComputeCycles int64 // array (or vector unit, top-k engine) busy
	MACs          int64 // array MACs; vector operations for the vector class
	Bytes         Bytes
}

// PhaseStats sums a phase (prefill, or every decode step).
type PhaseStats struct {
	Steps   int
	Cycles  int64
	Bytes   Bytes
	Gather  GatherTotals // the gather DMA's share of Bytes
	Classes []ClassStats // indexed like ops.Classes
	// Attention says how the phase's attention ran (attentionLowering);
	// AttentionFused is whether a fused attention operator ran.
	Attention      string
	AttentionFused bool
}

// StepStats is one decode step.
type StepStats struct {
	Context int // tokens attended to per sequence (after the window)
	Cycles  int64
	Bytes   Bytes
	Gather  GatherTotals
}

// OpRecord is one operator instance (LLMOptions.RecordOps).
type OpRecord struct {
	Step   int // -1 for prefill
	Name   string
	Class  string
	Cycles int64
	Bytes  Bytes
	Stats  arch.LayerStats // GEMM operators
	Gather arch.GatherSummary
}

// LLMResult is an LLM run's measurements.
type LLMResult struct {
	Config    *configs.Config
	Model     llm.Model
	Options   LLMOptions
	Footprint llm.Footprint
	Prefill   *PhaseStats
	Decode    *PhaseStats
	Steps     []StepStats
	// Memoized runs count distinct simulations and reuses.
	Memoized          bool
	Simulated, Reused int64
	Events            int64
	WallSeconds       float64
	Ops               []OpRecord
	// MoE is the routing's statistics (nil for a dense model; arch/moe.go).
	MoE *MoEStats
}

func newPhase() *PhaseStats { return &PhaseStats{Classes: make([]ClassStats, len(ops.Classes))} }

func classIndex(c string) int {
	for i, x := range ops.Classes {
		if x == c {
			return i
		}
	}
	panic("unknown operator class " + c)
}
