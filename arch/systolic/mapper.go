package systolic

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/internal/par"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/mapping"
	"github.com/sparsesim/sparsesim/workloads"
)

// The mapper: each layer's temporal mapping (the loop order over row folds,
// column folds and time tiles, and the time tile's length) is chosen by a
// search over the layer's mapspace. The analytic cost (mapping.Estimate:
// traffic from the loop nest and the buffer slots; cycles = max(compute,
// traffic ÷ bandwidth)) ranks every candidate; the best few are simulated
// on the engine and the memory model, each alone from a drained machine,
// then a local search around the best (search.go); large layers and layers
// whose candidates all cost the same are ranked analytically only. The
// mapspace is mapspace.go's, --explain-mapping's record explain.go's.
// Identical layers are searched once per configuration, here.

// searched is a layer's search result, shared by identical layers.
type searched struct {
	s      *mapping.Schedule
	choice arch.MappingChoice
	rows   []MappingCandidate
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
