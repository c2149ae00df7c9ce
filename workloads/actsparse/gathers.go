package actsparse

// Gather kinds: which weight rows a sparse GEMM reads.
const (
	GatherDownRows = "down_rows" // rows of W_down (K×N, neuron-major)
	GatherUpRows   = "up_rows"   // rows of W_up/W_gate (input channels)
	GatherUpCols   = "up_cols"   // neurons' columns of W_up/W_gate, stored neuron-major
)

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
