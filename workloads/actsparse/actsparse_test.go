package actsparse

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

var llama8 = Shape{Hidden: 4096, Inter: 14336, Gated: true}

func spec(method string, target float64) Spec {
	s := DefaultSpec()
	s.Method, s.Target = method, target
	return s
}

func mean(p *Plan, f func(Sample) float64) float64 {
	var s, n float64
	for _, l := range p.Samples {
		for _, x := range l {
			s += f(x)
			n++
		}
	}
	return s / n
}

// Thresholds calibrated on one set of tokens leave the target fraction
// inactive on others.
func TestCalibrationHitsTarget(t *testing.T) {
	for _, m := range []string{ReLU, Threshold, CATS, CHESS, WINA, RSparse, Predictor, StatTopK, TopK} {
		for _, q := range []float64{0.5, 0.9} {
			sp := spec(m, q)
			sp.SampleLayers = 2
			p, err := Build(sp, llama8, 2, 4, 7, nil)
			if err != nil {
				t.Fatal(err)
			}
			const tol = 0.02
			if got := mean(p, func(s Sample) float64 { return s.TokenActive }); math.Abs(got-(1-q)) > tol {
				t.Errorf("%s target %.2f: %.4f of neurons active per token, want %.2f ± %.2f", m, q, got, 1-q, tol)
			}
		}
	}
}

// laplaceRows draws tokens × n Laplace(b = 1) activations.
func laplaceRows(tokens, n int) [][]float64 {
	rng := rand.New(rand.NewPCG(3, 4))
	rows := make([][]float64, tokens)
	for i := range rows {
		rows[i] = make([]float64, n)
		for j := range rows[i] {
			e := rng.ExpFloat64()
			if rng.IntN(2) == 0 {
				e = -e
			}
			rows[i][j] = e
		}
	}
	return rows
}

// Validation against a closed form: a magnitude threshold at sparsity q on
// Laplace(1) activations (TEAL's model of the down projection's input)
// sits at τ = ln(1/(1−q)) and drops E[a²; |a| < τ] = 2 − e^−τ(τ² + 2τ + 2)
// of E[a²] = 2, so the relative output error (with equal-norm weight rows)
// is sqrt(1 − e^−τ(τ² + 2τ + 2)/2).
func TestThresholdErrorMatchesLaplaceClosedForm(t *testing.T) {
	sh := Shape{Hidden: 64, Inter: 4096, Gated: true}
	rows := laplaceRows(96, sh.Inter)
	for _, q := range []float64{0.5, 0.8, 0.95} {
		sp := spec(Threshold, q)
		sp.CalibrationTokens, sp.SampleLayers, sp.SampleSteps = 32, 1, 4
		p, err := Build(sp, sh, 1, 16, 1, rows)
		if err != nil {
			t.Fatal(err)
		}
		tau := math.Log(1 / (1 - q))
		want := math.Sqrt(1 - math.Exp(-tau)*(tau*tau+2*tau+2)/2)
		got := mean(p, func(s Sample) float64 { return s.RelErr })
		if math.Abs(got-want) > 0.03*want {
			t.Errorf("q=%.2f: relative error %.4f, closed form %.4f", q, got, want)
		}
	}
}

// Validation against a closed form: Spark's statistical top-k assumes
// Gaussian values. On Laplace(1) values (standard deviation √2) the
// threshold √2·Φ⁻¹(1 − k/n) keeps P(|…|) = ½·exp(−√2·Φ⁻¹(1 − k/n)) of
// them, not k/n: at k/n = 8% that is 6.86%, a 14% count error.
func TestStatisticalTopKOnLaplaceMatchesClosedForm(t *testing.T) {
	sh := Shape{Hidden: 64, Inter: 8192, Gated: true}
	rows := laplaceRows(64, sh.Inter)
	sp := spec(StatTopK, 0.92)
	sp.SampleLayers, sp.SampleSteps = 1, 4
	p, err := Build(sp, sh, 1, 16, 1, rows)
	if err != nil {
		t.Fatal(err)
	}
	want := 0.5 * math.Exp(-math.Sqrt2*normQuantile(0.92))
	got := mean(p, func(s Sample) float64 { return s.TokenActive })
	if math.Abs(got-want) > 0.003 {
		t.Errorf("kept %.4f of Laplace values, closed form %.4f", got, want)
	}
	if ce := mean(p, func(s Sample) float64 { return s.CountErr }); math.Abs(ce-(0.08-want)/0.08) > 0.04 {
		t.Errorf("count error %.3f, closed form %.3f", ce, (0.08-want)/0.08)
	}
}

// Validation against probability: when every neuron is alike
// (neuron_spread 0) and the batch's tokens are independent, a neuron
// active with probability p for one token is active for some token of B
// with probability 1 − (1 − p)^B.
func TestUnionOfIndependentNeurons(t *testing.T) {
	for _, b := range []int{1, 4, 16} {
		sp := spec(CATS, 0.8)
		sp.NeuronSpread, sp.SampleLayers, sp.SampleSteps = 0, 2, 2
		p, err := Build(sp, llama8, 2, b, 5, nil)
		if err != nil {
			t.Fatal(err)
		}
		pt := mean(p, func(s Sample) float64 { return s.TokenActive })
		want := 1 - math.Pow(1-pt, float64(b))
		got := mean(p, func(s Sample) float64 { return float64(s.Union) / float64(llama8.Inter) })
		if math.Abs(got-want) > 0.015 {
			t.Errorf("batch %d: union %.4f, 1-(1-p)^B = %.4f", b, got, want)
		}
	}
}

// The default neuron spread reproduces BlockFFN's 80% token-level and 70%
// 8-token chunk-level sparsity (the source of DefaultNeuronSpread).
func TestNeuronSpreadCalibration(t *testing.T) {
	sp := spec(CATS, 0.8)
	sp.SampleLayers, sp.SampleSteps = 8, 1
	p, err := Build(sp, llama8, 8, 1, 11, nil)
	if err != nil {
		t.Fatal(err)
	}
	chunk := mean(p, func(s Sample) float64 { return float64(s.Chunk) / float64(llama8.Inter) })
	if math.Abs((1-chunk)-0.70) > 0.015 {
		t.Errorf("8-token chunk sparsity %.4f with neuron_spread %g, BlockFFN 0.70", 1-chunk, DefaultNeuronSpread)
	}
}

// Exact cases: a noiseless predictor predicts the true set; ReLU zeros are
// exact, so dropping them changes nothing.
func TestExactCases(t *testing.T) {
	sp := spec(Predictor, 0.7)
	sp.PredictorNoise, sp.SampleLayers = 0, 1
	p, _ := Build(sp, llama8, 1, 4, 1, nil)
	if m, e := mean(p, func(s Sample) float64 { return s.Missed }), mean(p, func(s Sample) float64 { return s.Extra }); m != 0 || e != 0 {
		t.Errorf("noiseless predictor: missed %g, extra %g, want 0", m, e)
	}
	sp.PredictorNoise = 1
	p, _ = Build(sp, llama8, 1, 4, 1, nil)
	if m := mean(p, func(s Sample) float64 { return s.Missed }); m <= 0.01 {
		t.Errorf("noisy predictor missed %g of active neurons, want some", m)
	}
	sp = spec(ReLU, 0.893)
	sp.SampleLayers = 1
	p, _ = Build(sp, llama8, 1, 4, 1, nil)
	if e := mean(p, func(s Sample) float64 { return s.RelErr }); e != 0 {
		t.Errorf("relu: output error %g, want exactly 0", e)
	}
}

// CHESS weighs each gate activation by its channel's up magnitude, which
// is what zeroing it costs the output, so at one sparsity its error is
// below CATS's (which ignores the up projection).
func TestCHESSErrorBelowCATS(t *testing.T) {
	errAt := func(m string) float64 {
		sp := spec(m, 0.7)
		sp.SampleLayers = 2
		p, _ := Build(sp, llama8, 2, 4, 3, nil)
		return mean(p, func(s Sample) float64 { return s.RelErr })
	}
	if c, h := errAt(CATS), errAt(CHESS); !(h < c) {
		t.Errorf("chess error %.4f not below cats %.4f", h, c)
	}
}

// Exact top-k keeps exactly k neurons per token, and its quick-select
// rounds are charged: at least one pass over every candidate per token.
func TestExactTopK(t *testing.T) {
	sp := spec(TopK, 0.92)
	sp.SampleLayers = 1
	p, _ := Build(sp, llama8, 1, 4, 1, nil)
	k := int(math.Round(0.08 * float64(llama8.Inter)))
	for _, s := range p.Samples[0] {
		if got := s.TokenActive * float64(llama8.Inter); math.Abs(got-float64(k)) > 1e-6 {
			t.Errorf("kept %.1f neurons per token, want k = %d", got, k)
		}
		first, total := 0, 0
		for _, r := range s.TopKRounds {
			if r == llama8.Inter {
				first++
			}
			total += r
		}
		if first < 2*4 || total < 2*4*llama8.Inter {
			t.Errorf("%d full passes and %d candidates over 4 tokens: want the first round and the final filter per token", first, total)
		}
	}
}

// Same seed, same plan; another seed, another plan.
func TestDeterministic(t *testing.T) {
	sp := spec(WINA, 0.6)
	sp.SampleLayers = 2
	a, _ := Build(sp, llama8, 4, 4, 9, nil)
	b, _ := Build(sp, llama8, 4, 4, 9, nil)
	c, _ := Build(sp, llama8, 4, 4, 10, nil)
	if !reflect.DeepEqual(a, b) {
		t.Error("two builds with one seed differ")
	}
	if reflect.DeepEqual(a.Samples, c.Samples) {
		t.Error("another seed gave the same samples")
	}
}

func TestQuantile(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n < 200; n += 7 {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(rng.IntN(20)) // ties
		}
		for _, q := range []float64{0, 0.3, 0.5, 0.99} {
			w := append([]float64(nil), v...)
			got := quantile(w, q)
			below, atOrBelow := 0, 0
			for _, x := range v {
				if x < got {
					below++
				}
				if x <= got {
					atOrBelow++
				}
			}
			k := min(int(q*float64(n)), n-1)
			if !(below <= k && k < atOrBelow) {
				t.Fatalf("n=%d q=%g: %g is not the %d-th smallest", n, q, got, k)
			}
		}
	}
}

// The kernels' share of the issue 17 benchmark (llama-3.1-8b, batch 16,
// threshold).
func BenchmarkBuildLlama8BThresholdBatch16(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := Build(spec(Threshold, 0.5), llama8, 32, 16, 1, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// Too much kernel work is refused up front, naming the keys.
func TestDrawLimit(t *testing.T) {
	sp := spec(CATS, 0.5)
	sp.SampleLayers, sp.CalibrationTokens = 1024, 4096
	_, err := Build(sp, llama8, 1024, 1, 1, nil)
	if err == nil || !strings.Contains(err.Error(), "activation_sparsity.sample_layers") {
		t.Errorf("got %v, want a refusal naming activation_sparsity.sample_layers", err)
	}
}
