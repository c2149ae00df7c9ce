package attention

import (
	"math"
	"math/rand"

	attnkernel "github.com/sparsesim/sparsesim/workloads/attention"
)

// Functional simulation of the attention datapath: actual values through
// the units' semantics — the top-k engine's quick-select
// (rtl/src/topk_pass.v) and progressive quantization's MSB/LSB
// recombination (rtl/src/pquant.v).

// AttnHeadInput is one head's data for the functional attention datapath.
type AttnHeadInput struct {
	Q, K, V  [][]float64
	Keep     []int // alive tokens (after cascade token pruning)
	VKeep    int   // values kept per query (local V pruning), ≥ len(Keep) for none
	MSB, LSB int   // K code bits fetched first and on demand
	Tau      float64
	Seed     int64 // the top-k engine's pivot choices
}

// AttnHeadOutput is what the datapath produced.
type AttnHeadOutput struct {
	Out     [][]float64
	VSel    [][]int // per query, the selected alive positions
	Refetch []bool  // per query, whether key LSBs were fetched
	Rounds  []int   // top-k rounds taken (for timing)
}

// FunctionalAttention runs one head through the engine's datapath: keys as
// MSB+LSB codes; Q×K on MSB-only codes; softmax; the τ decision; on a
// refetch the LSBs are recombined with the MSBs and Q×K and softmax run
// again; the top-k engine's quick-select picks the values; prob×V.
func FunctionalAttention(in AttnHeadInput) AttnHeadOutput {
	quant := attnkernel.NewQuantizer(in.K, in.MSB+in.LSB, in.LSB)
	rng := rand.New(rand.NewSource(in.Seed))
	d := len(in.Q[0])
	scale := 1 / math.Sqrt(float64(d))
	var o AttnHeadOutput
	for _, q := range in.Q {
		scores := func(full bool) []float64 {
			s := make([]float64, len(in.Keep))
			for j, t := range in.Keep {
				var acc float64
				for c, x := range in.K[t] {
					code := quant.Code(x)
					msb := quant.MSBOnly(code)
					if full { // the LSB fetch: recombine (rtl/src/pquant.v)
						msb = attnkernel.Recombine(msb, attnkernel.LSBs(code, in.LSB), in.LSB)
					}
					acc += q[c] * quant.Dequant(msb)
				}
				s[j] = acc * scale
			}
			attnkernel.Softmax(s)
			return s
		}
		p := scores(false)
		refetch := attnkernel.MaxOf(p) < in.Tau
		if refetch {
			p = scores(true)
		}
		sel, rounds := attnkernel.QuickSelect(p, min(in.VKeep, len(p)), rng)
		o.Rounds = append(o.Rounds, rounds...)
		out := make([]float64, len(in.V[0]))
		for _, j := range sel {
			for c, v := range in.V[in.Keep[j]] {
				out[c] += p[j] * v
			}
		}
		o.Out = append(o.Out, out)
		o.VSel = append(o.VSel, sel)
		o.Refetch = append(o.Refetch, refetch)
	}
	return o
}
