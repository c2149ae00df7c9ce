package systolic

import (
	"fmt"
	"math"
	"strings"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads"
)

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
