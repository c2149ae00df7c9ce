package engines

import (
	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/arch/attention"
	"github.com/sparsesim/sparsesim/arch/systolic"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads"
)

// Simulate runs w on the engine cfg names: GEMM layers on the systolic
// engine, attention rows on the attention engine.
func Simulate(cfg *configs.Config, w workloads.Workload) (*arch.Result, error) {
	return SimulateTimeline(cfg, w, nil)
}

// SimulateTimeline is Simulate recording into tl (nil: no timeline).
func SimulateTimeline(cfg *configs.Config, w workloads.Workload, tl *arch.Timeline) (*arch.Result, error) {
	if cfg.Engine == "spatten" || len(w.Attention) > 0 {
		if cfg.Engine != "spatten" || len(w.Attention) == 0 {
			return nil, usererr.New("config %s (engine %s) cannot run workload %s: attention traces need engine: spatten and a spatten engine needs an attention workload",
				cfg.Name, cfg.Engine, w.Name)
		}
		return attention.SimulateTimeline(cfg, w, tl)
	}
	if err := systolic.CheckLayerMappings(cfg, w); err != nil {
		return nil, err
	}
	return systolic.SimulateTimeline(cfg, w, tl)
}

// SimulateWithBaseline runs w (recording into tl when it is not nil) and,
// when it is sparse, its dense baseline.
func SimulateWithBaseline(cfg *configs.Config, w workloads.Workload, tl *arch.Timeline) (res, base *arch.Result, err error) {
	if res, err = SimulateTimeline(cfg, w, tl); err != nil || !systolic.IsSparse(cfg, w) {
		return res, nil, err
	}
	bc, bw := systolic.DenseBaseline(cfg, w)
	base, err = Simulate(bc, bw)
	return res, base, err
}

// SimulateWithBaselineMemo is SimulateWithBaseline, memoized when memo is
// set and no timeline is recorded (a timeline needs every event).
func SimulateWithBaselineMemo(cfg *configs.Config, w workloads.Workload, tl *arch.Timeline, memo bool) (res, base *arch.Result, err error) {
	if !memo || tl != nil {
		return SimulateWithBaseline(cfg, w, tl)
	}
	if res, err = simulateMemo(cfg, w); err != nil || !systolic.IsSparse(cfg, w) {
		return res, nil, err
	}
	bc, bw := systolic.DenseBaseline(cfg, w)
	base, err = simulateMemo(bc, bw)
	return res, base, err
}

// simulateMemo memoizes the systolic engine's identical layers; attention
// runs, whose layers overlap in time, run whole.
func simulateMemo(cfg *configs.Config, w workloads.Workload) (*arch.Result, error) {
	if len(w.Attention) > 0 {
		return Simulate(cfg, w)
	}
	if err := systolic.CheckLayerMappings(cfg, w); err != nil {
		return nil, err
	}
	return systolic.SimulateMemo(cfg, w)
}
