package attention

import (
	"fmt"
	"math/bits"
	"math/rand"

	"github.com/sarchlab/akita/v4/sim"
	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/workloads"
)

// attnController walks the attention requests through fetch and compute
// stages with at most pipeline_depth requests holding each SRAM and never
// more bytes than it has, giving each unit to the oldest request that is
// ready for it.
type attnController struct {
	// touched is each layer's streamed elements per tensor (compulsory).
	touched map[touchedKey]*touchedRegion
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
				c.recordTouched(li, it, s.parts, s.unit == writeStep)
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
		// Compulsory: each element the layer's rows read or write, once
		// (the union of what they stream, per tensor); a part streamed
		// again (a refetch) counts in the traffic only.
		ls.CompulsoryReadBytes, ls.CompulsoryWriteBytes = c.compulsory(i)
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

// touchedKey is one tensor of one layer in one iteration (a generation
// step: its query, output and the cache it reads are that step's), read
// or written.
type touchedKey struct {
	layer, iteration, tensor int
	write                    bool
}

// touchedRegion is the elements of a tensor a layer has streamed so far.
type touchedRegion struct {
	t memory.Tensor
	r memory.Region
}

// recordTouched adds streamed parts to their layer's touched elements.
func (c *attnController) recordTouched(li, it int, parts []tensorRegion, write bool) {
	if c.touched == nil {
		c.touched = map[touchedKey]*touchedRegion{}
	}
	for _, p := range parts {
		k := touchedKey{li, it, p.T.ID, write}
		if x := c.touched[k]; x != nil {
			x.r = memory.Union(x.r, p.R)
		} else {
			c.touched[k] = &touchedRegion{t: p.T, r: p.R}
		}
	}
}

// compulsory is layer li's touched bytes, read and written: each element
// once per iteration (a generation step reads the cache anew: no step can
// hold another's on chip).
func (c *attnController) compulsory(li int) (read, write int64) {
	for k, x := range c.touched {
		if k.layer != li {
			continue
		}
		b := x.t.Bytes(x.r.Elems())
		if k.write {
			write += b
		} else {
			read += b
		}
	}
	return read, write
}
