package catalog

// ArraySize is one whole-array synthesis point of rtl/src/sa_array.v: an
// R×C weight-stationary array whose PEs select from an activation window of
// M words (M = 1 is the dense array).
type ArraySize struct{ R, C, M int }

// ArrayUnit is the unit name of whole-array rows in rtl_resources.csv.
const ArrayUnit = "sa_array"

// ArrayFitSizes are the arrays the per-PE resource fit is made from;
// ArrayCheckSizes are synthesised too but kept out of the fit, to measure
// its error on sizes it has not seen.
var (
	ArrayFitSizes = []ArraySize{
		{4, 4, 1}, {8, 8, 1}, {16, 16, 1},
		{4, 4, 4}, {8, 8, 4}, {16, 16, 4},
		{4, 4, 8}, {8, 8, 8}, {16, 16, 8},
	}
	ArrayCheckSizes = []ArraySize{{12, 12, 1}, {12, 12, 4}, {12, 12, 8}, {6, 10, 8}}
)
