package moe

import (
	"math"
	"math/bits"
	"slices"
)

// Stats summarises routing decisions over MoE layer-steps (one layer's
// routing of one step's tokens).
type Stats struct {
	Experts, K, Chunk int
	// LayerSteps counts decisions; Tokens the tokens routed in them.
	LayerSteps, Tokens int64
	// TouchedSum sums the distinct experts each decision's tokens chose.
	TouchedSum int64
	// MaxOverMeanSum sums each decision's busiest expert's tokens over
	// the mean (tokens·k/experts).
	MaxOverMeanSum float64
	// LoadByRank[r] sums each decision's (r+1)-th largest expert load.
	LoadByRank []float64
	// TouchedByLayer and StepsByLayer give the per-layer mean.
	TouchedByLayer, StepsByLayer []int64
	// Assignments are (token, expert) pairs routed; Dropped those over
	// capacity.
	Assignments, Dropped int64
	// ChunkSum sums the distinct experts of each complete chunk of Chunk
	// consecutive tokens of one sequence in one layer; Chunks counts them.
	ChunkSum, Chunks int64
	// UniformExpectedSum sums E·(1 − (1 − k/E)^T) over decisions: what
	// independent uniform routing would touch at the same token counts.
	UniformExpectedSum float64
	chunks             map[[2]int]*chunkState
}

type chunkState struct {
	set []uint64
	n   int
}

// NewStats starts empty statistics.
func NewStats(experts, k, chunk int) *Stats {
	return &Stats{Experts: experts, K: k, Chunk: max(chunk, 1), LoadByRank: make([]float64, experts), chunks: map[[2]int]*chunkState{}}
}

// ExpectedUniform is E·(1 − (1 − k/E)^B): the mean distinct experts B
// tokens choose when each picks k of E uniformly and independently.
func ExpectedUniform(experts, k, tokens int) float64 {
	E := float64(experts)
	return E * (1 - math.Pow(1-float64(k)/E, float64(tokens)))
}

// Add folds a decision in. Decisions of one sequence must come in
// position order for the chunk union.
func (s *Stats) Add(d *Decision) {
	T := d.Step.Tokens()
	s.LayerSteps++
	s.Tokens += int64(T)
	touched, most := 0, 0
	for _, c := range d.Counts {
		if c > 0 {
			touched++
		}
		most = max(most, c)
	}
	s.TouchedSum += int64(touched)
	if T > 0 {
		s.MaxOverMeanSum += float64(most) / (float64(T*d.K) / float64(d.Experts))
	}
	loads := slices.Clone(d.Counts)
	slices.SortFunc(loads, func(a, b int) int { return b - a })
	for r, c := range loads {
		s.LoadByRank[r] += float64(c)
	}
	for len(s.TouchedByLayer) <= d.Layer {
		s.TouchedByLayer = append(s.TouchedByLayer, 0)
		s.StepsByLayer = append(s.StepsByLayer, 0)
	}
	s.TouchedByLayer[d.Layer] += int64(touched)
	s.StepsByLayer[d.Layer]++
	s.Assignments += int64(T * d.K)
	s.Dropped += int64(d.Dropped)
	s.UniformExpectedSum += ExpectedUniform(d.Experts, d.K, T)
	words := (d.Experts + 63) / 64
	for t := 0; t < T; t++ {
		seq := t / d.Step.New
		c := s.chunks[[2]int{d.Layer, seq}]
		if c == nil {
			c = &chunkState{set: make([]uint64, words)}
			s.chunks[[2]int{d.Layer, seq}] = c
		}
		for _, e := range d.Choice[t*d.K : (t+1)*d.K] {
			c.set[e/64] |= 1 << (e % 64)
		}
		if c.n++; c.n == s.Chunk {
			for i, w := range c.set {
				s.ChunkSum += int64(bits.OnesCount64(w))
				c.set[i] = 0
			}
			s.Chunks++
			c.n = 0
		}
	}
}

// TouchedMean is the mean distinct experts per layer-step.
func (s *Stats) TouchedMean() float64 { return ratio(float64(s.TouchedSum), s.LayerSteps) }

// MaxOverMean is the mean over layer-steps of max load / mean load.
func (s *Stats) MaxOverMean() float64 { return ratio(s.MaxOverMeanSum, s.LayerSteps) }

// ChunkTouchedMean is the mean distinct experts over Chunk consecutive
// tokens of a sequence (0 when no chunk completed).
func (s *Stats) ChunkTouchedMean() float64 { return ratio(float64(s.ChunkSum), s.Chunks) }

// UniformExpected is the mean of ExpectedUniform over the layer-steps.
func (s *Stats) UniformExpected() float64 { return ratio(s.UniformExpectedSum, s.LayerSteps) }

// MeanLoadByRank is the mean tokens of the r-th most loaded expert.
func (s *Stats) MeanLoadByRank() []float64 {
	out := make([]float64, len(s.LoadByRank))
	for i, v := range s.LoadByRank {
		out[i] = ratio(v, s.LayerSteps)
	}
	return out
}

// TouchedMeanByLayer is each layer's mean distinct experts per step.
func (s *Stats) TouchedMeanByLayer() []float64 {
	out := make([]float64, len(s.TouchedByLayer))
	for i, v := range s.TouchedByLayer {
		out[i] = ratio(float64(v), s.StepsByLayer[i])
	}
	return out
}

func ratio(a float64, n int64) float64 {
	if n == 0 {
		return 0
	}
	return a / float64(n)
}
