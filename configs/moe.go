package configs

import (
	"fmt"
	"strings"

	"github.com/sparsesim/sparsesim/workloads/moe"
)

// MoE is the expert-routing block of LLM runs (docs/ffn-moe.md).
type MoE struct {
	// Routing is uniform, balanced, zipf, dirichlet or trace.
	Routing string `yaml:"routing" json:"routing"`
	// Imbalance is the Zipf exponent (zipf) or the Dirichlet
	// concentration (dirichlet); other routings ignore it.
	Imbalance float64 `yaml:"imbalance" json:"imbalance"`
	// CapacityFactor limits each expert to ⌈factor·T·k/E⌉ tokens per
	// layer and step; 0: no limit.
	CapacityFactor float64 `yaml:"capacity_factor" json:"capacity_factor"`
	// Execution is dynamic (experts run over their tokens, untouched
	// ones skipped) or padded (every expert over the same slot count).
	Execution string `yaml:"execution" json:"execution"`
	// Locality is the chance a token keeps its predecessor's router
	// logits (uniform, zipf, dirichlet).
	Locality float64 `yaml:"locality" json:"locality"`
	// Chunk is the consecutive tokens per sequence the chunk-level union
	// is measured over.
	Chunk int `yaml:"chunk" json:"chunk"`
	// Trace is a routing trace file for routing: trace.
	Trace string `yaml:"trace" json:"trace"`
}

func defaultMoE() MoE {
	return MoE{Routing: moe.Uniform, Imbalance: 1, Execution: moe.Dynamic, Chunk: 8}
}

func (m MoE) validate() []fieldError {
	var errs []fieldError
	bad := func(path, msg string) { errs = append(errs, fieldError{path: path, msg: msg}) }
	if !contains(moe.Routings, m.Routing) {
		bad("moe.routing", "unknown routing \""+m.Routing+"\" (allowed: "+strings.Join(moe.Routings, ", ")+")")
	}
	if !contains(moe.Executions, m.Execution) {
		bad("moe.execution", "unknown execution \""+m.Execution+"\" (allowed: "+strings.Join(moe.Executions, ", ")+")")
	}
	switch {
	case m.Routing == moe.Zipf && !(m.Imbalance >= 0 && m.Imbalance <= 100):
		bad("moe.imbalance", "zipf routing: the exponent must be a number from 0 (uniform) to 100, got "+num(m.Imbalance))
	case m.Routing == moe.Dirichlet && !(m.Imbalance >= 1e-3 && m.Imbalance <= 1e6):
		bad("moe.imbalance", "dirichlet routing: the concentration must be a number from 0.001 to 1e6, got "+num(m.Imbalance))
	case !(m.Imbalance >= 0 && m.Imbalance <= 1e6):
		bad("moe.imbalance", "must be a number from 0 to 1e6, got "+num(m.Imbalance))
	}
	if !(m.CapacityFactor == 0 || (m.CapacityFactor >= 0.01 && m.CapacityFactor <= 1000)) {
		bad("moe.capacity_factor", "must be 0 (no limit) or a number from 0.01 to 1000, got "+num(m.CapacityFactor))
	}
	if !(m.Locality >= 0 && m.Locality < 1) {
		bad("moe.locality", "must be a probability in [0, 1), got "+num(m.Locality))
	}
	if m.Chunk < 1 || m.Chunk > 1<<16 {
		bad("moe.chunk", "must be an integer from 1 to 65536, got "+num(float64(m.Chunk)))
	}
	if m.Routing == moe.FromTrace && m.Trace == "" {
		bad("moe.trace", "routing trace needs a trace file (--set moe.trace=FILE)")
	}
	if m.Routing != moe.FromTrace && m.Trace != "" {
		bad("moe.trace", "a trace is only read with moe.routing=trace, not "+m.Routing)
	}
	return errs
}

func num(v float64) string { return fmt.Sprintf("%g", v) }
