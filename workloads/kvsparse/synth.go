package kvsparse

import (
	"math"
	"math/rand"
)

// Synth are the synthetic Q/K/V distribution's parameters. None is
// calibrated against real activation dumps (none are available here):
// each is an assumption chosen to give the property the papers rely on,
// and docs/kv-sparsity.md lists what each produces.
type Synth struct {
	// RoPEBase is the rotary base θ: Llama 3's 500000. Channel pair i
	// turns by position·RoPEBase^(−2i/D).
	RoPEBase float64
	// OutlierChannels are the last (lowest-frequency, nearly
	// position-invariant) rotary channels; K's noise there is
	// OutlierScale times larger, and relevance lives there (outlier
	// channels in K, as Double Sparsity and KIVI observe).
	OutlierChannels int
	OutlierScale    float64
	// OutlierBias is a fixed per-channel offset of K in the outlier
	// channels (its sign and share drawn per head): large magnitude that
	// shifts every score of a query alike.
	OutlierBias float64
	// QueryScale is the queries' noise per channel.
	QueryScale float64
	// Topics are random directions in the outlier subspace. Relevant
	// tokens come in spans: a span starts at a token with probability
	// SpanStart and lasts a geometric number of tokens of mean SpanLen;
	// each span has one topic and its keys carry RelevanceGain along it
	// (heavy hitters that persist across queries, as H2O observes).
	Topics        int
	SpanStart     float64
	SpanLen       float64
	RelevanceGain float64
	// HeavySigma spreads each relevant token's gain log-normally
	// (gain·exp(HeavySigma·z)): a few tokens of a span draw most of its
	// attention (heavy hitters).
	HeavySigma float64
	// BackgroundGain is the standard deviation of every token's weaker,
	// slowly varying gain along each topic (an AR(1) process whose
	// correlation length is SpanLen): relevance outside the spans drifts
	// with position instead of jumping token to token (semantic
	// locality, what page and block selection rely on).
	BackgroundGain float64
	// Each query has QueryTopicGain along one topic, chosen per step
	// (attention that moves between steps: what query-aware selection
	// exploits and accumulated-score eviction cannot follow).
	QueryTopicGain float64
	// SinkGain: token 0's key along a direction every query shares (the
	// attention sink).
	SinkGain float64
	// RecencyGain: queries and keys share a vector in the first
	// (highest-frequency) RecencyChannels rotary channels, so q·k peaks
	// for nearby positions (local attention).
	RecencyGain     float64
	RecencyChannels int
}

// DefaultSynth is the distribution every run uses unless .npy data is
// given.
var DefaultSynth = Synth{RoPEBase: 500000, OutlierChannels: 16, OutlierScale: 1.5, OutlierBias: 4, QueryScale: 0.5,
	Topics: 4, SpanStart: 1.0 / 256, SpanLen: 256, RelevanceGain: 6, HeavySigma: 0.3, BackgroundGain: 2, QueryTopicGain: 8,
	SinkGain: 6, RecencyGain: 2, RecencyChannels: 16}

// Head is one KV head's cache: L tokens of D channels, keys after RoPE.
type Head struct {
	D, L int
	K, V []float32 // L×D, row-major
	// Relevant marks each token's span topic + 1 (0: not relevant).
	Relevant []int8
	synth    Synth
	seed     int64
	topics   [][]float32 // unit vectors, D channels (zero outside outliers)
	sink     []float32
	recent   []float32
	theta    []float64
	// q and g: a dumped head's queries, (tokens, g, D) (LoadHead).
	q []float32
	g int
}

func mix(seed int64, xs ...int64) int64 {
	h := uint64(seed)*0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019
	for _, x := range xs {
		h ^= uint64(x) + 0x9E3779B97F4A7C15 + (h << 6) + (h >> 2)
		h *= 0xBF58476D1CE4E5B9
	}
	return int64(h >> 1)
}

// NewHead draws layer's KV head head of L tokens from s.
func NewHead(s Synth, seed int64, layer, head, D, L int) *Head {
	return newHeadInto(nil, s, seed, layer, head, D, L)
}

// newHeadInto is NewHead reusing buf's K, V and Relevant arrays when
// they are large enough (every element is written): a plan draws its
// sampled heads layer after layer into the same arrays.
func newHeadInto(buf *Head, s Synth, seed int64, layer, head, D, L int) *Head {
	rng := rand.New(rand.NewSource(mix(seed, int64(layer), int64(head))))
	h := &Head{D: D, L: L, synth: s, seed: mix(seed, int64(layer), int64(head), 7)}
	if buf != nil && len(buf.K) >= L*D && len(buf.Relevant) >= L {
		h.K, h.V, h.Relevant = buf.K[:L*D], buf.V[:L*D], buf.Relevant[:L]
	} else {
		h.K, h.V, h.Relevant = make([]float32, L*D), make([]float32, L*D), make([]int8, L)
	}
	out := min(s.OutlierChannels, D)
	unit := func(lo, hi int) []float32 {
		v := make([]float32, D)
		var n float64
		for c := lo; c < hi; c++ {
			x := rng.NormFloat64()
			v[c] = float32(x)
			n += x * x
		}
		for c := range v {
			v[c] /= float32(math.Sqrt(n))
		}
		return v
	}
	for i := 0; i < s.Topics; i++ {
		h.topics = append(h.topics, unit(D-out, D))
	}
	h.sink = unit(D-out, D)
	bias := unit(D-out, D)
	h.recent = unit(0, min(s.RecencyChannels, D))
	h.theta = make([]float64, D/2)
	for i := range h.theta {
		h.theta[i] = math.Pow(s.RoPEBase, -2*float64(i)/float64(D))
	}
	topic := -1
	bg := make([]float64, s.Topics)
	for i := range bg {
		bg[i] = s.BackgroundGain * rng.NormFloat64()
	}
	rho := 1 - 1/s.SpanLen
	inno := s.BackgroundGain * math.Sqrt(1-rho*rho)
	for t := 0; t < L; t++ {
		for i := range bg {
			bg[i] = rho*bg[i] + inno*rng.NormFloat64()
		}
		if topic >= 0 && rng.Float64() < 1/s.SpanLen {
			topic = -1
		}
		if topic < 0 && s.Topics > 0 && rng.Float64() < s.SpanStart {
			topic = rng.Intn(s.Topics)
		}
		h.Relevant[t] = int8(topic + 1)
		gain := s.RelevanceGain * math.Exp(s.HeavySigma*rng.NormFloat64())
		k := h.K[t*D : (t+1)*D]
		for c := range k {
			sc := 1.0
			if c >= D-out {
				sc = s.OutlierScale
			}
			k[c] = float32(sc*rng.NormFloat64()) + float32(s.OutlierBias*math.Sqrt(float64(out)))*bias[c]
			// The topics are zero outside the outlier channels and the
			// recency vector outside the first RecencyChannels: adding
			// their zero products would not change k[c], so only the
			// channels where they live are visited (the draw is the same).
			if c >= D-out {
				if topic >= 0 {
					k[c] += float32(gain) * h.topics[topic][c]
				}
				for i, a := range bg {
					k[c] += float32(a) * h.topics[i][c]
				}
			}
			if c < s.RecencyChannels {
				k[c] += float32(s.RecencyGain) * h.recent[c]
			}
		}
		if t == 0 {
			for c := range k {
				k[c] += float32(s.SinkGain) * h.sink[c]
			}
		}
		h.rope(k, t)
		v := h.V[t*D : (t+1)*D]
		for c := range v {
			v[c] = float32(rng.NormFloat64())
		}
	}
	return h
}

// rope rotates channel pairs (2i, 2i+1) of x by pos·θ_i.
func (h *Head) rope(x []float32, pos int) {
	for i, th := range h.theta {
		s, c := math.Sincos(float64(pos) * th)
		a, b := float64(x[2*i]), float64(x[2*i+1])
		x[2*i], x[2*i+1] = float32(a*c-b*s), float32(a*s+b*c)
	}
}

// Query is query head j (of a group of g sharing this KV head) at
// position pos, after RoPE; the step's topic is drawn per (pos, j).
func (h *Head) Query(pos, j int) []float32 {
	if h.q != nil {
		o := (pos*h.g + j%h.g) * h.D
		return h.q[o : o+h.D]
	}
	s := h.synth
	rng := rand.New(rand.NewSource(mix(h.seed, int64(pos), int64(j))))
	q := make([]float32, h.D)
	topic := -1
	if s.Topics > 0 {
		// One topic per step for the whole group: a step asks one thing.
		topic = int(uint64(mix(h.seed, int64(pos))) % uint64(s.Topics))
	}
	for c := range q {
		q[c] = float32(s.QueryScale * rng.NormFloat64())
		if topic >= 0 {
			q[c] += float32(s.QueryTopicGain) * h.topics[topic][c]
		}
		q[c] += float32(s.SinkGain) * h.sink[c] * 0.5
		q[c] += float32(s.RecencyGain) * h.recent[c]
	}
	h.rope(q, pos)
	return q
}

// Row is token t's key or value row.
func row(x []float32, D, t int) []float32 { return x[t*D : (t+1)*D] }

func dot(a, b []float32) float32 {
	var s0, s1, s2, s3 float32
	n := len(a)
	b = b[:n]
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < n; i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}
