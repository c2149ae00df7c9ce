package actsparse

import (
	"math"
	"math/rand/v2"
)

// Shape is one feed-forward layer's size.
type Shape struct {
	Hidden, Inter int
	// Gated FFNs (SwiGLU) multiply the activation of the gate projection
	// by the up projection; plain ones (GPT-2) apply GELU to the up
	// projection.
	Gated bool
}

// spectrumDecay is the assumed power law of a weight matrix's singular
// values, σ_k ∝ k^-spectrumDecay, used only by R-Sparse's low-rank
// correction (docs/ffn-moe.md): an assumption, not calibrated.
const spectrumDecay = 0.5

// layerDist is one layer's synthetic population: a mean gate
// pre-activation per neuron (how unequal neurons are: some fire for most
// tokens, some for almost none, which is what keeps the batch union below
// the independent-neuron value), a log-normal scale per input channel, and
// log-normal row norms of the weights WINA weighs activations by.
//
// A token's gate pre-activation for neuron i is g_i = bias_i + ε with
// ε ~ N(0, 1), its up projection u_i = uscale_i·N(0, 1) (uscale log-normal
// with the weight spread: rows of W_up differ in norm), and the down projection's
// input a_i = act(g_i)·u_i (SiLU for gated models, GELU for plain ones):
// a product of a Gaussian-like gate and a Gaussian, heavy-tailed and
// Laplace-like as TEAL measures the intermediate states of Llama models.
// The hidden state feeding the up and gate projections is
// x_j = xscale_j·N(0, 1), Gaussian-like as TEAL measures it.
type layerDist struct {
	bias, norm    []float64 // per neuron
	uscale        []float64 // per neuron: the up projection's scale
	xscale, xnorm []float64 // per input channel
}

func lognormal(rng *rand.Rand, n int, sigma float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = math.Exp(sigma * rng.NormFloat64())
	}
	return v
}

func normals(rng *rand.Rand, n int, sigma float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = sigma * rng.NormFloat64()
	}
	return v
}

// inputSpread is the log-scale spread of the hidden state's channels (a
// few channels carry most of the magnitude): an assumption.
const inputSpread = 0.5

func newLayerDist(rng *rand.Rand, sh Shape, sp Spec) layerDist {
	return layerDist{
		bias:   normals(rng, sh.Inter, sp.NeuronSpread),
		norm:   lognormal(rng, sh.Inter, sp.WeightSpread),
		uscale: lognormal(rng, sh.Inter, sp.WeightSpread),
		xscale: lognormal(rng, sh.Hidden, inputSpread),
		xnorm:  lognormal(rng, sh.Hidden, sp.WeightSpread),
	}
}

// token is one token's FFN activations in a layer.
type token struct {
	eg, eu, ex []float64 // the standard-normal draws (kept for correlation)
	g, u, x    []float64
	ag         []float64 // act(g), filled by the kernel
}

// drawToken draws a token; with prev set, each standard-normal draw is
// AR(1)-correlated with prev's by rho (consecutive tokens of a sequence).
func drawToken(rng *rand.Rand, d *layerDist, sh Shape, withX bool, prev *token, rho float64) *token {
	t := &token{eg: make([]float64, sh.Inter), eu: make([]float64, sh.Inter), g: make([]float64, sh.Inter), u: make([]float64, sh.Inter)}
	c := math.Sqrt(1 - rho*rho)
	next := func(p []float64, i int) float64 {
		z := rng.NormFloat64()
		if p != nil {
			return rho*p[i] + c*z
		}
		return z
	}
	var pg, pu, px []float64
	if prev != nil {
		pg, pu, px = prev.eg, prev.eu, prev.ex
	}
	for i := range t.g {
		t.eg[i] = next(pg, i)
		t.g[i] = d.bias[i] + t.eg[i]
		if sh.Gated {
			t.eu[i] = next(pu, i)
			t.u[i] = d.uscale[i] * t.eu[i]
		} else {
			t.u[i] = 1
		}
	}
	if withX {
		t.ex, t.x = make([]float64, sh.Hidden), make([]float64, sh.Hidden)
		for j := range t.x {
			t.ex[j] = next(px, j)
			t.x[j] = d.xscale[j] * t.ex[j]
		}
	}
	return t
}

// silu is x·sigmoid(x); gelu the tanh approximation GPT-2 uses.
func silu(x float64) float64 { return x / (1 + math.Exp(-x)) }

func gelu(x float64) float64 {
	return 0.5 * x * (1 + math.Tanh(0.7978845608028654*(x+0.044715*x*x*x)))
}

// normQuantile is Φ⁻¹(p) of the standard normal.
func normQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

// lowRankTail is the share of a weight matrix's squared Frobenius norm
// beyond its best rank-r approximation, for n singular values following
// the assumed power law: what of a dropped channel's contribution
// R-Sparse's rank-r part does not recover, for a dropped vector with no
// preferred direction.
func lowRankTail(r, n int) float64 {
	if r >= n {
		return 0
	}
	var tot, tail float64
	for k := 1; k <= n; k++ {
		v := math.Pow(float64(k), -2*spectrumDecay)
		tot += v
		if k > r {
			tail += v
		}
	}
	return tail / tot
}

// quantile is the q-quantile of v (v is reordered): the value with
// ⌊q·n⌋ values below it, found by quick-select in linear time.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	k := int(q * float64(len(v)))
	if k >= len(v) {
		k = len(v) - 1
	}
	lo, hi := 0, len(v)-1
	for lo < hi {
		p := v[(lo+hi)/2]
		i, j := lo, hi
		for i <= j {
			for v[i] < p {
				i++
			}
			for v[j] > p {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}
