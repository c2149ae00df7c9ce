package systolic

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/energy"
	"github.com/sparsesim/sparsesim/internal/par"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/mapping"
	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/workloads"
)

// The mapper: each layer's temporal mapping (the loop order over row folds,
// column folds and time tiles, and the time tile's length) is chosen by a
// search over the layer's mapspace. The analytic cost (mapping.Estimate:
// traffic from the loop nest and the buffer slots; cycles = max(compute,
// traffic ÷ bandwidth)) ranks every candidate; the best few are simulated
// on the engine and the memory model, each alone from a drained machine,
// and the one with the best simulated objective runs. Identical layers are
// searched once per configuration.

// candidate is one mapping of a layer with its costs.
type candidate struct {
	s         *mapping.Schedule
	estCycles int64           // analytic cycles
	traffic   mapping.Traffic // analytic traffic
	est       float64         // the analytic rank key (lower is better)
	measured  *arch.LayerStats
	value     float64 // the simulated objective
	energyPJ  float64
}

// searched is a layer's search result, shared by identical layers.
type searched struct {
	s      *mapping.Schedule
	choice arch.MappingChoice
	rows   []MappingCandidate
}

// MappingCandidate is one mapping the search compared, for
// --explain-mapping: its analytic cost and, when simulated, its value.
type MappingCandidate struct {
	Dataflow  string `json:"dataflow"`
	Order     string `json:"order"`
	TimeTile  int    `json:"time_tile"`
	TimeTiles int    `json:"time_tiles"`
	// EstCycles and EstBytes are the analytic cost (cycles at the DRAM's
	// bandwidth; useful bytes), EstTransferred in whole requests.
	EstCycles      int64 `json:"est_cycles"`
	EstBytes       int64 `json:"est_bytes"`
	EstTransferred int64 `json:"est_transferred_bytes"`
	PsumsOnChip    bool  `json:"psums_on_chip"`
	// Simulated: run on the memory model; Stopped: stopped once slower
	// than the best; Value is the objective then (0 when not simulated).
	Simulated bool    `json:"simulated"`
	Stopped   bool    `json:"stopped"`
	Value     float64 `json:"value,omitempty"`
	Chosen    bool    `json:"chosen"`
}

// searchCache holds the process's searches (key string → *searched); a
// long sweep of many configurations would grow it without end, so it
// starts over past maxCachedSearches (a cleared search is only redone).
var (
	searchCache  sync.Map
	cachedSearch atomic.Int64
)

const maxCachedSearches = 1 << 12

func cacheSearch(key string, r *searched) {
	if cachedSearch.Add(1) > maxCachedSearches {
		searchCache.Clear()
		cachedSearch.Store(1)
	}
	searchCache.Store(key, r)
}

// searchTask is one layer to search.
type searchTask struct {
	l    workloads.Layer
	prob mapping.Problem
}

// presearch runs the searches of the distinct layers not yet cached on
// every core.
func presearch(cfg *configs.Config, arr mapping.Array, tasks []searchTask, dfs []dataflow.Dataflow) error {
	if cfg.Mapping.Search != configs.MappingBest && len(dfs) == 1 {
		return nil // nothing to simulate
	}
	var todo []searchTask
	seen := map[string]bool{}
	for _, t := range tasks {
		k := searchKey(cfg, t.l, t.prob, dfs)
		if _, ok := searchCache.Load(k); ok || seen[k] {
			continue
		}
		seen[k] = true
		todo = append(todo, t)
	}
	if len(todo) <= 1 || runtime.GOMAXPROCS(0) <= 1 {
		return nil // the caller's loop searches them in turn
	}
	errs := make([]error, len(todo))
	par.For(len(todo), func(i int) {
		_, _, errs[i] = chooseSchedule(cfg, arr, todo[i].l, todo[i].prob, dfs)
	})
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("layer %q: %w", todo[i].l.Name, err)
		}
	}
	return nil
}

func searchKey(cfg *configs.Config, l workloads.Layer, prob mapping.Problem, dfs []dataflow.Dataflow) string {
	k := fmt.Sprintf("%s|%+v|%+v|%v", ConfigFingerprint(cfg), searchLayerKey(l), prob, dfNames(dfs))
	if cfg.Mapping.Search == configs.MappingFixed {
		// Layers of one shape may be given different mappings.
		lm := cfg.Mapping.LayerMappingOf(l.Name)
		k += fmt.Sprintf("|%s/%d/%s", lm.Order, lm.TimeTile, lm.Dataflow)
	}
	return k
}

// CheckLayerMappings refuses per-layer mappings (mapping.layers or
// mapping.file) that name no layer of w: a mapping that applies to
// nothing is a typo, not a choice.
func CheckLayerMappings(cfg *configs.Config, w workloads.Workload) error {
	if cfg.Mapping.Search != configs.MappingFixed || len(cfg.Mapping.Layers) == 0 {
		return nil
	}
	names := map[string]bool{}
	for _, l := range w.Layers {
		names[l.Name] = true
	}
	for _, e := range cfg.Mapping.Layers {
		if !names[e.Layer] {
			var some []string
			for _, l := range w.Layers[:min(6, len(w.Layers))] {
				some = append(some, l.Name)
			}
			where := "mapping.layers"
			if cfg.Mapping.File != "" {
				where = "mapping.layers or mapping.file " + cfg.Mapping.File
			}
			return usererr.New("%s: no layer %q in workload %s (its layers: %s, …)", where, e.Layer, w.Name, strings.Join(some, ", "))
		}
	}
	return nil
}

// chooseSchedule picks layer l's schedule among dataflows dfs by the
// configured search.
func chooseSchedule(cfg *configs.Config, arr mapping.Array, l workloads.Layer, prob mapping.Problem, dfs []dataflow.Dataflow) (*mapping.Schedule, arch.MappingChoice, error) {
	key := searchKey(cfg, l, prob, dfs)
	if v, ok := searchCache.Load(key); ok {
		r := v.(*searched)
		return r.s, r.choice, nil
	}
	cands, err := mapspace(cfg, arr, l.Name, prob, dfs)
	if err != nil {
		return nil, arch.MappingChoice{}, err
	}
	best, choice, rows, err := search(cfg, l, cands)
	if err != nil {
		return nil, arch.MappingChoice{}, err
	}
	cacheSearch(key, &searched{best, choice, rows})
	return best, choice, nil
}

func dfNames(dfs []dataflow.Dataflow) []string {
	out := make([]string, len(dfs))
	for i, d := range dfs {
		out[i] = d.Name
	}
	return out
}

// searchLayerKey is what of a layer its mapping depends on: everything but
// its name.
func searchLayerKey(l workloads.Layer) workloads.Layer {
	l.Name = ""
	return l
}

// mapspace lists the candidate schedules: for search best every loop order
// with every candidate time tile; for the fixed searches their one order.
func mapspace(cfg *configs.Config, arr mapping.Array, layer string, prob mapping.Problem, dfs []dataflow.Dataflow) ([]*mapping.Schedule, error) {
	var out []*mapping.Schedule
	if cfg.Mapping.Search == configs.MappingFixed {
		if df := cfg.Mapping.LayerMappingOf(layer).Dataflow; df != "" {
			d, _ := dataflow.Lookup(df)
			dfs = []dataflow.Dataflow{d}
		}
	}
	for _, df := range dfs {
		p := prob
		switch cfg.Mapping.Search {
		case configs.MappingSCALESim:
			p.Order = mapping.OrderSCALESim
		case configs.MappingRowMajor:
			p.Order = mapping.OrderRowMajor
		case configs.MappingFixed:
			lm := cfg.Mapping.LayerMappingOf(layer)
			o, err := mapping.ParseOrder(lm.Order)
			if err != nil {
				return nil, err
			}
			p.Order, p.TimeTile = o, lm.TimeTile
		}
		whole, err := mapping.New(df, arr, p)
		if err != nil {
			return nil, err
		}
		if cfg.Mapping.Search != configs.MappingBest {
			out = append(out, whole)
			continue
		}
		for _, o := range mapping.Orders() {
			for _, tile := range timeTiles(whole) {
				q := p
				q.Order, q.TimeTile = o, tile
				s, err := mapping.New(df, arr, q)
				if err != nil {
					return nil, err
				}
				if tile < s.Extent(df.TimeDim) && o[2] == mapping.LoopTime {
					continue // tiling the innermost loop only refills the array more often
				}
				if slices.ContainsFunc(out, func(x *mapping.Schedule) bool {
					return x.DF.Name == s.DF.Name && x.P.Order == s.P.Order && x.TimeTile == s.TimeTile
				}) {
					continue // a tile New evened out or refused (packed groups stream whole)
				}
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// timeTiles are the time tile lengths worth trying: the whole streamed
// extent, and for each buffer whose tile grows with the streamed
// dimension the longest tile it keeps whole, a half and a quarter of it
// (room for the other operands' reuse), and two and four times it (fewer
// array refills for some spilling); and the extent cut in n equal tiles
// extent (n = 2…8). Each also evened out: n tiles of ⌈T/n⌉, so the last is not short.
func timeTiles(s *mapping.Schedule) []int {
	df, arr := s.DF, s.Arr
	t := s.Extent(df.TimeDim)
	tiles := []int{0}
	perStep := map[dataflow.Operand]int64{}
	for _, o := range dataflow.Operands {
		if !o.Indexes(df.TimeDim) {
			continue
		}
		width := int64(arr.WordBytes)
		if o == dataflow.Ofmap && arr.PsumBytes > 0 {
			width = int64(arr.PsumBytes)
		}
		across := arr.Rows
		if o.Indexes(df.ColDim) {
			across = arr.Cols
		}
		perStep[o] = int64(across) * width
	}
	add := func(x int) {
		if x < 1 || x >= t {
			return
		}
		// x itself, and n tiles of equal length (the last not left short).
		n := (t + x - 1) / x
		for _, y := range []int{x, (t + n - 1) / n} {
			if !slices.Contains(tiles, y) {
				tiles = append(tiles, y)
			}
		}
	}
	for _, o := range dataflow.Operands {
		ps, ok := perStep[o]
		if !ok || ps <= 0 {
			continue
		}
		fit := int(arr.KeepBytes[o] / ps)
		if fit == 0 {
			fit = int(arr.SlotBytes[o] / ps)
		}
		for _, x := range []int{fit, fit / 2, fit / 4, fit * 2, fit * 4} {
			add(x)
		}
	}
	for n := 2; n <= 8; n++ {
		add((t + n - 1) / n)
	}
	return tiles
}

// search ranks the candidates analytically, simulates the best few and
// returns the best simulated one with the record of the choice.
func search(cfg *configs.Config, l workloads.Layer, cands []*mapping.Schedule) (*mapping.Schedule, arch.MappingChoice, []MappingCandidate, error) {
	if len(cands) == 1 {
		s := cands[0]
		return s, arch.MappingChoice{Search: cfg.Mapping.Search, Objective: cfg.Mapping.Objective,
				Order: s.P.Order.String(), Loops: s.P.Order.Describe(s.DF), TimeTile: s.TimeTile, TimeTiles: s.TimeTiles,
				Considered: 1, PsumsOnChip: psumsOnChip(s), Why: "the configured " + cfg.Mapping.Search + " mapping"},
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
		c.measured = &ls
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
	n := simulated
	// The runner-up: the best other simulated objective.
	bestC := *best
	sim := []candidate{bestC}
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
	if second != nil {
		sim = append(sim, *second)
	}
	c := arch.MappingChoice{Search: cfg.Mapping.Search, Objective: cfg.Mapping.Objective,
		Order: bestC.s.P.Order.String(), Loops: bestC.s.P.Order.Describe(bestC.s.DF),
		TimeTile: bestC.s.TimeTile, TimeTiles: bestC.s.TimeTiles, Considered: len(cs), Simulated: n,
		Value: bestC.value, PsumsOnChip: bestC.traffic.PsumSpills == 0}
	if len(sim) > 1 && !math.IsInf(sim[1].value, 1) {
		c.RunnerUp = sim[1].value
		c.RunnerUpOrder = sim[1].s.P.Order.String()
		c.RunnerUpTile = sim[1].s.TimeTile
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

// candidateRow is a candidate as --explain-mapping lists it.
func candidateRow(c candidate, chosen bool) MappingCandidate {
	est := c.traffic
	r := MappingCandidate{Dataflow: c.s.DF.Name, Order: c.s.P.Order.String(), TimeTile: c.s.TimeTile, TimeTiles: c.s.TimeTiles,
		EstCycles: c.estCycles, EstBytes: est.Total(), EstTransferred: est.Transferred,
		PsumsOnChip: est.PsumSpills == 0, Chosen: chosen}
	switch {
	case math.IsNaN(c.value):
	case math.IsInf(c.value, 1):
		r.Simulated, r.Stopped = true, true
	default:
		r.Simulated, r.Value = true, c.value
	}
	return r
}

// ExplainMapping is the search of w's layer named layer: every candidate
// it compared, in analytic rank order, and the choice.
func ExplainMapping(cfg *configs.Config, w workloads.Workload, layer string) (arch.MappingChoice, []MappingCandidate, error) {
	jobs, err := planWorkload(cfg, w)
	if err != nil {
		return arch.MappingChoice{}, nil, err
	}
	var names []string
	for i, j := range jobs {
		if j.layer.Name != layer {
			names = append(names, j.layer.Name)
			continue
		}
		if j.mapping.Search == "" {
			return arch.MappingChoice{}, nil, usererr.New("--explain-mapping %s: the layer is an element-wise update, which has no mapping to choose", layer)
		}
		if v, ok := searchCache.Load(jobs[i].searchKey); ok {
			return j.mapping, v.(*searched).rows, nil
		}
		return j.mapping, nil, fmt.Errorf("--explain-mapping %s: the search's record was not kept", layer)
	}
	if len(names) > 8 {
		names = append(names[:8], "…")
	}
	return arch.MappingChoice{}, nil, usererr.New("--explain-mapping %s: no layer of that name (layers: %s)", layer, strings.Join(names, ", "))
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

// psumsOnChip reports whether the mapping keeps every output's partial
// sums in the accumulator until they are final.
func psumsOnChip(s *mapping.Schedule) bool { return s.Estimate().PsumSpills == 0 }

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
	if math.IsNaN(b.TotalPJ) {
		return 0, fmt.Errorf("layer %s: energy is not a number", ls.Layer.Name)
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
