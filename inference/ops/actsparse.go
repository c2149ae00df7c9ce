package ops

import (
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/actsparse"
)

// Vector-unit operations per element of activation sparsity's selection
// hardware. They are assumptions (a plain implementation on the vector
// unit), documented in docs/ffn-moe.md; the dense activations a sparse
// FFN still runs are charged as the dense FFN's (opsSiLUGate, opsGELU).
const (
	opsCompare  = 2 // |v|, compare with the threshold
	opsWINA     = 3 // |v|, times the weight row norm, compare
	opsMoments  = 4 // statistical top-k: sum, square, sum of squares, compare
	opsUnion    = 1 // OR of a token's mask into the batch mask
	opsCompact  = 2 // prefix sum of the batch mask, write the index
	opsSiLU     = 3 // exp, add, divide (the gate's activation alone)
	opsMultiply = 1 // the gate activation times the up projection
	opsReLU     = 1
)

// ffnGEMM is a feed-forward weight GEMM of the sparse FFN.
func ffnGEMM(name string, m, n, k int) Op {
	return gemm(ClassFFN, name, workloads.GEMM("", m, n, k))
}

// selectOps is the technique's compare unit on n elements per token (or,
// for topk, the top-k engine's quick-select rounds).
func selectOps(p *actsparse.Plan, pre string, T, n int, rounds []int) []Op {
	ops := opsCompare
	switch p.Spec.Method {
	case actsparse.WINA:
		ops = opsWINA
	case actsparse.StatTopK:
		ops = opsMoments
	}
	t, e := int64(T), int64(n)
	sel := vec(pre+"select", t*e, ops)
	if p.Spec.Method == actsparse.TopK {
		sel = Op{Kind: OpTopK, Class: ClassFFN, Name: pre + "topk", Rounds: rounds}
	}
	return []Op{sel, vec(pre+"union", t*e, opsUnion), vec(pre+"index", e, opsCompact)}
}

// SparseFFN lowers one layer's feed-forward under plan p's activation
// sparsity at a decode step of T tokens (T = the plan's batch) to
// operators, replacing the dense up, activation and down (StepSpec.FFN):
// the selection (compare or statistical top-k on the vector unit,
// predictor GEMMs), index generation over the batch union, and GEMMs
// whose K (row gathers) or N (column gathers) is the union. p.Gathers
// names which weight rows each GEMM reads.
func SparseFFN(p *actsparse.Plan, prefix string, layer, step, T int) []Op {
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
	var ops []Op
	add := func(o ...Op) { ops = append(ops, o...) }
	down := func() {
		if U > 0 {
			add(ffnGEMM(prefix+"down.gather", T, h, U))
		}
	}
	switch p.Spec.Method {
	case actsparse.Threshold, actsparse.WINA, actsparse.RSparse:
		add(selectOps(p, prefix+"in_", T, h, nil)...)
		if Ux > 0 {
			add(ffnGEMM(prefix+"up.gather_rows", T, upN, Ux))
		}
		if p.Spec.Method == actsparse.RSparse {
			r := p.Spec.LowRank
			add(ffnGEMM(prefix+"up.lowrank_v", T, r, h), ffnGEMM(prefix+"up.lowrank_u", T, upN, r))
		}
		add(vec(prefix+"act", t*int64(I), denseAct))
		add(selectOps(p, prefix, T, I, s.TopKRounds)...)
		down()
		if p.Spec.Method == actsparse.RSparse {
			r := p.Spec.LowRank
			add(ffnGEMM(prefix+"down.lowrank_v", T, r, I), ffnGEMM(prefix+"down.lowrank_u", T, h, r))
		}
	case actsparse.Predictor:
		r := p.Spec.PredictorRank
		add(ffnGEMM(prefix+"predictor.1", T, r, h), ffnGEMM(prefix+"predictor.2", T, I, r))
		add(selectOps(p, prefix, T, I, s.TopKRounds)...)
		if U > 0 {
			n := U
			if p.Shape.Gated {
				n = 2 * U
			}
			add(ffnGEMM(prefix+"up.gather_cols", T, n, h), vec(prefix+"act", t*int64(U), denseAct))
		}
		down()
	default: // relu, cats, chess, statistical_topk, topk: the gate decides
		if p.Shape.Gated {
			act := opsSiLU
			if p.Spec.Method == actsparse.ReLU {
				act = opsReLU
			}
			add(ffnGEMM(prefix+"gate", T, I, h), vec(prefix+"gate_act", t*int64(I), act))
			add(selectOps(p, prefix, T, I, s.TopKRounds)...)
			if U > 0 {
				add(ffnGEMM(prefix+"up.gather_cols", T, U, h), vec(prefix+"mul", t*int64(U), opsMultiply))
			}
		} else {
			act := opsGELU
			if p.Spec.Method == actsparse.ReLU {
				act = opsReLU
			}
			add(ffnGEMM(prefix+"up", T, I, h), vec(prefix+"act", t*int64(I), act))
			add(selectOps(p, prefix, T, I, s.TopKRounds)...)
		}
		down()
	}
	return ops
}
