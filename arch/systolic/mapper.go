package systolic

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/energy"
	"github.com/sparsesim/sparsesim/mapping"
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
	s        *mapping.Schedule
	est      float64 // the analytic rank key (lower is better)
	measured *arch.LayerStats
	value    float64 // the simulated objective
	energyPJ float64
}

// searched is a layer's search result, shared by identical layers.
type searched struct {
	s      *mapping.Schedule
	choice arch.MappingChoice
}

var searchCache sync.Map // key string → *searched

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
	workers := min(len(todo), runtime.GOMAXPROCS(0))
	if workers <= 1 {
		return nil // the caller's loop searches them in turn
	}
	errs := make([]error, len(todo))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(todo); i = int(next.Add(1) - 1) {
				_, _, errs[i] = chooseSchedule(cfg, arr, todo[i].l, todo[i].prob, dfs)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("layer %q: %w", todo[i].l.Name, err)
		}
	}
	return nil
}

func searchKey(cfg *configs.Config, l workloads.Layer, prob mapping.Problem, dfs []dataflow.Dataflow) string {
	return fmt.Sprintf("%s|%+v|%+v|%v", ConfigFingerprint(cfg), searchLayerKey(l), prob, dfNames(dfs))
}

// chooseSchedule picks layer l's schedule among dataflows dfs by the
// configured search.
func chooseSchedule(cfg *configs.Config, arr mapping.Array, l workloads.Layer, prob mapping.Problem, dfs []dataflow.Dataflow) (*mapping.Schedule, arch.MappingChoice, error) {
	key := searchKey(cfg, l, prob, dfs)
	if v, ok := searchCache.Load(key); ok {
		r := v.(*searched)
		return r.s, r.choice, nil
	}
	cands, err := mapspace(cfg, arr, prob, dfs)
	if err != nil {
		return nil, arch.MappingChoice{}, err
	}
	best, choice, err := search(cfg, l, cands)
	if err != nil {
		return nil, arch.MappingChoice{}, err
	}
	searchCache.Store(key, &searched{best, choice})
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
func mapspace(cfg *configs.Config, arr mapping.Array, prob mapping.Problem, dfs []dataflow.Dataflow) ([]*mapping.Schedule, error) {
	var out []*mapping.Schedule
	for _, df := range dfs {
		p := prob
		switch cfg.Mapping.Search {
		case configs.MappingSCALESim:
			p.Order = mapping.OrderSCALESim
		case configs.MappingRowMajor:
			p.Order = mapping.OrderRowMajor
		case configs.MappingFixed:
			o, err := mapping.ParseOrder(cfg.Mapping.Order)
			if err != nil {
				return nil, err
			}
			p.Order, p.TimeTile = o, cfg.Mapping.TimeTile
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
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// timeTiles are the time tile lengths worth trying: the whole streamed
// extent, and for each buffer whose tile grows with the streamed
// dimension the longest tile that fits its slot, and half and a quarter of
// it (room for the other operands' reuse).
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
	for _, o := range dataflow.Operands {
		ps, ok := perStep[o]
		if !ok || ps <= 0 {
			continue
		}
		fit := int(arr.SlotBytes[o] / ps)
		for _, x := range []int{fit, fit / 2, fit / 4} {
			if x >= 1 && x < t && !slices.Contains(tiles, x) {
				tiles = append(tiles, x)
			}
		}
	}
	return tiles
}

// search ranks the candidates analytically, simulates the best few and
// returns the best simulated one with the record of the choice.
func search(cfg *configs.Config, l workloads.Layer, cands []*mapping.Schedule) (*mapping.Schedule, arch.MappingChoice, error) {
	if len(cands) == 1 {
		s := cands[0]
		return s, arch.MappingChoice{Search: cfg.Mapping.Search, Objective: cfg.Mapping.Objective,
			Order: s.P.Order.String(), Loops: s.P.Order.Describe(s.DF), TimeTile: s.TimeTile, TimeTiles: s.TimeTiles,
			Considered: 1, PsumsOnChip: psumsOnChip(s), Why: "the configured " + cfg.Mapping.Search + " mapping"}, nil
	}
	bpc := 0.0
	if cfg.DRAM.Model != configs.DRAMIdeal {
		bpc = cfg.BytesPerCycle() * float64(cfg.DRAM.Channels)
	}
	cs := make([]candidate, len(cands))
	for i, s := range cands {
		cs[i] = candidate{s: s, est: analyticKey(cfg.Mapping.Objective, s, bpc)}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].est < cs[j].est })
	n := min(len(cs), cfg.Mapping.Simulate)
	for i := range n {
		ls, err := simulateSchedule(cfg, l, cs[i].s)
		if err != nil {
			return nil, arch.MappingChoice{}, err
		}
		cs[i].measured = &ls
		if cs[i].energyPJ, err = layerEnergy(cfg, ls); err != nil {
			return nil, arch.MappingChoice{}, err
		}
		cs[i].value = objective(cfg.Mapping.Objective, ls, cs[i].energyPJ)
	}
	sim := cs[:n]
	// The best simulated objective; ties broken by energy, then by the
	// analytic rank (stable).
	sort.SliceStable(sim, func(i, j int) bool {
		if sim[i].value != sim[j].value {
			return sim[i].value < sim[j].value
		}
		return sim[i].energyPJ < sim[j].energyPJ
	})
	best := sim[0]
	c := arch.MappingChoice{Search: cfg.Mapping.Search, Objective: cfg.Mapping.Objective,
		Order: best.s.P.Order.String(), Loops: best.s.P.Order.Describe(best.s.DF),
		TimeTile: best.s.TimeTile, TimeTiles: best.s.TimeTiles, Considered: len(cs), Simulated: n,
		Value: best.value, PsumsOnChip: psumsOnChip(best.s)}
	if n > 1 {
		c.RunnerUp = sim[1].value
		c.RunnerUpOrder = sim[1].s.P.Order.String()
		c.RunnerUpTile = sim[1].s.TimeTile
	}
	c.Why = fmt.Sprintf("best simulated %s of the %d analytically best of %d candidates", cfg.Mapping.Objective, n, len(cs))
	return best.s, c, nil
}

// psumsOnChip reports whether the mapping keeps every output's partial
// sums in the accumulator until they are final.
func psumsOnChip(s *mapping.Schedule) bool { return s.Estimate().PsumSpills == 0 }

// analyticKey is the search's rank of a candidate for an objective.
func analyticKey(objective string, s *mapping.Schedule, bpc float64) float64 {
	cyc := float64(s.EstimateCycles(bpc))
	bytes := float64(s.Estimate().Total())
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
func simulateSchedule(cfg *configs.Config, l workloads.Layer, s *mapping.Schedule) (arch.LayerStats, error) {
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
	a, err := Build(cfg)
	if err != nil {
		return arch.LayerStats{}, err
	}
	res, err := a.runJobs(workloads.Workload{Name: l.Name, Layers: []workloads.Layer{l}}, jobs)
	if err != nil {
		return arch.LayerStats{}, err
	}
	return res.Layers[0], nil
}
