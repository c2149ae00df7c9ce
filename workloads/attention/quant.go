package attention

import "math"

// Quantizer is symmetric linear quantization to Bits bits with a per-tensor
// scale; a code splits into MSBs (fetched first) and LSBs (fetched only on
// demand), as SpAtten stores K and V.
type Quantizer struct {
	Bits  int // total bits, MSB + LSB
	LSB   int // low bits fetched only when needed
	Scale float64
}

// NewQuantizer fits the scale to the largest |x|.
func NewQuantizer(x [][]float64, bits, lsb int) Quantizer {
	m := 0.0
	for _, r := range x {
		for _, v := range r {
			m = math.Max(m, math.Abs(v))
		}
	}
	if m == 0 {
		m = 1
	}
	return Quantizer{Bits: bits, LSB: lsb, Scale: m / float64(int(1)<<(bits-1)-1)}
}

// Code quantizes one value to a signed integer of Bits bits.
func (q Quantizer) Code(v float64) int32 {
	lim := float64(int32(1)<<(q.Bits-1) - 1)
	// Clamped by comparison: math.Max/Min's NaN and signed-zero handling
	// cost more than the rounding, and give the same code here.
	r := math.Round(v / q.Scale)
	if r > lim {
		r = lim
	} else if r < -lim {
		r = -lim
	}
	return int32(r)
}

// MSBOnly is the code with its LSBs zeroed (arithmetic shift keeps the
// sign): what the engine computes with before any LSB fetch.
func (q Quantizer) MSBOnly(c int32) int32 { return c >> q.LSB << q.LSB }

// Dequant turns a code back into a value.
func (q Quantizer) Dequant(c int32) float64 { return float64(c) * q.Scale }

// Recombine joins an MSB part (already shifted into place) and the LSBs:
// the unit's MSB/LSB recombination.
func Recombine(msb int32, lsb uint32, lsbBits int) int32 {
	return msb | int32(lsb&(1<<lsbBits-1))
}

// LSBs extracts the low bits of a code.
func LSBs(c int32, lsbBits int) uint32 { return uint32(c) & (1<<lsbBits - 1) }

// Progressive computes one query's probabilities over the kept keys with
// MSB-only keys; if the largest probability is below tau it fetches the
// LSBs and recomputes at full precision. It returns the probabilities used
// and whether LSBs were fetched.
func Progressive(qv []float64, k [][]float64, keep []int, quant Quantizer, tau float64) (probs []float64, refetch bool) {
	scale := 1 / math.Sqrt(float64(len(qv)))
	row := func(full bool) []float64 {
		r := make([]float64, len(keep))
		for j, t := range keep {
			var s float64
			for c, x := range k[t] {
				code := quant.Code(x)
				if !full {
					code = quant.MSBOnly(code)
				}
				s += qv[c] * quant.Dequant(code)
			}
			r[j] = s * scale
		}
		Softmax(r)
		return r
	}
	probs = row(false)
	mx := 0.0
	for _, p := range probs {
		mx = math.Max(mx, p)
	}
	if mx >= tau {
		return probs, false
	}
	return row(true), true
}
