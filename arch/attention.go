package arch

import (
	"fmt"
	"math/rand"
	"sort"
	"time"

	"github.com/sarchlab/akita/v4/sim"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/attention"
)

// The attention engine's compute units, in AttnStats.UnitBusy order.
const (
	unitQK = iota
	unitSoftmax
	unitTopK
	unitPV
	unitImportance
	numAttnUnits
)

var attnUnitNames = [numAttnUnits]string{"QK", "Softmax", "TopK", "PV", "Importance"}

const fetchStep = -1

// attnStep is one stage of one attention row: a fetch through a buffer or
// a job on a unit.
type attnStep struct {
	unit    int // fetchStep or a unit index
	buffer  int // 0: K buffer (Q and K), 1: V buffer
	bytes   int64
	cycles  int64
	latency int64
	macs    int64
	// acquire/release a slot of an SRAM (K = 0, V = 1; -1 none): a row
	// holds a K slot from its key fetch to its last Q×K, a V slot from its
	// value fetch to its prob×V.
	acquire, release int
	// side jobs occupy their unit but the row does not wait for them (the
	// importance accumulators add up probabilities as softmax streams them
	// out); the row still waits for the unit to be free to issue one.
	side bool
}

func fetch(buffer int, bytes int64) attnStep {
	return attnStep{unit: fetchStep, buffer: buffer, bytes: bytes, acquire: -1, release: -1}
}

func compute(unit int, cycles, latency, macs int64) attnStep {
	return attnStep{unit: unit, cycles: cycles, latency: latency, macs: macs, acquire: -1, release: -1}
}

type attnJob struct {
	row     int
	steps   []attnStep
	next    int
	running bool
	done    bool
}

// AttnStats is what the attention engine did, for the report.
type AttnStats struct {
	Rows, RequantRows                 int64
	RequantQueries                    int64
	Queries                           int64
	KeysFetched, ValuesFetched        int64
	QBytes, KMSBBytes, KLSBBytes      int64
	VBytes                            int64
	UnitBusy                          [numAttnUnits]int64
	TopKLocalVCycles, TopKTokenCycles int64
	TopKRounds                        int64
	TopKCompares                      int64 // Σ candidates over all rounds
	SoftmaxElems                      int64
	// ImportanceAdds are the token-importance accumulations (one per
	// probability of a row that accumulates). They ride on the softmax
	// output stream, so they take no cycles of their own.
	ImportanceAdds  int64
	DenseMACs, MACs int64
}

// UnitNames names AttnStats.UnitBusy entries.
func UnitNames() []string { return attnUnitNames[:] }

// TopKCycles is the top-k engine's latency model (SpAtten RTL): every
// quick-select round over n candidates costs ceil(n/c) + 3 cycles with c
// parallel comparators (compare, prefix-sum zero elimination, FIFO write).
func TopKCycles(rounds []int, comparators int) int64 {
	var s int64
	for _, n := range rounds {
		s += int64((n+comparators-1)/comparators) + TopKPassLatency
	}
	return s
}

// attnController walks the attention rows through fetch and compute stages
// with at most pipeline_depth rows in flight (the K/V SRAMs are double
// buffered), giving each unit to the oldest row that is ready for it.
type attnController struct {
	*node
	cfg      *configs.Config
	units    [numAttnUnits]sim.Port
	buffers  [2]sim.Port
	unitBusy [numAttnUnits]bool
	slots    [2]int // K and V SRAM slots in use

	rows     []workloads.AttnRow
	jobs     []attnJob
	head     int
	rng      *rand.Rand
	lastDone int64

	Stats     AttnStats
	Layers    []LayerStats
	layerIdx  map[int]int
	layerBusy [][numAttnUnits]int64
	Finished  bool
}

// buildAttnSteps turns a row into its stages and accounts its traffic.
func (c *attnController) buildAttnSteps(r workloads.AttnRow) []attnStep {
	a := c.cfg.Attention
	st := &c.Stats
	q := int64(max(r.Queries, 1))
	d := int64(r.D)
	kf, vf := int64(r.KeyFetch), int64(r.ValueFetch)
	bytes := func(tokens int64, bits int) int64 { return (tokens*d*int64(bits) + 7) / 8 }
	qBytes := q * bytes(1, workloads.BitsOr(r.QueryBits, a.FullBits))
	kBytes := bytes(kf, workloads.BitsOr(r.KeyBits, a.FullBits))
	vBytes := bytes(vf, workloads.BitsOr(r.ValueBits, a.FullBits))
	qk := func(n int64) attnStep {
		return compute(unitQK, n*ceilDiv64(kf*d, int64(a.QKMultipliers)), int64(a.QKLatency), n*kf*d)
	}
	softmax := func(n int64) attnStep {
		st.SoftmaxElems += n * kf
		return compute(unitSoftmax, n*ceilDiv64(kf, int64(a.SoftmaxLanes)), int64(a.SoftmaxLatency), 0)
	}
	kFetch := fetch(0, qBytes+kBytes)
	kFetch.acquire = 0
	firstSoftmax := softmax(q)
	if r.LSBBits > 0 {
		// The τ decision follows the softmax of a progressively
		// quantized row.
		firstSoftmax.latency += PQuantDecisionLatency
	}
	steps := []attnStep{kFetch, qk(q), firstSoftmax}
	if r.AccumImportance {
		st.ImportanceAdds += q * kf
		acc := compute(unitImportance, q*ceilDiv64(kf, int64(a.SoftmaxLanes)), 0, 0)
		acc.side = true
		steps = append(steps, acc)
	}
	lastQK := 1
	st.Rows++
	st.Queries += q
	st.KeysFetched += kf
	st.ValuesFetched += vf
	st.QBytes += qBytes
	st.KMSBBytes += kBytes
	st.DenseMACs += 2 * q * int64(r.Context) * d
	if rq := int64(r.RequantQueries); rq > 0 && r.LSBBits > 0 {
		lsb := bytes(kf, r.LSBBits)
		st.RequantRows++
		st.RequantQueries += rq
		st.KLSBBytes += lsb
		steps = append(steps, fetch(0, lsb), qk(rq), softmax(rq))
		lastQK = len(steps) - 2
	}
	steps[lastQK].release = 0
	perQueryV := vf
	if vf < kf { // local V pruning: a top-k over each query's probabilities
		rounds := r.VRounds
		if rounds == nil {
			for i := int64(0); i < q; i++ {
				rounds = append(rounds, c.syntheticRounds(int(kf), int(vf))...)
			}
		}
		cyc := TopKCycles(rounds, a.TopKComparators)
		st.TopKCompares += sumInts(rounds)
		st.TopKLocalVCycles += cyc
		st.TopKRounds += int64(len(rounds))
		steps = append(steps, compute(unitTopK, cyc, 0, 0))
	}
	st.VBytes += vBytes
	vFetch := fetch(1, vBytes)
	vFetch.acquire = 1
	pv := compute(unitPV, q*ceilDiv64(perQueryV*d, int64(a.PVMultipliers)), int64(a.PVLatency), q*perQueryV*d)
	pv.release = 1
	steps = append(steps, vFetch, pv)
	if r.TopKSize > 0 && r.TopKSize < r.Context { // cascade token pruning
		rounds := r.TokenRounds
		if rounds == nil {
			rounds = c.syntheticRounds(r.Context, r.TopKSize)
		}
		cyc := TopKCycles(rounds, a.TopKComparators)
		st.TopKCompares += sumInts(rounds)
		st.TopKTokenCycles += cyc
		st.TopKRounds += int64(len(rounds))
		steps = append(steps, compute(unitTopK, cyc, 0, 0))
	}
	for _, s := range steps {
		st.MACs += s.macs
	}
	return steps
}

// syntheticRounds runs quick-select on seeded synthetic scores (softmax of
// Gaussian logits) when a trace does not carry the rounds its data took;
// the final order-preserving filter pass over all n counts as one more
// round.
func (c *attnController) syntheticRounds(n, k int) []int {
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = c.rng.NormFloat64()
	}
	attention.Softmax(vals)
	_, rounds := attention.QuickSelect(vals, k, c.rng)
	return append(rounds, n)
}

func ceilDiv64(a, b int64) int64 { return (a + b - 1) / b }

func sumInts(x []int) int64 {
	var s int64
	for _, v := range x {
		s += int64(v)
	}
	return s
}

func (c *attnController) start() { c.at(0, c.progress) }

// attnWindow bounds the rows the controller looks at; rows beyond the
// SRAM slots just wait, so it only limits bookkeeping.
const attnWindow = 16

func (c *attnController) progress() {
	depth := c.cfg.Attention.PipelineDepth
	for len(c.jobs)-c.head < attnWindow && len(c.jobs) < len(c.rows) {
		i := len(c.jobs)
		c.jobs = append(c.jobs, attnJob{row: i, steps: c.buildAttnSteps(c.rows[i])})
	}
	for j := c.head; j < len(c.jobs); j++ {
		job := &c.jobs[j]
		for !job.running && !job.done {
			s := job.steps[job.next]
			if s.acquire >= 0 {
				if c.slots[s.acquire] >= depth {
					break
				}
				c.slots[s.acquire]++
				job.steps[job.next].acquire = -1 // held now
			}
			if s.unit == fetchStep && s.bytes == 0 {
				c.advance(j)
				continue
			}
			if s.unit == fetchStep {
				job.running = true
				c.send(c.buffers[s.buffer], &TileReq{Bytes: s.bytes, Fold: j})
				break
			}
			if c.unitBusy[s.unit] {
				break
			}
			c.unitBusy[s.unit] = true
			li := c.layerOf(c.rows[job.row].Layer)
			c.layerBusy[li][s.unit] += s.cycles
			if s.side {
				c.send(c.units[s.unit], &ComputeReq{Fold: -1 - s.unit, Cycles: s.cycles})
				job.next++ // the row goes on without waiting
				continue
			}
			job.running = true
			c.send(c.units[s.unit], &ComputeReq{Fold: j, Cycles: s.cycles, Latency: s.latency, MACs: s.macs})
		}
	}
}

func (c *attnController) layerOf(layer int) int {
	li, ok := c.layerIdx[layer]
	if !ok {
		li = len(c.Layers)
		c.layerIdx[layer] = li
		c.Layers = append(c.Layers, LayerStats{Layer: workloads.Layer{Name: fmt.Sprintf("layer%d", layer), Kind: "attention"},
			Dataflow: "spatten", Pattern: "dense"})
		c.layerBusy = append(c.layerBusy, [numAttnUnits]int64{})
	}
	return li
}

// advance finishes the current step of job j; a finished row is charged
// the cycles since the previous row finished.
func (c *attnController) advance(j int) {
	job := &c.jobs[j]
	job.running = false
	if rel := job.steps[job.next].release; rel >= 0 {
		c.slots[rel]--
	}
	job.next++
	if job.next < len(job.steps) {
		return
	}
	job.done = true
	r := c.rows[job.row]
	now := c.now()
	ls := &c.Layers[c.layerOf(r.Layer)]
	if now > c.lastDone {
		ls.Elapsed += now - c.lastDone
		c.lastDone = now
	}
	ls.Folds++
	ls.Layer.Groups++
	ls.Layer.M += max(r.Queries, 1)
	ls.Layer.N = max(ls.Layer.N, r.Context)
	ls.Layer.K = r.D
	q, d := int64(max(r.Queries, 1)), int64(r.D)
	ls.DenseMACs += 2 * q * int64(r.Context) * d
	wb := int64(c.cfg.WordBytes())
	for _, s := range job.steps {
		ls.MACs += s.macs
		switch s.unit {
		case fetchStep:
			// Fetched words are written into the K (ifmap) or V
			// (filter) SRAM; each MAC reads one K or V word.
			ls.DRAMReadBytes += s.bytes
			ls.SRAMWrites[s.buffer] += ceilDiv64(s.bytes, wb)
		case unitQK:
			ls.SRAMReads[0] += s.macs
		case unitPV:
			ls.SRAMReads[1] += s.macs
		}
	}
	for c.head < len(c.jobs) && c.jobs[c.head].done {
		c.jobs[c.head].steps = nil // free finished rows' stages
		c.head++
	}
}

func (c *attnController) handle(msg sim.Msg) {
	switch m := msg.(type) {
	case *ComputeRsp:
		if m.Req.Fold < 0 { // a side job finished: free its unit
			u := -1 - m.Req.Fold
			c.unitBusy[u] = false
			c.Stats.UnitBusy[u] += m.Req.Cycles
			break
		}
		s := c.jobs[m.Req.Fold].steps[c.jobs[m.Req.Fold].next]
		if s.latency == 0 {
			c.unitBusy[s.unit] = false
		}
		c.Stats.UnitBusy[s.unit] += s.cycles
		c.advance(m.Req.Fold)
	case *TileRsp:
		c.advance(m.Req.Fold)
	}
	if c.head == len(c.rows) {
		c.Finished = true
		for i := range c.Layers {
			var busiest int64
			for _, b := range c.layerBusy[i] {
				busiest = max(busiest, b)
			}
			c.Layers[i].ComputeCycles = busiest
		}
		return
	}
	c.progress()
}

// SimulateAttention runs attention rows on a SpAtten-style engine: the K/V
// fetchers are the shared Buffer/DRAM components, the modules are Units.
func SimulateAttention(cfg *configs.Config, w workloads.Workload) (*Result, error) {
	return simulateAttention(cfg, w, nil)
}

func simulateAttention(cfg *configs.Config, w workloads.Workload, tl *Timeline) (*Result, error) {
	if len(w.Attention) == 0 {
		return nil, fmt.Errorf("workload %s has no attention rows", w.Name)
	}
	a, err := Build(cfg)
	if err != nil {
		return nil, err
	}
	freq := sim.Freq(cfg.ClockMHz * 1e6)
	rows := make([]workloads.AttnRow, len(w.Attention))
	for i, r := range w.Attention {
		rows[i] = Ablate(r, cfg.Attention)
	}
	c := &attnController{node: newNode("Accel.AttnController", a.engine, freq), cfg: cfg,
		rows: rows, rng: rand.New(rand.NewSource(cfg.Attention.Seed)), layerIdx: map[int]int{}}
	c.onMsg = c.handle
	a.plug(c.node)
	for i, name := range attnUnitNames {
		u := newUnit("Accel."+name, a.engine, freq)
		a.plug(u.node)
		c.units[i] = u.port
		u.freed = func() { c.unitBusy[i] = false; c.progress() }
	}
	c.buffers[0] = a.buffers[0].port
	c.buffers[1] = a.buffers[1].port
	if tl != nil {
		a.WithTimeline(tl)
	}
	start := time.Now()
	c.start()
	if err := a.engine.Run(); err != nil {
		return nil, err
	}
	wall := time.Since(start).Seconds()
	if !c.Finished {
		return nil, fmt.Errorf("simulation stalled: the event queue drained with %d of %d attention rows unfinished (a lost wake-up in the model)",
			len(c.rows)-c.head, len(c.rows))
	}
	sort.SliceStable(c.Layers, func(i, j int) bool { return c.Layers[i].Layer.Name < c.Layers[j].Layer.Name })
	res := a.result(w, c.Layers, wall)
	res.Attention = &c.Stats
	return res, nil
}

// Ablate removes from a row the techniques the engine has switched off, so
// a trace recorded with them (SpAtten's) can be replayed without: no token
// pruning fetches the whole context (values in the same kept proportion when
// local V pruning stays on) and runs no token top-k; no local V pruning
// fetches a value for every fetched key; no progressive quantization
// fetches full-width words once. Head pruning cannot be undone from a trace
// (pruned heads have no rows); kernel workloads apply it themselves. A row
// that never used a technique is unchanged.
func Ablate(r workloads.AttnRow, a configs.Attention) workloads.AttnRow {
	if !a.TokenPruning && r.KeyFetch < r.Context {
		r.ValueFetch = int(int64(r.ValueFetch) * int64(r.Context) / int64(max(r.KeyFetch, 1)))
		r.KeyFetch = r.Context
		r.VRounds = nil
	}
	if !a.TokenPruning {
		r.TopKSize, r.TokenRounds = 0, nil
	}
	if !a.LocalVPruning && r.ValueFetch < r.KeyFetch {
		r.ValueFetch, r.VRounds = r.KeyFetch, nil
	}
	if !a.ProgressiveQuant {
		r.KeyBits, r.ValueBits, r.QueryBits, r.RequantQueries, r.LSBBits = 0, 0, 0, 0, 0
	}
	return r
}

// EffectiveTFLOPS is the dense attention work (2 FLOPs per MAC of
// Q·Kᵀ and P·V over the whole context) per second of simulated time.
func (s *AttnStats) EffectiveTFLOPS(cycles int64, clockMHz float64) float64 {
	if cycles <= 0 {
		return 0
	}
	return 2 * float64(s.DenseMACs) / (float64(cycles) / (clockMHz * 1e6)) / 1e12
}
