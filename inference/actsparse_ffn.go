package inference

import (
	"github.com/sparsesim/sparsesim/inference/ops"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/actsparse"
)

// Vector-unit operations per element of activation sparsity's selection
// hardware. They are assumptions (a plain implementation on the vector
// unit), documented in docs/ffn-moe.md; the dense activations a sparse
// FFN still runs are charged as the dense FFN's (ops.ActivationOps).
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
func ffnGEMM(name string, m, n, k int) ops.Op {
	return ops.Op{Kind: ops.OpGEMM, Class: ops.ClassFFN, Name: name, Layer: workloads.GEMM(name, m, n, k)}
}

// ffnVec is a vector operation of the sparse FFN.
func ffnVec(name string, elems int64, perElem int) ops.Op {
	return ops.Op{Kind: ops.OpVector, Class: ops.ClassVector, Name: name, Elems: elems, OpsPerElem: perElem}
}

// ffnSelect is the technique's compare unit on n elements per token (or,
// for topk, the top-k engine's quick-select rounds).
func ffnSelect(p *actsparse.Plan, pre string, T, n int, rounds []int) []ops.Op {
	perElem := opsCompare
	switch p.Spec.Method {
	case actsparse.WINA:
		perElem = opsWINA
	case actsparse.StatTopK:
		perElem = opsMoments
	}
	t, e := int64(T), int64(n)
	sel := ffnVec(pre+"select", t*e, perElem)
	if p.Spec.Method == actsparse.TopK {
		sel = ops.Op{Kind: ops.OpTopK, Class: ops.ClassFFN, Name: pre + "topk", Rounds: rounds}
	}
	return []ops.Op{sel, ffnVec(pre+"union", t*e, opsUnion), ffnVec(pre+"index", e, opsCompact)}
}

// sparseFFN lowers one layer's feed-forward under plan p's activation
// sparsity at a decode step of T tokens (T = the plan's batch) to
// operators, replacing the dense up, activation and down (ops.StepSpec.FFN):
// the selection (compare or statistical top-k on the vector unit,
// predictor GEMMs), index generation over the batch union, and GEMMs
// whose K (row gathers) or N (column gathers) is the union. p.Gathers
// names which weight rows each GEMM reads.
func sparseFFN(p *actsparse.Plan, prefix string, layer, step, T int) []ops.Op {
	s := p.At(layer, step)
	h, I, U, Ux := p.Shape.Hidden, p.Shape.Inter, s.Union, s.UnionIn
	t := int64(T)
	upN := I
	if p.Shape.Gated {
		upN = 2 * I
	}
	denseAct := ops.ActivationOps(p.Shape.Gated)
	var out []ops.Op
	add := func(o ...ops.Op) { out = append(out, o...) }
	down := func() {
		if U > 0 {
			add(ffnGEMM(prefix+"down.gather", T, h, U))
		}
	}
	switch p.Spec.Method {
	case actsparse.Threshold, actsparse.WINA, actsparse.RSparse:
		add(ffnSelect(p, prefix+"in_", T, h, nil)...)
		if Ux > 0 {
			add(ffnGEMM(prefix+"up.gather_rows", T, upN, Ux))
		}
		if p.Spec.Method == actsparse.RSparse {
			r := p.Spec.LowRank
			add(ffnGEMM(prefix+"up.lowrank_v", T, r, h), ffnGEMM(prefix+"up.lowrank_u", T, upN, r))
		}
		add(ffnVec(prefix+"act", t*int64(I), denseAct))
		add(ffnSelect(p, prefix, T, I, s.TopKRounds)...)
		down()
		if p.Spec.Method == actsparse.RSparse {
			r := p.Spec.LowRank
			add(ffnGEMM(prefix+"down.lowrank_v", T, r, I), ffnGEMM(prefix+"down.lowrank_u", T, h, r))
		}
	case actsparse.Predictor:
		r := p.Spec.PredictorRank
		add(ffnGEMM(prefix+"predictor.1", T, r, h), ffnGEMM(prefix+"predictor.2", T, I, r))
		add(ffnSelect(p, prefix, T, I, s.TopKRounds)...)
		if U > 0 {
			n := U
			if p.Shape.Gated {
				n = 2 * U
			}
			add(ffnGEMM(prefix+"up.gather_cols", T, n, h), ffnVec(prefix+"act", t*int64(U), denseAct))
		}
		down()
	default: // relu, cats, chess, statistical_topk, topk: the gate decides
		if p.Shape.Gated {
			act := opsSiLU
			if p.Spec.Method == actsparse.ReLU {
				act = opsReLU
			}
			add(ffnGEMM(prefix+"gate", T, I, h), ffnVec(prefix+"gate_act", t*int64(I), act))
			add(ffnSelect(p, prefix, T, I, s.TopKRounds)...)
			if U > 0 {
				add(ffnGEMM(prefix+"up.gather_cols", T, U, h), ffnVec(prefix+"mul", t*int64(U), opsMultiply))
			}
		} else {
			act := ops.ActivationOps(false)
			if p.Spec.Method == actsparse.ReLU {
				act = opsReLU
			}
			add(ffnGEMM(prefix+"up", T, I, h), ffnVec(prefix+"act", t*int64(I), act))
			add(ffnSelect(p, prefix, T, I, s.TopKRounds)...)
		}
		down()
	}
	return out
}
