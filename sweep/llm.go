package sweep

import (
	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// IsLLMPhase reports whether a sweep's phase is an LLM decode (the points
// run the decode, with kv_sparsity when a point sets a method).
func IsLLMPhase(phase string) bool { return phase == arch.PhaseDecode || phase == arch.PhaseGenerate }

// runLLMPoint is one decode point: seconds is the TPOT, cycles the
// decode's, and with a kv_sparsity.method the block's speedups and
// quality (docs/kv-sparsity.md) — so a sweep over budget, page_size,
// channels or k draws the speedup–quality front (objectives
// seconds,mass_lost).
func runLLMPoint(spec Spec, cfg *configs.Config) (*Metrics, error) {
	m, err := llm.Resolve(spec.Workload)
	if err != nil {
		return nil, err
	}
	o := arch.LLMOptions{Phase: spec.Phase, Prompt: spec.Prompt, Gen: spec.Gen, Batch: spec.Batch}
	var rep *report.LLMReport
	if cfg.KVSparsity.Method != configs.KVNone {
		r, err := arch.SimulateKVSparse(cfg, m, o)
		if err != nil {
			return nil, err
		}
		rep = report.NewKVSparsity(r)
	} else {
		r, err := arch.SimulateLLM(cfg, m, o)
		if err != nil {
			return nil, err
		}
		rep = report.NewLLM(r)
	}
	out := &Metrics{PEs: cfg.PEArray.Rows * cfg.PEArray.Cols, Seconds: rep.LLM.TPOTSeconds}
	for _, p := range rep.Phases {
		if p.Name == arch.PhaseDecode {
			out.Cycles = p.Cycles
		}
	}
	if k := rep.KVSparsity; k != nil {
		out.AttentionSpeedup, out.TPOTSpeedup = k.AttentionSpeedup, k.TPOTSpeedup
		out.MassRecall, out.MassLost, out.OutputRelError = k.MassRecall, 1-k.MassRecall, k.OutputRelError
	}
	return out, nil
}
