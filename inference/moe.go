package inference

import (
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/inference/ops"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads/llm"
	"github.com/sparsesim/sparsesim/workloads/moe"
)

// MoEStats is what an LLM run's routing did: the routing statistics of
// the prefill pass and of the decode steps (workloads/moe.Stats), and how
// unevenly the experts' time was spread.
type MoEStats struct {
	Spec             moe.Spec
	Prefill, Decode  *moe.Stats
	PrefillTime      ExpertTime
	DecodeTime       ExpertTime
	experts          int
	cur              []int64
	curPrefill, open bool
}

// ExpertTime is the routed experts' time over layer-steps: the experts of
// one layer run one after another on the array, so a layer-step's expert
// time is the sum; the busiest expert's share of it is where imbalance
// shows in time.
type ExpertTime struct {
	LayerSteps int64
	// Cycles sums the routed experts' operator cycles (shared experts
	// excluded).
	Cycles int64
	// MaxOverMeanSum sums, per layer-step, the busiest expert's cycles
	// over the mean of the experts that ran.
	MaxOverMeanSum float64
	// MaxSum sums the busiest expert's cycles: the critical path if each
	// expert had its own array (expert parallelism), which is not
	// modelled.
	MaxSum int64
}

// MaxOverMean is the mean over layer-steps of the busiest expert's cycles
// over the mean expert's.
func (t ExpertTime) MaxOverMean() float64 {
	if t.LayerSteps == 0 {
		return 0
	}
	return t.MaxOverMeanSum / float64(t.LayerSteps)
}

// newRouter builds the run's routing from the config's moe block (nil for
// a dense model), reading a routing trace if one is named.
func newRouter(cfg *configs.Config, m llm.Model, o LLMOptions) (*moe.Router, moe.Spec, error) {
	c := cfg.MoE
	spec := moe.Spec{Routing: c.Routing, Imbalance: c.Imbalance, CapacityFactor: c.CapacityFactor,
		Execution: c.Execution, Locality: c.Locality, Chunk: c.Chunk}
	if !m.MoE() {
		return nil, spec, nil
	}
	if c.Routing == moe.FromTrace {
		tr, err := moe.ReadTrace(c.Trace)
		if err != nil {
			return nil, spec, err
		}
		spec.Trace = tr
	}
	r, err := moe.NewRouter(spec, m.NumExperts, m.NumExpertsPerTok, m.NumHiddenLayers, o.Seed)
	return r, spec, err
}

// attachRouter gives every step the router and the run's sequence length.
func attachRouter(r *moe.Router, o LLMOptions, prefill *ops.StepSpec, decode []ops.StepSpec) {
	if prefill != nil {
		prefill.Router, prefill.SeqLen = r, o.Prompt+o.Gen
	}
	for i := range decode {
		decode[i].Router, decode[i].SeqLen = r, o.Prompt+o.Gen
	}
}

func newMoEStats(m llm.Model, spec moe.Spec) *MoEStats {
	if !m.MoE() {
		return nil
	}
	e, k := m.NumExperts, m.NumExpertsPerTok
	return &MoEStats{Spec: spec, Prefill: moe.NewStats(e, k, spec.Chunk), Decode: moe.NewStats(e, k, spec.Chunk),
		experts: e, cur: make([]int64, e)}
}

// observe folds one measured operator in.
func (s *MoEStats) observe(op ops.Op, cycles int64, prefill bool) {
	if s == nil {
		return
	}
	if op.Routing != nil {
		s.flush()
		if prefill {
			s.Prefill.Add(op.Routing)
		} else {
			s.Decode.Add(op.Routing)
		}
		s.open, s.curPrefill = true, prefill
	}
	if op.Expert > 0 {
		s.cur[op.Expert-1] += cycles
	}
}

// flush closes the open layer-step's expert time.
func (s *MoEStats) flush() {
	if s == nil || !s.open {
		return
	}
	t := &s.DecodeTime
	if s.curPrefill {
		t = &s.PrefillTime
	}
	var sum, most int64
	ran := 0
	for i, c := range s.cur {
		if c > 0 {
			sum += c
			most = max(most, c)
			ran++
		}
		s.cur[i] = 0
	}
	t.LayerSteps++
	t.Cycles += sum
	t.MaxSum += most
	if ran > 0 {
		t.MaxOverMeanSum += float64(most) / (float64(sum) / float64(ran))
	}
	s.open = false
}

// MoEBatchPoint is one batch size of SweepMoEBatch.
type MoEBatchPoint struct {
	Batch int
	// ExpertsTouched is the decode's mean distinct experts per
	// layer-step; Uniform what independent uniform routing touches.
	ExpertsTouched, Uniform float64
	// Dynamic and Padded are the mean decode step cycles with dynamic and
	// padded expert execution; Dropped the assignments over capacity.
	Dynamic, Padded float64
	Dropped         int64
}

// SweepMoEBatch runs the decode o describes at each batch size twice, with
// dynamic execution (each expert over its tokens, untouched experts
// skipped) and padded (every expert over the same slot count): what
// skipping untouched experts buys as the batch's union of experts grows.
func SweepMoEBatch(cfg *configs.Config, m llm.Model, o LLMOptions, batches []int) ([]MoEBatchPoint, error) {
	if !m.MoE() {
		return nil, usererr.New("--workload %s: a dense model has no experts to route", m.Name)
	}
	dyn, pad := *cfg, *cfg
	dyn.MoE.Execution, pad.MoE.Execution = moe.Dynamic, moe.Padded
	var out []MoEBatchPoint
	for _, b := range batches {
		o.Batch = b
		p := MoEBatchPoint{Batch: b}
		for i, c := range []*configs.Config{&dyn, &pad} {
			res, err := SimulateLLM(c, m, o)
			if err != nil {
				return nil, err
			}
			if res.Decode == nil || res.Decode.Steps == 0 {
				return nil, usererr.New("--gen %d: the sweep needs decode steps", o.Gen)
			}
			mean := float64(res.Decode.Cycles) / float64(res.Decode.Steps)
			if i == 0 {
				p.Dynamic, p.Dropped = mean, res.MoE.Decode.Dropped
				p.ExpertsTouched, p.Uniform = res.MoE.Decode.TouchedMean(), res.MoE.Decode.UniformExpected()
			} else {
				p.Padded = mean
			}
		}
		out = append(out, p)
	}
	return out, nil
}
