package inference

import (
	"os"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads/kvsparse"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// Request is one LLM run as a user asks for it: the phase and sizes, and
// where a KV-sparsity selection comes from.
type Request struct {
	Options LLMOptions
	// KVReplay, when set, is a selection trace (kvsparse.Plan.WriteTrace)
	// to replay instead of running the method's reference kernels.
	KVReplay string
}

// Outcome is one LLM run's result: exactly one field is set, by what the
// configuration asked for.
type Outcome struct {
	Dense *LLMResult       // no sparsity technique: SimulateLLM
	KV    *KVResult        // kv_sparsity.method set: SimulateKVSparsePlan
	FFN   *ActSparseResult // activation_sparsity.method set: SimulateActSparse
}

// Run runs the phase req asks for the way cfg configures it: with FFN
// activation sparsity, with KV-cache sparsity (replaying req.KVReplay when
// set), or dense. The two techniques are not combined yet.
func Run(cfg *configs.Config, m llm.Model, req Request) (*Outcome, error) {
	o := req.Options
	kv := cfg.KVSparsity.Method != configs.KVNone
	if cfg.ActivationSparsity.Enabled() {
		if kv {
			return nil, usererr.New("activation_sparsity.method %s with kv_sparsity.method %s: the two are not combined yet; set one", cfg.ActivationSparsity.Method, cfg.KVSparsity.Method)
		}
		r, err := SimulateActSparse(cfg, m, o)
		if err != nil {
			return nil, err
		}
		return &Outcome{FFN: r}, nil
	}
	if !kv {
		if req.KVReplay != "" {
			return nil, usererr.New("--kv-trace and --kv-replay need a kv_sparsity.method (--set kv_sparsity.method=...)")
		}
		r, err := SimulateLLM(cfg, m, o)
		if err != nil {
			return nil, err
		}
		return &Outcome{Dense: r}, nil
	}
	var replay *kvsparse.Plan
	if req.KVReplay != "" {
		fh, err := os.Open(req.KVReplay)
		if err != nil {
			return nil, usererr.New("--kv-replay %s: %v", req.KVReplay, err)
		}
		defer fh.Close()
		if replay, err = kvsparse.ReplayPlan(cfg.KVSetup(), m, o.Prompt, KVDecodeSteps(o), fh, req.KVReplay); err != nil {
			return nil, err
		}
	}
	r, err := SimulateKVSparsePlan(cfg, m, o, replay)
	if err != nil {
		return nil, err
	}
	return &Outcome{KV: r}, nil
}
