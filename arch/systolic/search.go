package systolic

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/energy"
	"github.com/sparsesim/sparsesim/mapping"
	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/workloads"
)

// candidate is one mapping of a layer with its costs.
type candidate struct {
	s         *mapping.Schedule
	estCycles int64           // analytic cycles
	traffic   mapping.Traffic // analytic traffic
	est       float64         // the analytic rank key (lower is better)
	value     float64         // the simulated objective
	energyPJ  float64
}

// search ranks the candidates analytically, simulates the best few and
// returns the best simulated one with the record of the choice.
func search(cfg *configs.Config, l workloads.Layer, cands []*mapping.Schedule) (*mapping.Schedule, arch.MappingChoice, []MappingCandidate, error) {
	if len(cands) == 1 {
		s := cands[0]
		return s, arch.MappingChoice{Search: cfg.Mapping.Search, Objective: cfg.Mapping.Objective,
				Order: s.P.Order.String(), Loops: s.P.Order.Describe(s.DF), TimeTile: s.TimeTile, TimeTiles: s.TimeTiles,
				Considered: 1, PsumsOnChip: s.Estimate().PsumSpills == 0, Why: "the configured " + cfg.Mapping.Search + " mapping"},
			[]MappingCandidate{candidateRow(candidate{s: s, estCycles: s.ComputeCycles(), traffic: s.Estimate(), value: math.NaN()}, true)}, nil
	}
	bpc := 0.0
	if cfg.DRAM.Model != configs.DRAMIdeal {
		bpc = cfg.BytesPerCycle() * float64(cfg.DRAM.Channels)
	}
	cs := make([]candidate, len(cands))
	for i, s := range cands {
		c := candidate{s: s, estCycles: s.EstimateCycles(bpc), traffic: s.Estimate(), value: math.NaN()}
		c.est = analyticKey(cfg.Mapping.Objective, c.estCycles, c.traffic)
		cs[i] = c
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].est < cs[j].est })
	tol := cfg.Mapping.Tolerance
	var limit int64 // cycles: a candidate past the best so far (and its ties) cannot win
	simulated, aborted := 0, 0
	// Conv input windows depend on the layer and the dataflow only, not
	// on the order or tile: the candidates share them.
	windows := map[string]map[[5]int64]memory.Region{}
	// Each simulation costs about what the layer's own run does: the
	// local search stops after maxSimulations in all.
	maxSims := cfg.Mapping.Simulate + localSearchSims
	// Large layers are ranked analytically only: their folds are many and
	// alike, the fixed latencies the analytic cost misses weigh little
	// there, and each simulation would cost as much as the layer's own run.
	size := simSteps(cfg, cs[0].s) // the layer's size: its cheapest candidate to simulate
	for _, c := range cs[1:] {
		size = min(size, simSteps(cfg, c.s))
	}
	macs := int64(l.M) * int64(l.N) * int64(l.K) * int64(l.Groups)
	analyticOnly := size > maxSimulatedSteps || macs > maxSimulatedMACs
	// When every candidate costs the same analytically (a GEMV's streamed
	// dimension is one short tile: no order reuses more than another),
	// there is nothing for the simulator to settle.
	alike := true
	for _, c := range cs[1:] {
		if c.estCycles != cs[0].estCycles || c.traffic != cs[0].traffic {
			alike = false
			break
		}
	}
	if analyticOnly || alike {
		maxSims = 0
	}
	run := func(c *candidate) error {
		if !math.IsNaN(c.value) || simulated >= maxSims {
			return nil
		}
		simulated++
		w := windows[c.s.DF.Name]
		if w == nil {
			w = map[[5]int64]memory.Region{}
			windows[c.s.DF.Name] = w
		}
		ls, err := simulateSchedule(cfg, l, c.s, limit, w)
		if errors.Is(err, errAborted) {
			c.value, c.energyPJ = math.Inf(1), math.Inf(1)
			aborted++
			return nil
		}
		if err != nil {
			return err
		}
		if c.energyPJ, err = layerEnergy(cfg, ls); err != nil {
			return err
		}
		c.value = objective(cfg.Mapping.Objective, ls, c.energyPJ)
		if cut := int64(float64(ls.Elapsed) * (1 + tol)); cfg.Mapping.Objective == "cycles" && (limit == 0 || cut < limit) {
			limit = cut // a tie may still be cheaper in energy
		}
		return nil
	}
	// better: a clearly better objective, or a tie (within the
	// tolerance) with less energy.
	better := func(a, b *candidate) bool {
		if math.IsNaN(a.value) || math.IsInf(a.value, 1) {
			return false // not simulated, or stopped: never better
		}
		if math.IsNaN(b.value) || math.IsInf(b.value, 1) {
			return !math.IsNaN(a.value) && !math.IsInf(a.value, 1)
		}
		if a.value < b.value*(1-tol) || a.value > b.value*(1+tol) {
			return a.value < b.value
		}
		if a.energyPJ != b.energyPJ {
			return a.energyPJ < b.energyPJ
		}
		return a.value < b.value
	}
	// The analytically best few, then a local search on the simulator
	// around the best so far: the same time tile in every other order and
	// the neighbouring tiles in its order, until no neighbour is better.
	// The analytic cost sees the loop nest and the buffers, not the DRAM
	// queue or the conv windows' real footprint, so the simulator settles
	// what it cannot.
	best := &cs[0]
	for i := range min(len(cs), cfg.Mapping.Simulate) {
		if err := run(&cs[i]); err != nil {
			return nil, arch.MappingChoice{}, nil, err
		}
		if better(&cs[i], best) {
			best = &cs[i]
		}
	}
	// First improvement: move to the first better neighbour and look
	// around it, so the budget follows the direction that pays.
	for moved := true; moved; {
		moved = false
		for _, k := range neighbours(cs, best) {
			if err := run(&cs[k]); err != nil {
				return nil, arch.MappingChoice{}, nil, err
			}
			if better(&cs[k], best) {
				best, moved = &cs[k], true
				break
			}
		}
	}
	if analyticOnly && !alike && cfg.Mapping.Objective == "cycles" {
		best = analyticTie(cs, tol)
	}
	n := simulated
	// The runner-up: the best other simulated objective.
	bestC := *best
	var second *candidate
	for k := range cs {
		x := &cs[k]
		if x.s == bestC.s || math.IsNaN(x.value) || math.IsInf(x.value, 1) {
			continue
		}
		if second == nil || x.value < second.value {
			second = x
		}
	}
	c := arch.MappingChoice{Search: cfg.Mapping.Search, Objective: cfg.Mapping.Objective,
		Order: bestC.s.P.Order.String(), Loops: bestC.s.P.Order.Describe(bestC.s.DF),
		TimeTile: bestC.s.TimeTile, TimeTiles: bestC.s.TimeTiles, Considered: len(cs), Simulated: n,
		Value: bestC.value, PsumsOnChip: bestC.traffic.PsumSpills == 0}
	if second != nil {
		c.RunnerUp = second.value
		c.RunnerUpOrder = second.s.P.Order.String()
		c.RunnerUpTile = second.s.TimeTile
	}
	c.Why = fmt.Sprintf("best simulated %s of %d candidates: the %d analytically best and their neighbours, %d simulated",
		cfg.Mapping.Objective, len(cs), min(len(cs), cfg.Mapping.Simulate), n)
	switch {
	case alike:
		c.Value = 0
		c.Why = fmt.Sprintf("the first of %d candidates that all cost the same analytically", len(cs))
	case analyticOnly:
		c.Value = 0
		c.Why = fmt.Sprintf("analytically best of %d candidates (%d steps and %.3g MACs to simulate each: past the %d steps or %.3g MACs up to which candidates are simulated)",
			len(cs), size, float64(macs), maxSimulatedSteps, float64(maxSimulatedMACs))
	}
	if aborted > 0 {
		c.Why += fmt.Sprintf(" (%d stopped once slower than the best)", aborted)
	}
	rows := make([]MappingCandidate, len(cs))
	for i, x := range cs {
		rows[i] = candidateRow(x, x.s == bestC.s)
	}
	return bestC.s, c, rows, nil
}

// maxSimulatedSteps and maxSimulatedMACs bound the layers whose
// candidates are simulated, in simulation steps of the cheapest candidate
// and in MACs: a CNN's convolutions at batch 1 (10⁷–10⁸ MACs) are below
// both; an LLM prefill GEMM (10⁹–10¹¹), a batch-32 training layer or a
// model's set of MoE expert GEMMs, each of its own token count, above.
const (
	maxSimulatedSteps = 1 << 15
	maxSimulatedMACs  = 1e9
)

// simSteps estimates the steps (events) simulating s takes: its folds
// cut into chunks as the engine cuts them.
func simSteps(cfg *configs.Config, s *mapping.Schedule) int64 {
	chunk, err := chunkLen(cfg, s)
	if err != nil || chunk <= 0 {
		return math.MaxInt64
	}
	return int64(s.NumFolds()) * ((int64(s.TimeTile) + chunk - 1) / chunk)
}

// localSearchSims bounds the simulations of the local search after the
// analytically best few (with 6 the exhaustive oracle finds 40 of 42
// picks within 2% of the true minimum, the default ResNet-18 run keeps
// every 3×3 layer under twice its compulsory traffic, and the search
// costs about ten times the layer's own run).
const localSearchSims = 6

// neighbours are the candidates next to c: in its order the next longer
// and shorter time tiles and the tiles one tile count away (fewer, longer
// tiles and more, shorter ones, cut evenly or fitting a buffer whole)
// first — the tile is what the analytic cost ranks least well — then its
// tile in the other loop orders (same dataflow).
func neighbours(cs []candidate, c *candidate) []int {
	var orders []int
	fewer, more := -1, -1
	shorter, longer := -1, -1
	// closer: a count nearer to c's, or the same count in an evener cut.
	closer := func(k, than int, fewerSide bool) bool {
		if than < 0 {
			return true
		}
		a, b := cs[k].s, cs[than].s
		if a.TimeTiles != b.TimeTiles {
			return (a.TimeTiles > b.TimeTiles) == fewerSide
		}
		return a.TimeTile < b.TimeTile
	}
	for k := range cs {
		o := cs[k].s
		if o.DF.Name != c.s.DF.Name || o == c.s {
			continue
		}
		if o.TimeTile == c.s.TimeTile {
			orders = append(orders, k)
			continue
		}
		if o.P.Order != c.s.P.Order {
			continue
		}
		switch {
		case o.TimeTiles < c.s.TimeTiles && closer(k, fewer, true):
			fewer = k
		case o.TimeTiles > c.s.TimeTiles && closer(k, more, false):
			more = k
		}
		if o.TimeTile < c.s.TimeTile && (shorter < 0 || o.TimeTile > cs[shorter].s.TimeTile) {
			shorter = k
		}
		if o.TimeTile > c.s.TimeTile && (longer < 0 || o.TimeTile < cs[longer].s.TimeTile) {
			longer = k
		}
	}
	// Every tile with those counts (an even cut, and a tile that fits a
	// buffer whole with a short last one).
	out := []int{}
	seen := map[int]bool{}
	add := func(k int) {
		if k >= 0 && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	add(longer)
	add(shorter)
	for _, side := range []int{fewer, more} {
		if side < 0 {
			continue
		}
		for k := range cs {
			o := cs[k].s
			if o.DF.Name == c.s.DF.Name && o.P.Order == c.s.P.Order && o.TimeTiles == cs[side].s.TimeTiles {
				add(k)
			}
		}
	}
	for _, k := range orders {
		add(k)
	}
	return out
}

// analyticTie is the choice among candidates ranked analytically only
// (sorted by rank): of those within the tolerance of the best estimated
// cycles, the one that moves the fewest DRAM bytes. Where DRAM time and
// compute nearly balance, the estimate (the longer of the two) cannot
// see the queueing between them that the traffic causes, so the
// simulated path's rule — a tie goes to the cheaper candidate — decides.
func analyticTie(cs []candidate, tol float64) *candidate {
	best := &cs[0]
	limit := float64(best.estCycles) * (1 + tol)
	for i := range cs {
		c := &cs[i]
		if float64(c.estCycles) <= limit && c.traffic.Total() < best.traffic.Total() {
			best = c
		}
	}
	return best
}

// analyticKey is the search's rank of a candidate for an objective.
func analyticKey(objective string, estCycles int64, est mapping.Traffic) float64 {
	cyc := float64(estCycles)
	bytes := float64(est.Total())
	switch objective {
	case "dram_bytes":
		return bytes + cyc*1e-9
	case "energy":
		// DRAM bytes dominate a layer's energy at these buffer sizes;
		// the simulation prices the finalists exactly.
		return bytes + cyc*1e-6
	case "edp":
		return cyc * (bytes + 1)
	}
	return cyc + bytes*1e-9
}

// objective is a simulated layer's value of the objective.
func objective(name string, ls arch.LayerStats, pj float64) float64 {
	switch name {
	case "dram_bytes":
		return float64(ls.DRAMReadBytes + ls.DRAMWriteBytes)
	case "energy":
		return pj
	case "edp":
		return pj * float64(ls.Elapsed)
	}
	return float64(ls.Elapsed)
}

// layerEnergy prices one simulated layer with the energy model.
func layerEnergy(cfg *configs.Config, ls arch.LayerStats) (float64, error) {
	b, err := energy.Estimate(cfg, &arch.Result{Config: cfg, Layers: []arch.LayerStats{ls}})
	if err != nil {
		return 0, err
	}
	return b.TotalPJ, nil
}

// simulateSchedule runs layer l with schedule s alone on a fresh, drained
// accelerator: how the search measures a candidate.
// A limit above 0 stops the run past that cycle (errAborted).
// windows, when not nil, caches the layer's conv input windows across runs.
func simulateSchedule(cfg *configs.Config, l workloads.Layer, s *mapping.Schedule, limit int64, windows map[[5]int64]memory.Region) (arch.LayerStats, error) {
	job, err := jobFor(cfg, l)
	if err != nil {
		return arch.LayerStats{}, err
	}
	job.plan, job.dataflow, job.pattern = s, s.DF.Name, s.SparsityApplied()
	if !s.DF.CompressesK {
		job.maskGroups = 0
	}
	jobs := []layerJob{job}
	if err := bindMemory(cfg, jobs); err != nil {
		return arch.LayerStats{}, err
	}
	if windows != nil {
		jobs[0].tensors.windows = windows
	}
	a, err := Build(cfg)
	if err != nil {
		return arch.LayerStats{}, err
	}
	a.controller.abortAfter = limit
	res, err := a.runJobs(workloads.Workload{Name: l.Name, Layers: []workloads.Layer{l}}, jobs)
	if err != nil {
		return arch.LayerStats{}, err
	}
	return res.Layers[0], nil
}
