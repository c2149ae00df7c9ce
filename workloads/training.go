package workloads

// Training phases of one layer.
const (
	PhaseForward    = "fwd"        // Y = X·W
	PhaseBackData   = "bwd_data"   // dX = dY·Wᵀ
	PhaseBackWeight = "bwd_weight" // dW = Xᵀ·dY
	PhaseUpdate     = "update"     // W −= η·dW, element-wise
)

// Training turns an inference workload into one training step: every layer
// becomes its forward GEMM, its input-gradient GEMM (skipped for the first
// layer, whose input needs no gradient), its weight-gradient GEMM and, for
// weight layers, the weight update (Kind "update": M×N weights, K = 1).
//
// For a weight layer (M×K)·(K×N): dX = dY·Wᵀ is (M×N)·(N×K), a GEMM with
// M, K' = N, N' = K whose weight operand is Wᵀ — BDWP prunes it N:M along
// N, its reduction dimension; dW = Xᵀ·dY is (K×M)·(M×N), M' = K, K' = M,
// dense. An activation×activation product A·B gets dA = dC·Bᵀ and
// dB = Aᵀ·dC, both dense.
func Training(w Workload) Workload {
	out := Workload{Name: w.Name + "/train", Source: w.Source}
	for i, l := range w.Layers {
		fwd := l
		fwd.Phase = PhaseForward
		fwd.Name = l.Name + ".fwd"
		out.Layers = append(out.Layers, fwd)
		if i > 0 {
			out.Layers = append(out.Layers, Layer{Name: l.Name + ".bwd_data", Kind: l.Kind, Phase: PhaseBackData,
				M: l.M, K: l.N, N: l.K, Groups: l.Groups, NM: l.NM, WeightOperand: l.WeightOperand})
		}
		out.Layers = append(out.Layers, Layer{Name: l.Name + ".bwd_weight", Kind: l.Kind, Phase: PhaseBackWeight,
			M: l.K, K: l.M, N: l.N, Groups: l.Groups})
		if l.WeightOperand {
			out.Layers = append(out.Layers, Layer{Name: l.Name + ".update", Kind: "update", Phase: PhaseUpdate,
				M: l.K, N: l.N, K: 1, Groups: l.Groups, NM: l.NM, WeightOperand: true})
		}
	}
	return out
}
