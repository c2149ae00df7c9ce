package sweep

import (
	"strings"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/inference"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// IsLLMPhase reports whether a sweep's phase is an LLM decode (the points
// run the decode, with kv_sparsity when a point sets a method).
func IsLLMPhase(phase string) bool {
	return phase == inference.PhaseDecode || phase == inference.PhaseGenerate
}

// runLLMPoint is one decode or generate point, run as 'run --phase' runs
// it (inference.Run: dense, KV-sparse or activation-sparse, at run's
// default --seed), so a sweep row and a run of the same point agree:
// seconds is the TPOT, cycles the decode's; ttft_seconds, tpot_seconds and
// tokens_per_second are the run JSON's llm block (ttft only when the point
// runs a prefill, tpot only when it runs a decode step); energy is the
// run's (llm.energy_pj, by class, and per token); and with a
// kv_sparsity.method the block's speedups and quality
// (docs/kv-sparsity.md) — so a sweep over budget, page_size, channels or k
// draws the speedup–quality front (objectives seconds,mass_lost);
// dram_bytes is a decode step's mean (reads and writes: weights, KV cache,
// activations). An LLM run reports no stalls or DRAM read/write split, so
// those metrics do not apply (nil).
func runLLMPoint(spec Spec, cfg *configs.Config) (*Metrics, error) {
	m, err := llm.Resolve(spec.Workload)
	if err != nil {
		return nil, err
	}
	o := inference.LLMOptions{Phase: spec.Phase, Prompt: spec.Prompt, Gen: spec.Gen, Batch: spec.Batch, Seed: LLMSeed}
	res, err := inference.Run(cfg, m, inference.Request{Options: o})
	if err != nil {
		return nil, err
	}
	var rep *report.LLMReport
	switch {
	case res.FFN != nil:
		rep = report.NewFFN(res.FFN).LLMReport
	case res.KV != nil:
		rep = report.NewKVSparsity(res.KV)
	default:
		rep = report.NewLLM(res.Dense)
	}
	return llmMetrics(cfg, rep), nil
}

// LLMSeed is the MoE routing and synthetic-activation seed of every LLM
// point: run's default --seed, so a point's row is that run's numbers.
const LLMSeed = 1

// llmMetrics reads a point's metrics from its LLM report. The report
// writes 0 for a latency its phase does not have (no prefill in a decode
// run); here that is "does not apply", since a latency that applies is
// never 0.
func llmMetrics(cfg *configs.Config, rep *report.LLMReport) *Metrics {
	s := rep.LLM
	out := &Metrics{PEs: cfg.PEs(), Seconds: s.TPOTSeconds}
	for _, p := range rep.Phases {
		if p.Name == inference.PhaseDecode {
			out.Cycles = p.Cycles
		}
	}
	if s.TTFTSeconds > 0 {
		out.TTFTSeconds = ptr(s.TTFTSeconds)
	}
	if s.TPOTSeconds > 0 {
		out.TPOTSeconds = ptr(s.TPOTSeconds)
	}
	if s.TokensPerSecond > 0 {
		out.TokensPerSecond = ptr(s.TokensPerSecond)
	}
	if s.DecodeSteps > 0 {
		out.DRAMBytes = ptr(float64(s.DecodeDRAMBytes.Total()) / float64(s.DecodeSteps))
	}
	// The run's energy, as the run JSON's llm block and phases give it;
	// the classes summed over the phases.
	out.EnergyPJ, out.EnergyPerTokenPJ, out.PowerW = ptr(s.EnergyPJ), ptr(s.EnergyPerTokenPJ), ptr(s.AveragePowerW)
	var class [4]float64
	for _, p := range rep.Phases {
		if p.Energy != nil {
			for i, c := range []string{"compute", "sram", "dram", "other"} {
				class[i] += p.Energy.ByClass[c]
			}
		}
	}
	out.EnergyCompute, out.EnergySRAM, out.EnergyDRAM, out.EnergyOther = ptr(class[0]), ptr(class[1]), ptr(class[2]), ptr(class[3])
	if k := rep.KVSparsity; k != nil {
		out.AttentionSpeedup, out.TPOTSpeedup = ptr(k.AttentionSpeedup), ptr(k.TPOTSpeedup)
		out.MassRecall, out.MassLost, out.OutputRelError = ptr(k.MassRecall), ptr(1-k.MassRecall), ptr(k.OutputRelError)
	}
	return out
}

// CheckNotRead refuses the sweep at the first point that gives a key the
// point does not read (configs.IsNotRead: a kv_sparsity key its method
// does not read, a moe routing key its routing does not, any moe key on
// a dense model for LLM points). No value of such an axis can run, so
// the grid is refused before any point runs rather than recording failed
// rows. Only kv_sparsity and moe axes decide it, so each distinct
// combination of their values is loaded once.
func CheckNotRead(spec Spec, pts []Point) error {
	var m *llm.Model
	if IsLLMPhase(spec.Phase) {
		if r, err := llm.Resolve(spec.Workload); err == nil {
			m = &r
		}
	}
	seen := map[string]bool{}
	for _, p := range pts {
		var rel []string
		for _, kv := range p.Params {
			if strings.HasPrefix(kv.Key, "kv_sparsity.") || strings.HasPrefix(kv.Key, "moe.") {
				rel = append(rel, kv.Key+"="+kv.Value)
			}
		}
		k := strings.Join(rel, "\x00")
		if seen[k] {
			continue
		}
		seen[k] = true
		cfg, err := configs.Load(spec.Config, append(append([]string(nil), spec.Sets...), rel...))
		if err == nil && m != nil {
			err = inference.CheckMoEKeys(cfg, *m)
		}
		if configs.IsNotRead(err) && len(rel) == 0 {
			return err // the base's own --set or file
		}
		if configs.IsNotRead(err) {
			return usererr.New("--grid point %d (%s): %v", p.Index, strings.Join(p.Sets(), " "), err)
		}
	}
	return nil
}
