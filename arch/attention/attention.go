package attention

import (
	"fmt"
	"math/bits"
	"math/rand"
	"sort"
	"time"

	"github.com/sarchlab/akita/v4/sim"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/workloads"
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

// The units' order is arch.AttnUnitNames's (AttnStats lives in arch with
// the other measurements): a mismatch fails to compile.
var _ = [1]struct{}{}[numAttnUnits-arch.NumAttnUnits]

var attnUnitNames = arch.AttnUnitNames

// Step kinds that are not units: a fill through the K or V buffer, and
// the drain of a request's outputs through the output buffer.
const (
	fetchStep = -1
	writeStep = -2
)

// SRAMs a step can hold.
const (
	sramK = iota
	sramV
	outBuffer
)

// Top-k kinds, for the statistics.
const (
	topkNone = iota
	topkLocalV
	topkToken
	topkHead
)

// attnStep is one stage of one attention request: a transfer through a
// buffer or a job on a unit.
type attnStep struct {
	unit   int // fetchStep, writeStep or a unit index
	buffer int // sramK, sramV or outBuffer
	row    int // the row (index into the run's rows) the step belongs to
	// parts are the tensor regions a fetch or write moves; the buffer
	// turns them into DRAM requests and books them in the ledger.
	parts   []tensorRegion
	cycles  int64
	latency int64
	macs    int64
	// acquire/release an SRAM (-1 none): a request holds hold bytes of
	// the K SRAM from its key fetch to its last Q×K, of the V SRAM from
	// its value fetch to its last prob×V.
	acquire, release int
	hold             int64
	// side jobs occupy their unit but the request does not wait for them
	// (the importance accumulators add up probabilities as softmax
	// streams them out); it still waits for the unit to issue one.
	side bool
	topk int
}

func fetch(buffer, row int, parts ...tensorRegion) attnStep {
	return attnStep{unit: fetchStep, buffer: buffer, row: row, parts: parts, acquire: -1, release: -1}
}

func compute(unit, row int, cycles, latency, macs int64) attnStep {
	return attnStep{unit: unit, row: row, cycles: cycles, latency: latency, macs: macs, acquire: -1, release: -1}
}

// attnJob is one request: one row, or two fused 6-bit rows.
type attnJob struct {
	rows    []int
	steps   []attnStep
	next    int
	running bool
	done    bool
}

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

// attnController walks the attention requests through fetch and compute
// stages with at most pipeline_depth requests holding each SRAM and never
// more bytes than it has, giving each unit to the oldest request that is
// ready for it.
type attnController struct {
	*arch.Node
	cfg      *configs.Config
	units    [numAttnUnits]sim.Port
	buffers  [3]*arch.Buffer
	ledger   *memory.Ledger
	keyCache tokenCache
	unitBusy [numAttnUnits]bool
	slots    [2]int   // K and V SRAM requests holding space
	held     [2]int64 // bytes held
	capacity [2]int64

	rows     []workloads.AttnRow
	nextRow  int
	jobs     []attnJob
	head     int
	rng      *rand.Rand
	sideRuns [numAttnUnits][][2]int // layer and iteration of each side job in flight, per unit

	Stats      arch.AttnStats
	Layers     []arch.LayerStats
	layerIdx   map[int]int
	layerNum   []int
	layerSpans [][]groupSpan // per layer, one per iteration it ran in
	// groups lists every (layer, iteration) span in the order it began:
	// layer li's span k is groups[g] = {li, k}.
	groups [][2]int
	// busyLog is each unit's jobs as [start, end) cycles and the job's
	// MACs, in time order.
	busyLog    [numAttnUnits][]busyEntry
	layerSlots [][2]int64 // line-words of lines used, for mapping efficiency
	Finished   bool
	endTime    int64
}

// nextJob forms the next request from the rows: two consecutive 6-bit key
// rows fuse into one (sim/TestSpAtten.scala:194-202), any other row goes
// alone.
func (c *attnController) nextJob() attnJob {
	i := c.nextRow
	rows := []int{i}
	if i+1 < len(c.rows) && pairsWith(widthsOf(c.rows[i], c.cfg.Attention), widthsOf(c.rows[i+1], c.cfg.Attention)) {
		rows = append(rows, i+1)
	}
	c.nextRow += len(rows)
	return attnJob{rows: rows, steps: c.buildSteps(rows)}
}

// buildSteps turns a request into its stages and accounts its traffic.
func (c *attnController) buildSteps(rows []int) []attnStep {
	a := c.cfg.Attention
	st := &c.Stats
	first := c.rows[rows[0]]
	li := c.layerOf(first.Layer)
	w0 := widthsOf(first, a)
	fused := len(rows) == 2
	st.Requests++
	if fused {
		st.FusedPairs++
	}
	// On chip every element is a full-width word (widthQuantValue = 12,
	// SpAtten.scala:10; MSBs and LSBs are recombined in place,
	// MatrixFetcher.scala:335-341).
	word := func(vectors int64, d int) int64 { return ceilDiv64(vectors*int64(d*a.FullBits), 8) }

	var steps []attnStep
	// Keys: a fused pair fetches its first row's rounded count of fused
	// vectors (SpAttenController.scala:271,296-305); otherwise each row
	// its own.
	type rowPlan struct {
		w            rowWidths
		q, d, kf, vf int64 // kf, vf rounded as the metadata is
		vn           int64 // values the top-k passes on
		rows         int64 // rows of the row's K/V tensors: context + padding
		keys, vals   tokenSet
	}
	plans := make([]rowPlan, len(rows))
	var qParts []tensorRegion
	for i, ri := range rows {
		r := c.rows[ri]
		p := rowPlan{w: widthsOf(r, a), q: int64(max(r.Queries, 1)), d: int64(r.D),
			kf: roundUp(int64(r.KeyFetch), rtlFetchRound), vf: roundUp(int64(r.ValueFetch), rtlFetchRound)}
		// The top-k is skipped when value_fetch_num ≥ key_fetch_num and
		// then every fetched key's value is used (SpAttenController.scala:591-597);
		// otherwise it emits target + 1 = value_fetch_num (TopK.scala:75-78).
		p.vn = min(p.vf, p.kf)
		ctx := int64(r.Context)
		p.keys = keptTokens(&c.keyCache, r.KeyTokens, int64(r.KeyFetch), p.kf, ctx)
		p.rows = max(ctx, p.keys[len(p.keys)-1].Hi)
		if r.ValueTokens != nil && int64(len(r.ValueTokens)) >= int64(r.ValueFetch) && p.vn < p.kf {
			var fresh tokenCache // a row's own values: nothing to share
			p.vals = keptTokens(&fresh, r.ValueTokens, int64(r.ValueFetch), p.vn, ctx)
			p.rows = max(p.rows, p.vals[len(p.vals)-1].Hi)
		} else {
			p.vals = p.keys.pick(p.vn)
		}
		plans[i] = p
		qt := attnTensor(li, r, attnQuery, false, p.q, p.d, p.w.query)
		qParts = append(qParts, tensorRegion{T: qt, R: qt.All()})
		st.Rows++
		st.Queries += p.q
		st.DenseMACs += 2 * p.q * int64(r.Context) * p.d
	}
	p0 := plans[0]
	var kT memory.Tensor
	var kHold int64
	if fused {
		kT = attnTensor(li, first, attnKeyMSB, true, p0.rows, 2*p0.d, w0.key)
		kHold = 2 * word(bufferLines(p0.kf, a.QKMultipliers, first.D)*int64(max(1, a.QKMultipliers/first.D)), first.D)
	} else {
		kT = attnTensor(li, first, attnKeyMSB, false, p0.rows, p0.d, w0.key)
		kHold = word(bufferLines(p0.kf, a.QKMultipliers, first.D)*int64(max(1, a.QKMultipliers/first.D)), first.D)
	}
	st.KeysFetched += p0.kf
	qk := func(i int, queries, keys int64) attnStep {
		p := plans[i]
		lines := bufferLines(keys, a.QKMultipliers, int(p.d))
		c.layerSlotsAdd(c.rows[rows[i]].Layer, 0, queries*lines*int64(a.QKMultipliers))
		return compute(unitQK, rows[i], queries*lines, int64(a.QKLatency), queries*keys*p.d)
	}
	softmax := func(i int, queries int64) attnStep {
		p := plans[i]
		st.SoftmaxElems += queries * p.kf
		s := compute(unitSoftmax, rows[i], queries*ceilDiv64(p.kf, int64(a.SoftmaxLanes)), int64(a.SoftmaxLatency), 0)
		s.latency += decisionLatency(p.kf, a.SoftmaxLanes)
		return s
	}
	// A request whose keys do not fit the K SRAM streams them in chunks
	// of half the SRAM, each chunk's Q×K overlapping the next one's fetch.
	kChunks := int64(1)
	if c.capacity[sramK] > 0 && kHold > c.capacity[sramK] {
		kChunks = ceilDiv64(kHold, c.capacity[sramK]/2)
		st.KChunks++
	}
	chunk := func(total, k, n int64) int64 { return total*(k+1)/n - total*k/n }
	// chunkOf is chunk k of n of a token set, by rank.
	chunkOf := func(s tokenSet, k, n int64) tokenSet {
		m := s.len()
		return s.slice(m*k/n, m*(k+1)/n)
	}
	lastQK := -1
	for k := int64(0); k < kChunks; k++ {
		var parts []tensorRegion
		if k == 0 {
			parts = append(parts, qParts...) // the queries come with the first chunk
		}
		parts = append(parts, tensorRegion{T: kT, R: keptRegion(chunkOf(p0.keys, k, kChunks), kT.Channels)})
		f := fetch(sramK, rows[0], parts...)
		f.acquire, f.hold = sramK, chunk(kHold, k, kChunks)
		steps = append(steps, f)
		for i := range rows {
			steps = append(steps, qk(i, plans[i].q, chunk(plans[i].kf, k, kChunks)))
			lastQK = len(steps) - 1
		}
		if k+1 < kChunks {
			steps[lastQK].release = sramK
		}
	}
	for i, ri := range rows {
		r := c.rows[ri]
		steps = append(steps, softmax(i, plans[i].q))
		if r.AccumImportance {
			st.ImportanceAdds += plans[i].q * plans[i].kf
			acc := compute(unitImportance, ri, plans[i].q*ceilDiv64(plans[i].kf, int64(a.SoftmaxLanes)), 0, 0)
			acc.side = true
			steps = append(steps, acc)
		}
	}
	// Progressive quantization: the requests whose decision fired fetch
	// the keys' LSBs (4-bit profile, own base address — a plane of its
	// own, SpAttenController.scala:296-297) and run Q×K and softmax
	// again. Streamed keys must come back whole (MSBs and LSBs).
	for i, ri := range rows {
		p := plans[i]
		r := c.rows[ri]
		rq := int64(p.w.requantQueries)
		if rq == 0 || p.w.lsb == 0 {
			continue
		}
		lsbT := attnTensor(li, r, attnKeyLSB, false, p.rows, p.d, p.w.lsb)
		st.RequantRows++
		st.RequantQueries += rq
		if kChunks == 1 {
			steps = append(steps, fetch(sramK, ri, tensorRegion{T: lsbT, R: keptRegion(p.keys, p.d)}), qk(i, rq, p.kf))
			lastQK = len(steps) - 1
		} else {
			// Unfused: this row's own MSB plane (a fused pair's is
			// interleaved with the other head's, fetched whole again).
			msbT := kT
			if !fused {
				msbT = attnTensor(li, r, attnKeyMSB, false, p.rows, p.d, p.w.key)
			}
			steps[lastQK].release = sramK
			for k := int64(0); k < kChunks; k++ {
				ks := chunkOf(p.keys, k, kChunks)
				f := fetch(sramK, ri, tensorRegion{T: msbT, R: keptRegion(ks, msbT.Channels)}, tensorRegion{T: lsbT, R: keptRegion(ks, p.d)})
				f.acquire, f.hold = sramK, chunk(kHold, k, kChunks)
				steps = append(steps, f, qk(i, rq, chunk(p.kf, k, kChunks)))
				lastQK = len(steps) - 1
				if k+1 < kChunks {
					steps[lastQK].release = sramK
				}
			}
		}
		steps = append(steps, softmax(i, rq))
	}
	steps[lastQK].release = sramK
	// Local V pruning: one top-k per request, on its first row; the
	// second row of a fused pair is charged nothing
	// (sim/TestSpAtten.scala:196). Skipped when every fetched key's value
	// is kept (SpAttenController.scala:591): the request's one
	// value_fetch_num then covers every key, whatever each query kept.
	if p0.vn < p0.kf {
		rounds := first.VRounds
		if rounds == nil {
			rounds = TopKModelRounds(first.KeyFetch, first.ValueFetch, c.rng)
		}
		cyc := TopKCycles(rounds, a.TopKComparators)
		if first.VRoundQueries > 0 && int64(first.VRoundQueries) < p0.q {
			cyc = ceilDiv64(cyc*p0.q, int64(first.VRoundQueries))
		}
		steps = append(steps, c.topk(rows[0], topkLocalV, rounds, cyc))
	}
	// Values: a fused pair of 6-bit values fetches its first row's count
	// of fused vectors (SpAttenController.scala:670,716).
	var vSets []tokenSet
	var vTs []memory.Tensor
	var vHold int64
	perLine := int64(max(1, a.PVMultipliers/first.D))
	if fused && plans[1].w.value == rtlFusedBits && w0.value == rtlFusedBits {
		vTs = append(vTs, attnTensor(li, first, attnValue, true, p0.rows, 2*p0.d, w0.value))
		vSets = append(vSets, p0.vals)
		vHold = 2 * word(bufferLines(p0.vn, a.PVMultipliers, first.D)*perLine, first.D)
		st.ValuesFetched += p0.vn
	} else {
		for i, p := range plans {
			vTs = append(vTs, attnTensor(li, c.rows[rows[i]], attnValue, false, p.rows, p.d, p.w.value))
			vSets = append(vSets, p.vals)
			vHold += word(bufferLines(p.vn, a.PVMultipliers, int(p.d))*perLine, int(p.d))
			st.ValuesFetched += p.vn
		}
	}
	vChunks := int64(1)
	if c.capacity[sramV] > 0 && vHold > c.capacity[sramV] {
		vChunks = ceilDiv64(vHold, c.capacity[sramV]/2)
		st.VChunks++
	}
	for k := int64(0); k < vChunks; k++ {
		var parts []tensorRegion
		for i, t := range vTs {
			parts = append(parts, tensorRegion{T: t, R: keptRegion(chunkOf(vSets[i], k, vChunks), t.Channels)})
		}
		f := fetch(sramV, rows[0], parts...)
		f.acquire, f.hold = sramV, chunk(vHold, k, vChunks)
		steps = append(steps, f)
		for i, ri := range rows {
			p := plans[i]
			n := chunk(p.vn, k, vChunks)
			lines := bufferLines(n, a.PVMultipliers, int(p.d))
			c.layerSlotsAdd(c.rows[ri].Layer, 1, p.q*lines*int64(a.PVMultipliers))
			steps = append(steps, compute(unitPV, ri, p.q*lines, int64(a.PVLatency), p.q*n*p.d))
		}
		steps[len(steps)-1].release = sramV
	}
	// Cascade token pruning ranks the tokens still alive — the fetched
	// keys, as many as the metadata's key_fetch_num — and cascade head
	// pruning the layer's alive heads. The testbench charges neither (it
	// ignores if_topk/topk); sparsesim runs them on the same top-k engine.
	for i, ri := range rows {
		r := c.rows[ri]
		if r.TopKSize > 0 && int64(r.TopKSize) < plans[i].kf {
			rounds := r.TokenRounds
			if rounds == nil {
				rounds = TopKModelRounds(int(plans[i].kf), r.TopKSize, c.rng)
			}
			steps = append(steps, c.topk(ri, topkToken, rounds, TopKCycles(rounds, a.TopKComparators)))
		}
		if r.HeadKeep > 0 && r.HeadKeep < r.HeadCandidates {
			rounds := r.HeadRounds
			if rounds == nil {
				rounds = TopKModelRounds(r.HeadCandidates, r.HeadKeep, c.rng)
			}
			steps = append(steps, c.topk(ri, topkHead, rounds, TopKCycles(rounds, a.TopKComparators)))
		}
	}
	// Outputs: one full-width result vector per query leaves the engine
	// (SpAttenResponse.results, SpAtten.scala:118) and is drained to DRAM,
	// one drain per request.
	var outParts []tensorRegion
	for i, p := range plans {
		ot := attnTensor(li, c.rows[rows[i]], attnOutput, false, p.q, p.d, a.FullBits)
		outParts = append(outParts, tensorRegion{T: ot, R: ot.All()})
	}
	steps = append(steps, attnStep{unit: writeStep, buffer: outBuffer, row: rows[0], parts: outParts, acquire: -1, release: -1})
	for _, s := range steps {
		st.MACs += s.macs
	}
	return steps
}

func (c *attnController) topk(row, kind int, rounds []int, cyc int64) attnStep {
	st := &c.Stats
	st.TopKCompares += sumInts(rounds)
	st.TopKRounds += int64(len(rounds))
	switch kind {
	case topkLocalV:
		st.TopKLocalVCycles += cyc
	case topkToken:
		st.TopKTokenCycles += cyc
	case topkHead:
		st.TopKHeadCycles += cyc
	}
	s := compute(unitTopK, row, cyc, 0, 0)
	s.topk = kind
	return s
}

func ceilDiv64(a, b int64) int64 { return (a + b - 1) / b }

func sumInts(x []int) int64 {
	var s int64
	for _, v := range x {
		s += int64(v)
	}
	return s
}

func (c *attnController) start() { c.At(0, c.progress) }

// attnWindow bounds the requests the controller looks at; requests beyond
// the SRAM slots just wait, so it only limits bookkeeping.
const attnWindow = 16

func (c *attnController) canAcquire(sram int, hold int64) bool {
	if c.slots[sram] >= c.cfg.Attention.PipelineDepth {
		return false
	}
	return c.capacity[sram] <= 0 || c.held[sram]+hold <= c.capacity[sram] || c.slots[sram] == 0
}

func (c *attnController) progress() {
	for len(c.jobs)-c.head < attnWindow && c.nextRow < len(c.rows) {
		c.jobs = append(c.jobs, c.nextJob())
	}
	// waiting[s]: an older request is waiting for SRAM s. The RTL's
	// buffer managers take allocations from one stream, first in first
	// out (SpAttenController.scala:52,85,621-623; BufferManager.scala
	// halts the stream while the request at its head does not fit), so
	// a younger request never takes the space an older one waits for.
	var waiting [2]bool
	for j := c.head; j < len(c.jobs); j++ {
		job := &c.jobs[j]
		for !job.running && !job.done {
			s := &job.steps[job.next]
			if s.acquire >= 0 {
				if waiting[s.acquire] || !c.canAcquire(s.acquire, s.hold) {
					waiting[s.acquire] = true
					break
				}
				c.slots[s.acquire]++
				c.held[s.acquire] += s.hold
				s.acquire = -1 // held now
			}
			li := c.layerOf(c.rows[s.row].Layer)
			it := c.rows[s.row].Iteration
			if s.unit == fetchStep || s.unit == writeStep {
				bytes := partsBytes(s.parts)
				if bytes == 0 {
					c.advance(j)
					continue
				}
				c.touch(li, it)
				job.running = true
				jj := j
				c.buffers[s.buffer].Stream(s.parts, s.unit == writeStep, j, func() {
					c.advanceMoved(jj, bytes)
					c.afterEvent()
				})
				break
			}
			if c.unitBusy[s.unit] {
				break
			}
			c.touch(li, it)
			c.unitBusy[s.unit] = true
			now := c.Now()
			c.busyLog[s.unit] = append(c.busyLog[s.unit], busyEntry{now, now + s.cycles, s.macs})
			if s.side {
				c.sideRuns[s.unit] = append(c.sideRuns[s.unit], [2]int{li, it})
				c.Send(c.units[s.unit], &arch.ComputeReq{Fold: -1 - s.unit, Cycles: s.cycles})
				job.next++ // the request goes on without waiting
				continue
			}
			job.running = true
			c.Send(c.units[s.unit], &arch.ComputeReq{Fold: j, Cycles: s.cycles, Latency: s.latency, MACs: s.macs})
		}
	}
}

// busyEntry is one job on a unit: busy over [start, end), doing macs.
type busyEntry struct{ start, end, macs int64 }

// macsIn is the part of the job's MACs done within [lo, hi), taken pro
// rata to its cycles (a Q×K or prob×V job streams one buffer line a
// cycle). The shares of adjacent windows telescope, so a job's MACs are
// split exactly, none lost to rounding.
func (b busyEntry) macsIn(lo, hi int64) int64 {
	if b.end <= b.start {
		if lo <= b.start && b.start < hi {
			return b.macs
		}
		return 0
	}
	upTo := func(x int64) int64 {
		x = min(max(x, b.start), b.end) - b.start
		// macs × x ÷ cycles in 128 bits: the product can pass 2⁶³ on
		// long rows; the quotient is at most macs.
		h, l := bits.Mul64(uint64(b.macs), uint64(x))
		q, _ := bits.Div64(h, l, uint64(b.end-b.start))
		return int64(q)
	}
	return upTo(hi) - upTo(lo)
}

// groupSpan is the time one layer of one iteration was active.
type groupSpan struct {
	iteration   int
	first, last int64
}

// touch marks layer li of iteration it active now (its first action and
// its last completion bound the group's activity; finish turns them into
// the layer's share of the run).
func (c *attnController) touch(li, it int) {
	now := c.Now()
	spans := c.layerSpans[li]
	for k := len(spans) - 1; k >= 0 && k >= len(spans)-4; k-- {
		if spans[k].iteration == it {
			spans[k].last = max(spans[k].last, now)
			return
		}
	}
	c.groups = append(c.groups, [2]int{li, len(spans)})
	c.layerSpans[li] = append(spans, groupSpan{iteration: it, first: now, last: now})
}

func (c *attnController) layerOf(layer int) int {
	li, ok := c.layerIdx[layer]
	if !ok {
		li = len(c.Layers)
		c.layerIdx[layer] = li
		c.layerNum = append(c.layerNum, layer)
		c.Layers = append(c.Layers, arch.LayerStats{Layer: workloads.Layer{Name: fmt.Sprintf("layer%d", layer), Kind: "attention"},
			Dataflow: "spatten", Pattern: "dense"})
		c.layerSpans = append(c.layerSpans, nil)
		c.layerSlots = append(c.layerSlots, [2]int64{})
	}
	return li
}

func (c *attnController) layerSlotsAdd(layer, module int, n int64) {
	c.layerSlots[c.layerOf(layer)][module] += n
}

// advance finishes the current step of job j, with bytes the memory
// system moved for it.
func (c *attnController) advance(j int) { c.advanceMoved(j, 0) }

func (c *attnController) advanceMoved(j int, moved int64) {
	job := &c.jobs[j]
	job.running = false
	s := job.steps[job.next]
	if s.release >= 0 {
		c.slots[s.release]--
		c.held[s.release] -= c.holdOf(job, s.release)
	}
	li := c.layerOf(c.rows[s.row].Layer)
	c.touch(li, c.rows[s.row].Iteration)
	ls := &c.Layers[li]
	ls.MACs += s.macs
	wb := int64(c.cfg.WordBytes())
	switch s.unit {
	case fetchStep:
		// Fetched words are written into the K (ifmap) or V (filter)
		// SRAM; each MAC reads one K or V word. (DRAM bytes come from
		// the ledger, in finish.)
		ls.SRAMWrites[s.buffer] += ceilDiv64(moved, wb)
	case writeStep:
		ls.SRAMReads[outBuffer] += ceilDiv64(moved, wb)
	case unitQK:
		ls.SRAMReads[sramK] += s.macs
	case unitPV:
		ls.SRAMReads[sramV] += s.macs
	}
	job.next++
	if job.next < len(job.steps) {
		return
	}
	job.done = true
	for _, ri := range job.rows {
		r := c.rows[ri]
		ls := &c.Layers[c.layerOf(r.Layer)]
		ls.Folds++
		ls.Layer.Groups++
		ls.Layer.M += max(r.Queries, 1)
		ls.Layer.N = max(ls.Layer.N, r.Context)
		ls.Layer.K = r.D
		ls.DenseMACs += 2 * int64(max(r.Queries, 1)) * int64(r.Context) * int64(r.D)
	}
	for c.head < len(c.jobs) && c.jobs[c.head].done {
		c.jobs[c.head].steps = nil // free finished requests' stages
		c.head++
	}
}

// holdOf is the bytes job holds of sram: what its latest acquisition of
// that SRAM took.
func (c *attnController) holdOf(job *attnJob, sram int) int64 {
	for i := job.next; i >= 0; i-- {
		if s := job.steps[i]; s.unit == fetchStep && s.buffer == sram && s.hold > 0 {
			return s.hold
		}
	}
	return 0
}

func (c *attnController) handle(msg sim.Msg) {
	switch m := msg.(type) {
	case *arch.ComputeRsp:
		if m.Req.Fold < 0 { // a side job finished: free its unit
			u := -1 - m.Req.Fold
			c.unitBusy[u] = false
			c.Stats.UnitBusy[u] += m.Req.Cycles
			g := c.sideRuns[u][0]
			c.sideRuns[u] = c.sideRuns[u][1:]
			c.touch(g[0], g[1])
			break
		}
		s := c.jobs[m.Req.Fold].steps[c.jobs[m.Req.Fold].next]
		if s.latency == 0 {
			c.unitBusy[s.unit] = false
		}
		c.Stats.UnitBusy[s.unit] += s.cycles
		c.advance(m.Req.Fold)
	}
	c.afterEvent()
}

// afterEvent finishes the run when every request is done, else issues
// what became possible.
func (c *attnController) afterEvent() {
	if c.head == len(c.jobs) && c.nextRow == len(c.rows) && c.sidesDone() {
		c.finish()
		return
	}
	c.progress()
}

func (c *attnController) sidesDone() bool {
	for _, q := range c.sideRuns {
		if len(q) > 0 {
			return false
		}
	}
	return true
}

// finish closes the layers. Neighbouring layers overlap in the pipeline
// (a layer's first fetches run while the previous one computes), so each
// layer's own first-to-last span would count the overlap twice. As on the
// systolic engine, a layer of one iteration is charged from the previous
// group's last completion (in the order the groups began) to its own last
// completion, so the layers' cycles add up to the run; its compute cycles
// are its busiest unit's busy time within those windows (whoever's job it
// was), so its stalls = elapsed − compute are never negative, and its
// WindowMACs the MACs done within them, likewise whoever's — the layer's
// own MACs (MACs) include work done in a neighbour's window, so over its
// windows they could exceed what the multipliers can do. DRAM bytes come
// from the memory model's ledger.
func (c *attnController) finish() {
	c.Finished = true
	c.endTime = c.Now()
	// Windows in begin order; busy time of every unit within each.
	var busy [][numAttnUnits]int64 = make([][numAttnUnits]int64, len(c.Layers))
	var ptr [numAttnUnits]int
	var prevEnd int64
	for i := range c.Layers {
		c.Layers[i].Elapsed, c.Layers[i].WindowMACs = 0, 0
		c.Layers[i].RunShare, c.Layers[i].RunStart = true, false
	}
	for _, g := range c.groups {
		li := g[0]
		end := c.layerSpans[li][g[1]].last
		if end <= prevEnd {
			continue
		}
		lo, hi := prevEnd, end
		prevEnd = end
		if lo == 0 {
			c.Layers[li].RunStart = true // its cycles lose SCALE-Sim's −1
		}
		c.Layers[li].Elapsed += hi - lo
		for u := range c.busyLog {
			log := c.busyLog[u]
			for ptr[u] < len(log) && log[ptr[u]].end <= lo && log[ptr[u]].start < lo {
				ptr[u]++
			}
			for k := ptr[u]; k < len(log) && log[k].start < hi; k++ {
				busy[li][u] += max(0, min(hi, log[k].end)-max(lo, log[k].start))
				c.Layers[li].WindowMACs += log[k].macsIn(lo, hi)
			}
		}
	}
	rb := int64(c.cfg.DRAM.RequestBytes)
	for i := range c.Layers {
		var busiest int64
		for _, b := range busy[i] {
			busiest = max(busiest, b)
		}
		ls := &c.Layers[i]
		ls.ComputeCycles = busiest
		tr := c.ledger.Layer(i)
		for k, t := range tr {
			ls.DRAMReadBytes += t.ReadBytes
			ls.DRAMWriteBytes += t.WriteBytes
			c.Stats.DRAMRequests += t.Requests
			kind := attnBufferKind[k]
			ls.Traffic[kind].ReadBytes += t.ReadBytes
			ls.Traffic[kind].WriteBytes += t.WriteBytes
			ls.Traffic[kind].Requests += t.Requests
		}
		ls.DRAMReadByOperand = [3]int64{ls.Traffic[arch.TensorIfmap].ReadBytes, ls.Traffic[arch.TensorFilter].ReadBytes, 0}
		// Each region a request asks for is needed once: the useful
		// bytes are the compulsory ones (what the bus moves beyond them
		// is burst waste, memory.transferred_bytes).
		ls.CompulsoryReadBytes, ls.CompulsoryWriteBytes = ls.DRAMReadBytes, ls.DRAMWriteBytes
		c.Stats.QBytes += tr[attnQuery].ReadBytes
		c.Stats.KMSBBytes += tr[attnKeyMSB].ReadBytes
		c.Stats.KLSBBytes += tr[attnKeyLSB].ReadBytes
		c.Stats.VBytes += tr[attnValue].ReadBytes
		c.Stats.OutBytes += tr[attnOutput].WriteBytes
		if slots := c.layerSlots[i][0] + c.layerSlots[i][1]; slots > 0 {
			// Mapping efficiency: the fraction of the multiplier lanes
			// of the lines Q×K and prob×V stream that hold a real
			// element (rounding to 8 vectors and to even lines pads).
			ls.MappingEfficiency = float64(ls.MACs) / float64(slots)
		}
	}
	c.Stats.TransferredBytes = c.Stats.DRAMRequests * rb
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
