package actsparse

import (
	"fmt"
	"math"
	mrand "math/rand"
	"math/rand/v2"

	"github.com/sparsesim/sparsesim/workloads/attention"
)

// Sample is what the kernels measured for one layer at one sampled
// decode step of Batch tokens (one per sequence).
type Sample struct {
	// TokenActive is the mean fraction of neurons a token activates.
	TokenActive float64
	// Union is the neurons any token of the batch activates: the rows of
	// the down projection (and columns of up/gate) the step must read.
	Union int
	// UnionIn is the input channels of the up/gate projections any token
	// keeps (threshold, wina, rsparse), else Hidden.
	UnionIn int
	// TokenActiveIn is the mean fraction of input channels a token keeps.
	TokenActiveIn float64
	// Chunk is the neurons Spec.Chunk consecutive tokens of one sequence
	// activate together (BlockFFN's chunk-level union); measured on a
	// layer's first sample only (0 on the others).
	Chunk int
	// RelErr is the mean over the batch's tokens of the down projection's
	// relative output error against dense; RelErrIn the same for the
	// up/gate inputs.
	RelErr, RelErrIn float64
	// Predictor: the neurons truly active (a cats threshold at the same
	// target) that it missed, and those it fetched needlessly, as
	// fractions of the truly active ones.
	Missed, Extra float64
	// CountErr is statistical_topk's mean |count − k| / k.
	CountErr float64
	// TopKRounds are the top-k engine's quick-select candidate counts for
	// the batch's tokens, each token's final filter pass included (topk).
	TopKRounds []int
	// Rows and InRows are the union's neuron and input-channel indices as
	// spans, for the gather DMA.
	Rows, InRows []Span
}

// Span is the row indices [Lo, Hi). The workload names rows with its own
// type so that describing work needs no memory model; the lowering turns
// spans into memory regions (arch/actsparse.go).
type Span struct{ Lo, Hi int64 }

// kernel is one layer's calibrated technique.
type kernel struct {
	sp     Spec
	sh     Shape
	d      layerDist
	npy    [][]float64
	row    int // next .npy row
	beta   float64
	tau    float64     // neuron score threshold
	upMag  []float64   // chess: each neuron's mean |up| on the calibration tokens
	tauX   float64     // input channel threshold
	tauT   float64     // predictor: the true (cats) threshold
	k      int         // statistical_topk: neurons kept
	tail   float64     // rsparse: unrecovered share of dropped energy
	qrng   *mrand.Rand // topk: the quick-select pivots
	rounds []int       // topk: the last token's rounds
}

func (k *kernel) usesInput() bool {
	return k.npy == nil && (k.sp.Method == Threshold || k.sp.Method == WINA || k.sp.Method == RSparse)
}

func (k *kernel) draw(rng *rand.Rand, prev *token) *token {
	var t *token
	if k.npy == nil {
		t = drawToken(rng, &k.d, k.sh, k.usesInput(), prev, k.sp.TokenCorrelation)
	} else {
		// .npy rows are the down projection's inputs: the gate score is
		// the row itself and u = 1.
		r := k.npy[k.row%len(k.npy)]
		k.row++
		t = &token{g: r, u: make([]float64, len(r))}
		for i := range t.u {
			t.u[i] = 1
		}
	}
	t.ag = make([]float64, len(t.g))
	for i, g := range t.g {
		t.ag[i] = k.act(g)
	}
	return t
}

// act is the activation the model applies to a gate pre-activation.
func (k *kernel) act(g float64) float64 {
	switch {
	case k.npy != nil:
		return g
	case k.sp.Method == ReLU:
		return math.Max(0, g-k.beta)
	case k.sh.Gated:
		return silu(g)
	}
	return gelu(g)
}

// score is the neuron's selection score for a global threshold.
func (k *kernel) score(t *token, i int) float64 {
	ag := t.ag[i]
	switch k.sp.Method {
	case Threshold, RSparse:
		return math.Abs(ag * t.u[i])
	case WINA:
		return math.Abs(ag*t.u[i]) * k.norm(i)
	case Predictor:
		return math.Abs(ag)
	case CHESS:
		return math.Abs(ag) * k.upMag[i]
	}
	return math.Abs(ag) // cats, relu
}

func (k *kernel) norm(i int) float64 {
	if k.npy != nil {
		return 1
	}
	return k.d.norm[i]
}

func (k *kernel) inScore(t *token, j int) float64 {
	s := math.Abs(t.x[j])
	if k.sp.Method == WINA {
		s *= k.d.xnorm[j]
	}
	return s
}

// predicted is the predictor's noisy log-magnitude score.
func (k *kernel) predicted(rng *rand.Rand, t *token, i int) float64 {
	return math.Log(math.Abs(t.ag[i])+1e-30) + k.sp.PredictorNoise*rng.NormFloat64()
}

// calibrate sets the thresholds for the target on CalibrationTokens
// tokens, as the papers calibrate on sample activations.
func (k *kernel) calibrate(rng *rand.Rand) {
	n, I := k.sp.CalibrationTokens, k.sh.Inter
	q := k.sp.Target
	k.k = max(1, int(math.Round((1-q)*float64(I))))
	k.tail = lowRankTail(k.sp.LowRank, min(k.sh.Hidden, I))
	toks := make([]*token, n)
	for i := range toks {
		toks[i] = k.draw(rng, nil)
	}
	all := make([]float64, 0, n*I)
	switch k.sp.Method {
	case StatTopK, TopK:
		return
	case ReLU:
		if k.npy != nil {
			return // exact zeros of the data
		}
		for _, t := range toks {
			all = append(all, t.g...)
		}
		k.beta = quantile(all, q)
		return
	case CHESS:
		// Channel-wise thresholds: zeroing gate activation i changes the
		// output by |act(g_i)|·|u_i|, so each channel's gate threshold is
		// a global one divided by the channel's mean |u_i| (calibrated).
		k.upMag = make([]float64, I)
		for _, t := range toks {
			for i, u := range t.u {
				k.upMag[i] += math.Abs(u) / float64(n)
			}
		}
	}
	for _, t := range toks {
		for i := 0; i < I; i++ {
			all = append(all, k.score(t, i))
		}
	}
	k.tau = quantile(all, q)
	if k.sp.Method == Predictor {
		k.tauT = k.tau
		all = all[:0]
		for _, t := range toks {
			for i := 0; i < I; i++ {
				all = append(all, k.predicted(rng, t, i))
			}
		}
		k.tau = quantile(all, q)
	}
	if k.usesInput() {
		all = all[:0]
		for _, t := range toks {
			for j := 0; j < k.sh.Hidden; j++ {
				all = append(all, k.inScore(t, j))
			}
		}
		k.tauX = quantile(all, q)
	}
}

// selected marks the neurons a token activates (and, for the predictor,
// those truly active).
func (k *kernel) selected(rng *rand.Rand, t *token, mask, truth []bool) {
	switch k.sp.Method {
	case ReLU:
		for i := range mask {
			mask[i] = t.ag[i] != 0
		}
	case StatTopK:
		// Spark Transformer: the k-th largest value estimated as
		// mean + std·Φ⁻¹(1 − k/n) of the token's pre-activations, one
		// pass for the moments and one compare, no sort.
		var s, s2 float64
		for _, g := range t.g {
			s += g
			s2 += g * g
		}
		n := float64(len(t.g))
		mean := s / n
		std := math.Sqrt(math.Max(0, s2/n-mean*mean))
		theta := mean + std*normQuantile(1-float64(k.k)/n)
		for i, g := range t.g {
			mask[i] = g > theta
		}
	case TopK:
		for i := range mask {
			mask[i] = false
		}
		keep, r := attention.QuickSelect(t.g, k.k, k.qrng)
		for _, i := range keep {
			mask[i] = true
		}
		// A final pass over the candidates keeps those above the k-th
		// value, as the engine's filter does (workloads/llm.Route).
		k.rounds = append(r, len(t.g))
	case Predictor:
		for i := range mask {
			mask[i] = k.predicted(rng, t, i) > k.tau
			truth[i] = k.score(t, i) > k.tauT
		}
	default:
		for i := range mask {
			mask[i] = k.score(t, i) > k.tau
		}
	}
}

// relErr is the relative error of W·v when v keeps only the kept
// entries, in expectation over weight rows of norm w_i in random
// directions: sqrt(Σ w_i² dropped_i² / Σ w_i² v_i²).
func relErr(v []float64, kept []bool, w func(int) float64) float64 {
	var num, den float64
	for i, x := range v {
		e := x * x * w(i) * w(i)
		den += e
		if !kept[i] {
			num += e
		}
	}
	if den == 0 {
		return 0
	}
	return math.Sqrt(num / den)
}

func spans(mask []bool) ([]Span, int) {
	var out []Span
	n := 0
	for i := 0; i < len(mask); i++ {
		if !mask[i] {
			continue
		}
		j := i
		for j < len(mask) && mask[j] {
			j++
		}
		out = append(out, Span{Lo: int64(i), Hi: int64(j)})
		n += j - i
		i = j
	}
	return out, n
}

// sample measures one decode step of batch tokens and one chunk.
func (k *kernel) sample(rng *rand.Rand, batch int, withChunk bool) Sample {
	I, H := k.sh.Inter, k.sh.Hidden
	var s Sample
	union, unionIn := make([]bool, I), make([]bool, H)
	mask, truth := make([]bool, I), make([]bool, I)
	maskIn := make([]bool, H)
	a := make([]float64, I)
	for b := 0; b < batch; b++ {
		t := k.draw(rng, nil)
		k.selected(rng, t, mask, truth)
		cnt := 0
		for i := range mask {
			a[i] = t.ag[i] * t.u[i]
			if mask[i] {
				cnt++
				union[i] = true
			}
		}
		s.TokenActive += float64(cnt) / float64(I)
		if k.sp.Method == TopK {
			s.TopKRounds = append(s.TopKRounds, k.rounds...)
		}
		e := relErr(a, mask, k.norm)
		if k.sp.Method == RSparse {
			e *= math.Sqrt(k.tail)
		}
		s.RelErr += e
		if k.sp.Method == Predictor {
			var tr, miss, extra int
			for i := range mask {
				if truth[i] {
					tr++
					if !mask[i] {
						miss++
					}
				} else if mask[i] {
					extra++
				}
			}
			if tr > 0 {
				s.Missed += float64(miss) / float64(tr)
				s.Extra += float64(extra) / float64(tr)
			}
		}
		if k.sp.Method == StatTopK {
			s.CountErr += math.Abs(float64(cnt-k.k)) / float64(k.k)
		}
		if k.usesInput() {
			ci := 0
			for j := range maskIn {
				maskIn[j] = k.inScore(t, j) > k.tauX
				if maskIn[j] {
					ci++
					unionIn[j] = true
				}
			}
			s.TokenActiveIn += float64(ci) / float64(H)
			e := relErr(t.x, maskIn, func(j int) float64 { return k.d.xnorm[j] })
			if k.sp.Method == RSparse {
				e *= math.Sqrt(k.tail)
			}
			s.RelErrIn += e
		}
	}
	bf := float64(batch)
	s.TokenActive /= bf
	s.RelErr /= bf
	s.RelErrIn /= bf
	s.Missed /= bf
	s.Extra /= bf
	s.CountErr /= bf
	s.Rows, s.Union = spans(union)
	if k.usesInput() {
		s.TokenActiveIn /= bf
		s.InRows, s.UnionIn = spans(unionIn)
	} else {
		s.TokenActiveIn = 1
		s.InRows, s.UnionIn = []Span{{Lo: 0, Hi: int64(H)}}, H
	}
	if !withChunk {
		return s
	}
	// The chunk: consecutive tokens of one sequence.
	chunk := make([]bool, I)
	var prev *token
	for c := 0; c < k.sp.Chunk; c++ {
		t := k.draw(rng, prev)
		prev = t
		k.selected(rng, t, mask, truth)
		for i, m := range mask {
			chunk[i] = chunk[i] || m
		}
	}
	_, s.Chunk = spans(chunk)
	return s
}

// Plan is the kernels' output for a run: per layer and sampled decode
// step, the active sets of a batch.
type Plan struct {
	Spec  Spec
	Shape Shape
	Batch int
	// Layers is the model's; Samples holds min(Layers, SampleLayers)
	// sampled layer populations, each with SampleSteps decode steps.
	Layers  int
	Samples [][]Sample // [population][step]
}

// MaxDraws bounds the activations the kernels draw for one plan (about
// 20 ns each with the selection: 1e9 is roughly 20 s on one core).
const MaxDraws = 1_000_000_000

// Draws is the activations Build draws: per layer population the
// calibration tokens, then every sampled step's batch and chunk, each a
// token of intermediate (and at most hidden) values.
func Draws(sp Spec, sh Shape, layers, batch int) float64 {
	pops := float64(min(layers, sp.SampleLayers))
	toks := float64(sp.CalibrationTokens) + float64(sp.SampleSteps)*float64(batch+sp.Chunk)
	return pops * toks * float64(sh.Inter+sh.Hidden)
}

// Build calibrates each layer's technique and samples SampleSteps decode
// steps of batch tokens per layer. npy, when not nil, holds tokens ×
// Inter activations used instead of synthetic draws.
func Build(sp Spec, sh Shape, layers, batch int, seed int64, npy [][]float64) (*Plan, error) {
	if !sp.Enabled() {
		return nil, fmt.Errorf("activation_sparsity.method is %q: nothing to plan", sp.Method)
	}
	if npy != nil {
		if len(npy) == 0 || len(npy[0]) != sh.Inter {
			return nil, fmt.Errorf("activation_sparsity.npy: need tokens × %d (intermediate_size) activations", sh.Inter)
		}
	}
	if d := Draws(sp, sh, layers, batch); d > MaxDraws {
		return nil, fmt.Errorf("activation_sparsity: the kernels would draw %.3g activations (sample_layers × (calibration_tokens + sample_steps × (batch + chunk)) × (intermediate + hidden)), above the limit of %.0e (about 20 s); lower activation_sparsity.sample_layers, sample_steps or calibration_tokens", d, float64(MaxDraws))
	}
	p := &Plan{Spec: sp, Shape: sh, Batch: batch, Layers: layers, Samples: make([][]Sample, min(layers, sp.SampleLayers))}
	for l := range p.Samples {
		rng := rand.New(rand.NewPCG(uint64(seed), uint64(l)+0x5eed))
		// The quick-select pivots have a stream of their own, so the
		// activations drawn do not depend on the technique.
		k := &kernel{sp: sp, sh: sh, npy: npy, qrng: mrand.New(mrand.NewSource(seed*7919 + int64(l)))}
		if npy == nil {
			k.d = newLayerDist(rng, sh, sp)
		}
		k.calibrate(rng)
		for st := 0; st < sp.SampleSteps; st++ {
			p.Samples[l] = append(p.Samples[l], k.sample(rng, batch, st == 0))
		}
	}
	return p, nil
}

// At is the sample a decode step (1, 2, …) of a layer uses: its
// population's sampled steps in turn.
func (p *Plan) At(layer, step int) *Sample {
	s := p.Samples[layer%len(p.Samples)]
	return &s[(max(step, 1)-1)%len(s)]
}
