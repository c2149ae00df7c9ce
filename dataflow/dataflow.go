package dataflow

import (
	"fmt"
	"strings"
)

// Dim is one of the three GEMM dimensions of (M×K)·(K×N).
type Dim int

// The GEMM dimensions.
const (
	M Dim = iota
	N
	K
)

func (d Dim) String() string { return [...]string{"M", "N", "K"}[d] }

// Operand is one of the three GEMM matrices.
type Operand int

// The operands, named as SCALE-Sim names its SRAMs.
const (
	Ifmap  Operand = iota // A, M×K: activations
	Filter                // B, K×N: weights
	Ofmap                 // C, M×N: outputs
)

// Operands lists all three in a fixed order.
var Operands = []Operand{Ifmap, Filter, Ofmap}

func (o Operand) String() string { return [...]string{"ifmap", "filter", "ofmap"}[o] }

// Dims are the two GEMM dimensions that index the operand.
func (o Operand) Dims() [2]Dim {
	return [...][2]Dim{{M, K}, {K, N}, {M, N}}[o]
}

// Indexes reports whether the operand is indexed by d.
func (o Operand) Indexes(d Dim) bool {
	ds := o.Dims()
	return ds[0] == d || ds[1] == d
}

// Dataflow maps the GEMM onto a rows×cols array.
type Dataflow struct {
	Name    string
	RowDim  Dim // laid along the array rows
	ColDim  Dim // laid along the array columns
	TimeDim Dim // streamed, one step per cycle
	// CompressesK says N:M weights shorten K here: true when the weights
	// stream along K (os) or sit on the array indexed by K (ws), so each
	// PE holds or receives only kept weights and selects activations by
	// index. With inputs stationary over K (is) every PE row still owns a
	// dense K position, so weight sparsity saves nothing.
	CompressesK bool
	Describe    string
}

// Stationary is the operand not indexed by the streamed dimension: it stays
// in the PEs for a whole fold.
func (d Dataflow) Stationary() Operand {
	for _, o := range Operands {
		if !o.Indexes(d.TimeDim) {
			return o
		}
	}
	panic("unreachable: every dimension leaves one operand out")
}

// Preloads reports whether a fold first loads an input operand into the PEs
// (ws, is); os keeps its outputs in place and needs no preload.
func (d Dataflow) Preloads() bool { return d.Stationary() != Ofmap }

// SpatialReduction reports whether K lies across the array, so partial sums
// of one output tile come from several folds.
func (d Dataflow) SpatialReduction() bool { return d.TimeDim != K }

// FoldCycles is SCALE-Sim's cycle count for one fold of an r×c array
// streaming t steps: fill and drain of the skewed wavefront (r + c − 2),
// the t streamed steps, and r preload cycles when an input is stationary.
// It is the array size, not the used part, that sets the skew: SCALE-Sim
// pads partial folds to the full array.
func (d Dataflow) FoldCycles(r, c, t int) int64 {
	cyc := int64(t + r + c - 2)
	if d.Preloads() {
		cyc += int64(r)
	}
	return cyc
}

var all = []Dataflow{
	{Name: "os", RowDim: M, ColDim: N, TimeDim: K, CompressesK: true, Describe: "output stationary: each PE owns one output; A and B stream along K"},
	{Name: "ws", RowDim: K, ColDim: N, TimeDim: M, CompressesK: true, Describe: "weight stationary: each PE holds one weight; activations stream along M"},
	{Name: "is", RowDim: K, ColDim: M, TimeDim: N, Describe: "input stationary: each PE holds one activation; weights stream along N"},
}

// All lists the supported dataflows.
func All() []Dataflow { return append([]Dataflow(nil), all...) }

// Names lists the dataflow names.
func Names() []string {
	var s []string
	for _, d := range all {
		s = append(s, d.Name)
	}
	return s
}

// Lookup finds a dataflow by name (case-insensitive).
func Lookup(name string) (Dataflow, error) {
	for _, d := range all {
		if strings.EqualFold(d.Name, name) {
			return d, nil
		}
	}
	return Dataflow{}, fmt.Errorf("unknown dataflow %q (allowed: %s)", name, strings.Join(Names(), ", "))
}
