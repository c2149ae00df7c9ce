package moe

import (
	"math"
	"math/rand"
)

// mix is splitmix64's finaliser: a bijective hash of a 64-bit value with
// good avalanche, used to give every (seed, layer, sequence, position)
// its own random stream without a heavy generator per token.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// key folds values into one stream key.
func key(vals ...int64) uint64 {
	h := uint64(0x243f6a8885a308d3)
	for _, v := range vals {
		h = mix(h ^ uint64(v))
	}
	return h
}

// stream is a splitmix64 generator. It is also a rand.Source64 so the
// top-k engine's quick-select (which draws its pivots from a *rand.Rand)
// runs on it; reseeding it per token keeps a token's routing independent
// of which other tokens share its batch.
type stream struct {
	s uint64
	// spare is the second normal of the last Box–Muller pair.
	spare    float64
	hasSpare bool
}

func (g *stream) Uint64() uint64 {
	g.s += 0x9e3779b97f4a7c15
	z := g.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (g *stream) Int63() int64       { return int64(g.Uint64() >> 1) }
func (g *stream) Seed(seed int64)    { g.reset(uint64(seed)) }
func (g *stream) reset(k uint64)     { g.s, g.hasSpare = k, false }
func (g *stream) float() float64     { return float64(g.Uint64()>>11) / (1 << 53) }
func (g *stream) openFloat() float64 { return (float64(g.Uint64()>>11) + 0.5) / (1 << 53) }

// normal is a standard normal draw (Box–Muller: a pair per two uniforms).
func (g *stream) normal() float64 {
	if g.hasSpare {
		g.hasSpare = false
		return g.spare
	}
	u, v := g.openFloat(), g.float()
	r := math.Sqrt(-2 * math.Log(u))
	sin, cos := math.Sincos(2 * math.Pi * v)
	g.spare, g.hasSpare = r*sin, true
	return r * cos
}

// gumbel is a standard Gumbel draw: adding one to each log-probability and
// keeping the k largest samples k items without replacement with
// probability proportional to their weights (the Gumbel-top-k trick), so a
// real top-k over these logits realises the popularity distribution.
func (g *stream) gumbel() float64 { return -math.Log(-math.Log(g.openFloat())) }

// gamma is a Gamma(a, 1) draw (Marsaglia and Tsang; a < 1 boosted by
// U^(1/a)), for Dirichlet popularities.
func (g *stream) gamma(a float64) float64 {
	if a < 1 {
		return g.gamma(a+1) * math.Pow(g.openFloat(), 1/a)
	}
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := g.normal()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := g.openFloat()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

var _ rand.Source64 = (*stream)(nil)
