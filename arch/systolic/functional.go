package systolic

import (
	"fmt"
	"math"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

// Functional simulation: the datapath computes actual values, fold by fold
// in the order the timing model issues them, with the units' semantics —
// the N:M PE selecting activations by stored index (rtl/src/nm_pe.v), the
// top-k engine's quick-select (rtl/src/topk_pass.v), progressive
// quantization's MSB/LSB recombination (rtl/src/pquant.v) — and
// accumulation in the configured data type.

// FunctionalFault plants a datapath bug for tests that must see a
// comparison fail: "nm-index" makes the N:M multiplexer select the next
// activation; "" is the correct datapath.
var FunctionalFault string

// MaxFunctionalMACs bounds functional runs to small and medium layers.
const MaxFunctionalMACs = 1 << 31

// numeric rounds values to the configured data type and accumulates the
// way its PEs do: integers wrap in a 32-bit accumulator (64-bit for int32
// operands); floats multiply and accumulate in fp32.
type numeric struct {
	dtype string
	lo    float64
	hi    float64
	isInt bool
}

func numericOf(dtype string) numeric {
	switch dtype {
	case "int8":
		return numeric{dtype, -128, 127, true}
	case "int16":
		return numeric{dtype, -32768, 32767, true}
	case "int32":
		return numeric{dtype, math.MinInt32, math.MaxInt32, true}
	}
	return numeric{dtype: dtype}
}

func (n numeric) check(name string, v float64) error {
	if n.isInt && (v != math.Trunc(v) || v < n.lo || v > n.hi) {
		return fmt.Errorf("%s value %g is not an %s", name, v, n.dtype)
	}
	return nil
}

// round puts a float into the data type's precision.
func (n numeric) round(v float64) float64 {
	switch n.dtype {
	case "fp32":
		return float64(float32(v))
	case "fp16":
		return roundMantissa(float64(float32(v)), 10)
	case "bf16":
		return roundMantissa(float64(float32(v)), 7)
	}
	return v
}

// roundMantissa keeps bits of mantissa (round to nearest even).
func roundMantissa(v float64, bits int) float64 {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	frac, exp := math.Frexp(v)
	scale := math.Ldexp(1, bits+1)
	return math.Ldexp(math.RoundToEven(frac*scale)/scale, exp)
}

// FunctionalGEMM computes Y = X·W on the configured array. W must already
// be N:M along K when pattern is sparse; the weights are then compressed and
// every PE multiplies its kept weight by the activation its index selects.
func FunctionalGEMM(cfg *configs.Config, x, w nm.Matrix[float64], pattern nm.Pattern) (nm.Matrix[float64], error) {
	if x.Cols != w.Rows {
		return nm.Matrix[float64]{}, fmt.Errorf("functional GEMM: X is %dx%d but W is %dx%d", x.Rows, x.Cols, w.Rows, w.Cols)
	}
	if int64(x.Rows)*int64(x.Cols)*int64(w.Cols) > MaxFunctionalMACs {
		return nm.Matrix[float64]{}, fmt.Errorf("functional GEMM of %dx%dx%d is beyond the functional model's %d MACs", x.Rows, w.Cols, x.Cols, int64(MaxFunctionalMACs))
	}
	num := numericOf(cfg.PEArray.DType)
	// Operands enter the array in its data type (copies: the caller's
	// matrices stay as they were).
	x = nm.Matrix[float64]{Rows: x.Rows, Cols: x.Cols, Data: append([]float64(nil), x.Data...)}
	w = nm.Matrix[float64]{Rows: w.Rows, Cols: w.Cols, Data: append([]float64(nil), w.Data...)}
	for _, op := range []struct {
		name string
		data []float64
	}{{"activation", x.Data}, {"weight", w.Data}} {
		for i, v := range op.data {
			if err := num.check(fmt.Sprintf("%s %d", op.name, i), v); err != nil {
				return nm.Matrix[float64]{}, err
			}
			op.data[i] = num.round(v)
		}
	}
	df := cfg.DataflowSpec()
	if !df.CompressesK {
		pattern = nm.Pattern{}
	}
	// Weights as the PEs hold them: slots of (value, K index) per column.
	M, K, N := x.Rows, x.Cols, w.Cols
	slots := K
	val := func(s, n int) (float64, int) { return w.Data[s*N+n], s }
	if !pattern.Dense() {
		c, err := nm.Compress(w, pattern)
		if err != nil {
			return nm.Matrix[float64]{}, fmt.Errorf("weights are not %s: %v", pattern, err)
		}
		per := c.Groups * pattern.N
		slots = per
		val = func(s, n int) (float64, int) {
			i := c.Index[n*per+s]
			if FunctionalFault == "nm-index" {
				i = (i + 1) % uint8(pattern.M)
			}
			return c.Values[n*per+s], (s/pattern.N)*pattern.M + int(i)
		}
	}
	ext := [3]int{M, N, slots}
	R, C := cfg.PEArray.Rows, cfg.PEArray.Cols
	accI := make([]int64, M*N)
	accF := make([]float32, M*N)
	wrap := func(v int64) int64 {
		if num.dtype == "int32" {
			return v
		}
		return int64(int32(v))
	}
	for r0 := 0; r0 < ext[df.RowDim]; r0 += R {
		for c0 := 0; c0 < ext[df.ColDim]; c0 += C {
			// One fold: every PE of the tile, every streamed step.
			for i := r0; i < min(r0+R, ext[df.RowDim]); i++ {
				for j := c0; j < min(c0+C, ext[df.ColDim]); j++ {
					for t := 0; t < ext[df.TimeDim]; t++ {
						var at [3]int
						at[df.RowDim], at[df.ColDim], at[df.TimeDim] = i, j, t
						m, n, s := at[dataflow.M], at[dataflow.N], at[dataflow.K]
						wv, k := val(s, n)
						if k >= K || wv == 0 {
							continue // a padding slot
						}
						a := x.Data[m*K+k]
						if num.isInt {
							accI[m*N+n] = wrap(accI[m*N+n] + int64(wv)*int64(a))
						} else {
							accF[m*N+n] += float32(wv) * float32(a)
						}
					}
				}
			}
		}
	}
	y := nm.NewMatrix[float64](M, N)
	for i := range y.Data {
		if num.isInt {
			y.Data[i] = float64(accI[i])
		} else {
			y.Data[i] = float64(accF[i])
		}
	}
	return y, nil
}
