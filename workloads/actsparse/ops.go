package actsparse

import (
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// Vector-unit operations per element of the selection hardware. They are
// assumptions (a plain implementation on the vector unit), documented in
// docs/ffn-moe.md.
const (
	opsCompare  = 2 // |v|, compare with the threshold
	opsWINA     = 3 // |v|, times the weight row norm, compare
	opsMoments  = 4 // statistical top-k: sum, square, sum of squares, compare
	opsUnion    = 1 // OR of a token's mask into the batch mask
	opsCompact  = 2 // prefix sum of the batch mask, write the index
	opsSiLU     = 3 // exp, add, divide (the gate's activation alone)
	opsMultiply = 1 // the gate activation times the up projection
	opsSiLUGate = 5 // dense gated activation, as workloads/llm charges it
	opsGELU     = 8 // as workloads/llm charges it
	opsReLU     = 1
)

// Gather kinds: which weight rows a sparse GEMM reads.
const (
	GatherDownRows = "down_rows" // rows of W_down (K×N, neuron-major)
	GatherUpRows   = "up_rows"   // rows of W_up/W_gate (input channels)
	GatherUpCols   = "up_cols"   // neurons' columns of W_up/W_gate, stored neuron-major
)

func gemm(name string, m, n, k int) llm.Op {
	return llm.Op{Kind: llm.OpGEMM, Class: llm.ClassFFN, Name: name, Layer: workloads.GEMM(name, m, n, k)}
}

func vec(name string, elems int64, ops int) llm.Op {
	return llm.Op{Kind: llm.OpVector, Class: llm.ClassVector, Name: name, Elems: elems, OpsPerElem: ops}
}

// selectOps is the technique's compare unit on n elements per token (or,
// for topk, the top-k engine's quick-select rounds).
func (p *Plan) selectOps(pre string, T, n int, rounds []int) []llm.Op {
	ops := opsCompare
	switch p.Spec.Method {
	case WINA:
		ops = opsWINA
	case StatTopK:
		ops = opsMoments
	}
	t, e := int64(T), int64(n)
	sel := vec(pre+"select", t*e, ops)
	if p.Spec.Method == TopK {
		sel = llm.Op{Kind: llm.OpTopK, Class: llm.ClassFFN, Name: pre + "topk", Rounds: rounds}
	}
	return []llm.Op{sel, vec(pre+"union", t*e, opsUnion), vec(pre+"index", e, opsCompact)}
}

// Ops lowers one layer's sparse feed-forward at a decode step of T tokens
// (T = the plan's batch) to operators, replacing the dense up, activation
// and down: the selection (compare or statistical top-k on the vector
// unit, predictor GEMMs), index generation over the batch union, and
// GEMMs whose K (row gathers) or N (column gathers) is the union.
// Gather names which weight rows each GEMM reads (GatherOf).
func (p *Plan) Ops(prefix string, layer, step, T int) []llm.Op {
	s := p.At(layer, step)
	h, I, U, Ux := p.Shape.Hidden, p.Shape.Inter, s.Union, s.UnionIn
	t := int64(T)
	upN := I
	if p.Shape.Gated {
		upN = 2 * I
	}
	denseAct := opsGELU
	if p.Shape.Gated {
		denseAct = opsSiLUGate
	}
	var ops []llm.Op
	add := func(o ...llm.Op) { ops = append(ops, o...) }
	down := func() {
		if U > 0 {
			add(gemm(prefix+"down.gather", T, h, U))
		}
	}
	switch p.Spec.Method {
	case Threshold, WINA, RSparse:
		add(p.selectOps(prefix+"in_", T, h, nil)...)
		if Ux > 0 {
			add(gemm(prefix+"up.gather_rows", T, upN, Ux))
		}
		if p.Spec.Method == RSparse {
			r := p.Spec.LowRank
			add(gemm(prefix+"up.lowrank_v", T, r, h), gemm(prefix+"up.lowrank_u", T, upN, r))
		}
		add(vec(prefix+"act", t*int64(I), denseAct))
		add(p.selectOps(prefix, T, I, s.TopKRounds)...)
		down()
		if p.Spec.Method == RSparse {
			r := p.Spec.LowRank
			add(gemm(prefix+"down.lowrank_v", T, r, I), gemm(prefix+"down.lowrank_u", T, h, r))
		}
	case Predictor:
		r := p.Spec.PredictorRank
		add(gemm(prefix+"predictor.1", T, r, h), gemm(prefix+"predictor.2", T, I, r))
		add(p.selectOps(prefix, T, I, s.TopKRounds)...)
		if U > 0 {
			n := U
			if p.Shape.Gated {
				n = 2 * U
			}
			add(gemm(prefix+"up.gather_cols", T, n, h), vec(prefix+"act", t*int64(U), denseAct))
		}
		down()
	default: // relu, cats, chess, statistical_topk, topk: the gate decides
		if p.Shape.Gated {
			act := opsSiLU
			if p.Spec.Method == ReLU {
				act = opsReLU
			}
			add(gemm(prefix+"gate", T, I, h), vec(prefix+"gate_act", t*int64(I), act))
			add(p.selectOps(prefix, T, I, s.TopKRounds)...)
			if U > 0 {
				add(gemm(prefix+"up.gather_cols", T, U, h), vec(prefix+"mul", t*int64(U), opsMultiply))
			}
		} else {
			act := opsGELU
			if p.Spec.Method == ReLU {
				act = opsReLU
			}
			add(gemm(prefix+"up", T, I, h), vec(prefix+"act", t*int64(I), act))
			add(p.selectOps(prefix, T, I, s.TopKRounds)...)
		}
		down()
	}
	return ops
}

// Gathers lists, for one layer at a step, the weight gathers the sparse
// GEMMs make: kind, the tensor's row count and row length in elements, and
// the rows read (index spans).
func (p *Plan) Gathers(layer, step int) []Gather {
	s := p.At(layer, step)
	h, I := p.Shape.Hidden, p.Shape.Inter
	upN := I
	if p.Shape.Gated {
		upN = 2 * I
	}
	g := []Gather{{Kind: GatherDownRows, Rows: I, RowElems: h, Read: s.Rows, Copies: 1}}
	switch p.Spec.Method {
	case Threshold, WINA, RSparse:
		g = append(g, Gather{Kind: GatherUpRows, Rows: h, RowElems: upN, Read: s.InRows, Copies: 1})
	case Predictor:
		g = append(g, Gather{Kind: GatherUpCols, Rows: I, RowElems: h, Read: s.Rows, Copies: 1 + boolInt(p.Shape.Gated)})
	default:
		if p.Shape.Gated {
			g = append(g, Gather{Kind: GatherUpCols, Rows: I, RowElems: h, Read: s.Rows, Copies: 1})
		}
	}
	return g
}

// Gather is one weight gather: Read rows of a Rows × RowElems matrix,
// Copies matrices alike (the gate and up projections).
type Gather struct {
	Kind           string
	Rows, RowElems int
	Read           []Span
	Copies         int
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
