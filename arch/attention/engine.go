package attention

import (
	"fmt"
	"math/rand"
	"sort"
	"time"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/workloads"
)

// The units' order is arch.AttnUnitNames's (AttnStats lives in arch with
// the other measurements): a mismatch fails to compile.
var _ = [1]struct{}{}[numAttnUnits-arch.NumAttnUnits]

var attnUnitNames = arch.AttnUnitNames

// UnitNames names AttnStats.UnitBusy entries.
func UnitNames() []string { return arch.AttnUnitNames[:] }

// TopKCycles is the top-k engine's latency model (SpAtten RTL,
// sim/TopKLatencyModel.scala:23): every quick-select round over n
// candidates costs ceil(n/c) + 3 cycles with c parallel comparators.
func TopKCycles(rounds []int, comparators int) int64 {
	var s int64
	for _, n := range rounds {
		s += int64((n+comparators-1)/comparators) + arch.TopKPassLatency
	}
	return s
}

// Simulate runs attention rows on a SpAtten-style engine: the K/V
// fetchers are the shared Buffer/DRAM components, the modules are Units.
func Simulate(cfg *configs.Config, w workloads.Workload) (*arch.Result, error) {
	return SimulateTimeline(cfg, w, nil)
}

// SimulateTimeline is Simulate recording into tl (nil: no timeline).
func SimulateTimeline(cfg *configs.Config, w workloads.Workload, tl *arch.Timeline) (*arch.Result, error) {
	if len(w.Attention) == 0 {
		return nil, fmt.Errorf("workload %s has no attention rows", w.Name)
	}
	// The shared memory first, then the engine's controller and units:
	// the wire delivers same-instant messages in plug-in order.
	a := arch.New(cfg)
	a.AddMemory(arch.NumTensorKinds)
	freq := a.Freq
	rows := make([]workloads.AttnRow, len(w.Attention))
	for i, r := range w.Attention {
		rows[i] = Ablate(r, cfg.Attention)
	}
	c := &attnController{Node: arch.NewNode("Accel.AttnController", a.Engine, freq), cfg: cfg,
		rows: rows, rng: rand.New(rand.NewSource(cfg.Attention.Seed)), layerIdx: map[int]int{}}
	c.capacity = [2]int64{int64(cfg.Buffers.IfmapKB * 1024), int64(cfg.Buffers.FilterKB * 1024)}
	c.OnMsg = c.handle
	a.Plug(c.Node)
	for i, name := range attnUnitNames {
		u := arch.NewUnit("Accel."+name, a.Engine, freq)
		a.Plug(u.Node)
		c.units[i] = u.Port
		u.Freed = func() { c.unitBusy[i] = false; c.progress() }
	}
	// The K, V and output traffic goes through the shared buffers (and
	// from them over the DRAM channels): the engine asks for tensor
	// regions, the memory model turns them into requests and books them
	// in the ledger, by layer and attention tensor kind.
	c.ledger = memory.NewLedger(numAttnKinds)
	for i := range c.buffers {
		c.buffers[i] = a.Buffers[i]
		a.Buffers[i].Ledger = c.ledger
	}
	if tl != nil {
		a.WithTimeline(tl)
	}
	start := time.Now()
	c.start()
	if err := a.Engine.Run(); err != nil {
		return nil, err
	}
	wall := time.Since(start).Seconds()
	if !c.Finished {
		return nil, fmt.Errorf("simulation stalled: the event queue drained with %d of %d attention rows unfinished (a lost wake-up in the model)",
			len(c.rows)-c.nextRow+len(c.jobs)-c.head, len(c.rows))
	}
	// Layers in execution order of their index (layer0, layer1, …,
	// layer10), not by name.
	idx := make([]int, len(c.Layers))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return c.layerNum[idx[i]] < c.layerNum[idx[j]] })
	layers := make([]arch.LayerStats, len(idx))
	for i, k := range idx {
		layers[i] = c.Layers[k]
	}
	res := a.Result(w, layers, wall)
	res.Attention = &c.Stats
	res.Span = &arch.RunSpan{Elapsed: c.endTime, Compute: maxBusy(c.Stats.UnitBusy)}
	return res, nil
}

func maxBusy(b [numAttnUnits]int64) int64 {
	var m int64
	for _, v := range b {
		m = max(m, v)
	}
	return m
}

// Ablate removes from a row the techniques the engine has switched off, so
// a trace recorded with them (SpAtten's) can be replayed without: no token
// pruning fetches the whole context (values in the same kept proportion when
// local V pruning stays on) and runs no token top-k; no local V pruning
// fetches a value for every fetched key; no progressive quantization
// fetches full-width words once. Head pruning cannot be undone from a trace
// (pruned heads have no rows; only its top-k is dropped); kernel workloads
// apply it themselves. A row that never used a technique is unchanged.
func Ablate(r workloads.AttnRow, a configs.Attention) workloads.AttnRow {
	if !a.TokenPruning && r.KeyFetch < r.Context {
		r.ValueFetch = int(int64(r.ValueFetch) * int64(r.Context) / int64(max(r.KeyFetch, 1)))
		r.KeyFetch = r.Context
		r.VRounds = nil
	}
	if !a.TokenPruning {
		r.TopKSize, r.TokenRounds = 0, nil
	}
	if !a.HeadPruning { // the remaining heads stay; only the ranking goes
		r.HeadCandidates, r.HeadKeep, r.HeadRounds = 0, 0, nil
	}
	if !a.LocalVPruning && r.VRounds != nil {
		r.VRounds, r.VRoundQueries = nil, 0
	}
	if !a.LocalVPruning && r.ValueFetch < r.KeyFetch {
		r.ValueFetch, r.VRounds = r.KeyFetch, nil
	}
	if !a.ProgressiveQuant {
		r.KeyBits, r.ValueBits, r.QueryBits, r.RequantQueries, r.LSBBits = 0, 0, 0, 0, 0
	}
	return r
}
