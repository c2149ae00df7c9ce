package mapping

import (
	"fmt"
	"strings"

	"github.com/sparsesim/sparsesim/dataflow"
)

// Loop is one temporal loop of a layer's fold nest. The dataflow fixes the
// spatial part (what sits on rows and columns); the loops walk the tiles:
// row folds, column folds, and tiles of the streamed (time) dimension.
type Loop byte

// The fold loops.
const (
	LoopRow  Loop = 'R' // folds along the array's rows (the dataflow's RowDim)
	LoopCol  Loop = 'C' // folds along the columns (ColDim)
	LoopTime Loop = 'T' // tiles of the streamed dimension (TimeDim)
)

// Order is the fold loops, outermost first. Within a fold the array
// streams the time tile's steps, so T's position says how often the
// stationary operand is refilled and how far apart two visits of a tile
// are.
type Order [3]Loop

// The orders with names.
var (
	// OrderRowMajor walks row folds outside and column folds inside with
	// the streamed dimension whole: sparsesim's order before the mapper.
	OrderRowMajor = Order{LoopRow, LoopCol, LoopTime}
	// OrderSCALESim is SCALE-Sim v2's order: its systolic_compute_ws.py
	// and _is.py build demand matrices with `for fc in range(col_fold):
	// for fr in range(row_fold)`, column folds outside.
	OrderSCALESim = Order{LoopCol, LoopRow, LoopTime}
)

// Orders lists every order.
func Orders() []Order {
	return []Order{
		{LoopRow, LoopCol, LoopTime}, {LoopCol, LoopRow, LoopTime},
		{LoopTime, LoopRow, LoopCol}, {LoopTime, LoopCol, LoopRow},
		{LoopRow, LoopTime, LoopCol}, {LoopCol, LoopTime, LoopRow},
	}
}

func (o Order) String() string { return string(o[:]) }

// ParseOrder reads an order written as its three letters (e.g. "TCR").
func ParseOrder(s string) (Order, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	for _, o := range Orders() {
		if o.String() == s {
			return o, nil
		}
	}
	return Order{}, fmt.Errorf("loop order %q: want a permutation of R (row folds), C (column folds) and T (time tiles), e.g. RCT or TCR", s)
}

// valid reports whether o is a permutation of the three loops.
func (o Order) valid() bool {
	seen := map[Loop]bool{}
	for _, l := range o {
		if l != LoopRow && l != LoopCol && l != LoopTime {
			return false
		}
		seen[l] = true
	}
	return len(seen) == 3
}

// dim is the GEMM dimension a loop walks under df.
func (l Loop) dim(df dataflow.Dataflow) dataflow.Dim {
	switch l {
	case LoopRow:
		return df.RowDim
	case LoopCol:
		return df.ColDim
	}
	return df.TimeDim
}

// Describe is the order in words for reports, e.g. "M tiles ▸ N folds ▸ K
// folds" for TCR in ws.
func (o Order) Describe(df dataflow.Dataflow) string {
	parts := make([]string, 3)
	for i, l := range o {
		kind := "folds"
		if l == LoopTime {
			kind = "tiles"
		}
		parts[i] = l.dim(df).String() + " " + kind
	}
	return strings.Join(parts, " > ")
}
