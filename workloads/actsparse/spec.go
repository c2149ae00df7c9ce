package actsparse

import (
	"fmt"
	"strings"
)

// Technique names (activation_sparsity.method).
const (
	None      = "none"
	ReLU      = "relu"
	Threshold = "threshold"
	CATS      = "cats"
	CHESS     = "chess"
	WINA      = "wina"
	RSparse   = "rsparse"
	Predictor = "predictor"
	StatTopK  = "statistical_topk"
	// TopK is the exact top-k that statistical_topk approximates: the k
	// largest gate pre-activations per token, found by quick-select on
	// the top-k engine.
	TopK = "topk"
)

// Methods lists the techniques in the order the docs give them.
var Methods = []string{None, ReLU, Threshold, CATS, CHESS, WINA, RSparse, Predictor, StatTopK, TopK}

// Spec is the activation_sparsity block of an architecture config
// (docs/config.md). Distribution parameters marked calibrated carry their
// source in docs/ffn-moe.md.
type Spec struct {
	Method string `yaml:"method" json:"method"`
	// Target is the fraction of neurons a token leaves inactive (and, for
	// threshold and wina, of input channels of the up/gate projections).
	Target float64 `yaml:"target" json:"target"`
	// Chunk is the number of consecutive tokens of one sequence whose
	// union is reported beside the batch union (BlockFFN measures 8).
	Chunk int `yaml:"chunk" json:"chunk"`
	// TokenCorrelation is the AR(1) correlation of a neuron's
	// pre-activation between consecutive tokens of a sequence (0: the
	// tokens of a chunk are as independent as a batch's sequences).
	TokenCorrelation float64 `yaml:"token_correlation" json:"token_correlation"`
	// NeuronSpread is the standard deviation of the neurons' mean gate
	// pre-activation in units of its token-to-token deviation: how unequal
	// neurons are (0: every neuron alike). Calibrated (DefaultNeuronSpread).
	NeuronSpread float64 `yaml:"neuron_spread" json:"neuron_spread"`
	// WeightSpread is the standard deviation of the log of the down
	// projection's row norms (what WINA weighs |x| by). An assumption.
	WeightSpread float64 `yaml:"weight_spread" json:"weight_spread"`
	// PredictorRank is the Deja Vu predictor's hidden width: two GEMMs of
	// hidden×rank and rank×intermediate per layer.
	PredictorRank int `yaml:"predictor_rank" json:"predictor_rank"`
	// PredictorNoise is the predictor's score error, in units of the log
	// magnitude it predicts. An assumption.
	PredictorNoise float64 `yaml:"predictor_noise" json:"predictor_noise"`
	// LowRank is R-Sparse's rank r for the dropped channels' correction.
	LowRank int `yaml:"low_rank" json:"low_rank"`
	// SampleSteps is how many decode steps the kernels draw per layer; the
	// run reuses them cyclically (docs/ffn-moe.md gives the sampling error).
	SampleSteps int `yaml:"sample_steps" json:"sample_steps"`
	// SampleLayers is how many layer populations the kernels draw; layer
	// l uses population l mod SampleLayers (the synthetic layers are
	// statistically alike; docs/ffn-moe.md gives the sampling error).
	SampleLayers int `yaml:"sample_layers" json:"sample_layers"`
	// CalibrationTokens is how many tokens per layer the thresholds are
	// calibrated on.
	CalibrationTokens int `yaml:"calibration_tokens" json:"calibration_tokens"`
	// NPY is a .npy file of tokens × intermediate_size activations (the
	// down projection's input) used instead of synthetic draws.
	NPY string `yaml:"npy" json:"npy"`
}

// DefaultNeuronSpread is the calibrated spread of the neurons' mean
// pre-activation (in units of its token-to-token deviation): with it, a
// cats threshold at 80% token-level sparsity leaves 70% of the neurons
// inactive over 8 independent tokens, BlockFFN's figure for 8 consecutive
// tokens (Song et al., COLM 2025, arXiv 2507.08771). BlockFFN is trained
// for chunk sparsity, so this is the favourable case (docs/ffn-moe.md
// gives the sensitivity). TestNeuronSpreadCalibration re-derives it.
const DefaultNeuronSpread = 4.25

// DefaultSpec is what a config that omits the block gets.
func DefaultSpec() Spec {
	return Spec{Method: None, Target: 0.5, Chunk: 8, NeuronSpread: DefaultNeuronSpread, WeightSpread: 0.25,
		PredictorRank: 1024, PredictorNoise: 0.5, LowRank: 128, SampleSteps: 2, SampleLayers: 4, CalibrationTokens: 32}
}

// Enabled reports whether a technique is on.
func (s Spec) Enabled() bool { return s.Method != "" && s.Method != None }

// FieldError is a bad key, named by its YAML path under
// activation_sparsity.
type FieldError struct{ Path, Msg string }

// Validate lists every bad key.
func (s Spec) Validate() []FieldError {
	var errs []FieldError
	bad := func(k, f string, a ...any) {
		errs = append(errs, FieldError{"activation_sparsity." + k, fmt.Sprintf(f, a...)})
	}
	known := false
	for _, m := range Methods {
		known = known || m == s.Method
	}
	if !known {
		bad("method", "unknown technique %q (allowed: %s)", s.Method, strings.Join(Methods, ", "))
	}
	if !(s.Target >= 0 && s.Target < 1) {
		bad("target", "must be a fraction of inactive neurons in [0, 1), got %g", s.Target)
	}
	if s.Chunk < 1 || s.Chunk > 1024 {
		bad("chunk", "must be an integer from 1 to 1024, got %d", s.Chunk)
	}
	if !(s.TokenCorrelation >= 0 && s.TokenCorrelation < 1) {
		bad("token_correlation", "must be in [0, 1), got %g", s.TokenCorrelation)
	}
	if !(s.NeuronSpread >= 0 && s.NeuronSpread <= 10) {
		bad("neuron_spread", "must be from 0 to 10, got %g", s.NeuronSpread)
	}
	if !(s.WeightSpread >= 0 && s.WeightSpread <= 5) {
		bad("weight_spread", "must be from 0 to 5, got %g", s.WeightSpread)
	}
	if s.PredictorRank < 1 || s.PredictorRank > 1<<16 {
		bad("predictor_rank", "must be an integer from 1 to 65536, got %d", s.PredictorRank)
	}
	if !(s.PredictorNoise >= 0 && s.PredictorNoise <= 10) {
		bad("predictor_noise", "must be from 0 to 10, got %g", s.PredictorNoise)
	}
	if s.LowRank < 1 || s.LowRank > 1<<16 {
		bad("low_rank", "must be an integer from 1 to 65536, got %d", s.LowRank)
	}
	if s.SampleSteps < 1 || s.SampleSteps > 256 {
		bad("sample_steps", "must be an integer from 1 to 256, got %d", s.SampleSteps)
	}
	if s.SampleLayers < 1 || s.SampleLayers > 1024 {
		bad("sample_layers", "must be an integer from 1 to 1024, got %d", s.SampleLayers)
	}
	if s.CalibrationTokens < 8 || s.CalibrationTokens > 4096 {
		bad("calibration_tokens", "must be an integer from 8 to 4096, got %d", s.CalibrationTokens)
	}
	return errs
}
