package nm

// BDWPStep is one training step of a linear layer Y = X·W under BDWP
// (SAT): the forward pass uses W with an N:M mask along its input
// dimension K; the backward pass computes dX = dY·Wᵀ with the forward-masked
// weights further masked N:M along N (the dimension the transposed GEMM
// reduces over), ANDed with the forward mask; the weight gradient
// dW = Xᵀ·dY stays dense because it has no weight operand to prune.
type BDWPStep[T Number] struct {
	FwdMask, BwdMask []bool        // K×N, row-major
	Fwd              Compressed[T] // W∘fwd, compressed along K
	Bwd              Compressed[T] // (W∘fwd∘bwd)ᵀ, N×K compressed along N
	Y, DX, DW        Matrix[T]
}

// BDWP runs the step for x (B×K), w (K×N) and the output gradient dy (B×N).
func BDWP[T Number](x, w, dy Matrix[T], p Pattern, denseGEMM func(a, b Matrix[T]) Matrix[T]) (BDWPStep[T], error) {
	var s BDWPStep[T]
	wf, fmask := Prune(w, p, true)
	s.FwdMask = fmask
	var err error
	if s.Fwd, err = Compress(wf, p); err != nil {
		return s, err
	}
	wb, bmask := Prune(wf, p, false) // along N: rows of the K×N matrix
	for i := range bmask {
		bmask[i] = bmask[i] && fmask[i]
	}
	s.BwdMask = bmask
	if s.Bwd, err = Compress(wb.T(), p); err != nil {
		return s, err
	}
	s.Y = SparseGEMM(x, s.Fwd)
	s.DX = SparseGEMM(dy, s.Bwd)
	s.DW = denseGEMM(x.T(), dy)
	return s, nil
}
