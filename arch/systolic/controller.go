package systolic

import (
	"fmt"
	"math"

	"github.com/sarchlab/akita/v4/sim"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/mapping"
	"github.com/sparsesim/sparsesim/memory"
)

// stepState is a step whose operands were requested.
type stepState struct {
	st      step
	idx     int
	pending int
	unit    int
	issued  bool
}

// unitState is one matrix unit: its fold pipeline, whether it is busy
// (one weight register: a step at a time), and what it did this layer.
type unitState struct {
	pipe      *mapping.FoldPipeline
	busy      bool
	busyUntil int64
	compute   int64 // cycles with a step in the array
	macs      int64
	portFree  int64 // the crossbar port's next free cycle
	portBytes int64
	track     string
}

// Controller walks each layer's steps: it requests step s+1's operands
// while step s computes (as many steps ahead as there are buffer slots),
// starts a step when its operands are on chip and the array is free, and
// retires its outputs after it. Layers run one after another; the next
// layer's first weight tile may be fetched while the current one ends.
type Controller struct {
	*arch.Node
	mask   sim.Port
	bufs   [3]*arch.Buffer
	slots  int
	ledger *memory.Ledger

	jobs []layerJob
	cur  int

	steps     stepper
	exhausted bool
	inflight  []*stepState // requested, until their operand slot frees
	units     []unitState
	draining  int // issued steps whose outputs have not left
	// scoresDone is when a fused attention tile's scores have left the
	// array, by tile + 1, until its P·V takes them.
	scoresDone map[int]int64
	// xbarLatency and xbarBytes are the crossbar's latency and a port's
	// bytes a cycle (several units only).
	xbarLatency int64
	xbarBytes   float64
	// computing: the array waits for the mask unit.
	computing         bool
	outstandingWrites int
	prefetched        bool // the next layer's first weights were requested
	layerEnd          int64
	inStep            bool
	ending            bool
	peName            string

	Stats    []arch.LayerStats
	Finished bool
	// abortAfter (> 0) stops the run once it passes that cycle (Aborted).
	abortAfter int64
	Aborted    bool
}

func newController(name string, engine sim.Engine, freq sim.Freq, slots int) *Controller {
	c := &Controller{Node: arch.NewNode(name, engine, freq), slots: slots}
	c.OnMsg = c.handle
	return c
}

// start begins the first layer at cycle 0.
func (c *Controller) start() {
	c.At(0, c.beginLayer)
}

func (c *Controller) beginLayer() {
	if c.cur >= len(c.jobs) {
		c.Finished = true
		return
	}
	j := &c.jobs[c.cur]
	c.steps = j.newSteps()
	c.exhausted, c.prefetched = false, false
	c.Stats = append(c.Stats, arch.LayerStats{
		Layer: j.layer, Folds: j.plan.NumFolds(), StartCycle: c.layerEnd,
		DenseMACs:         j.layer.MACs(),
		MappingEfficiency: j.plan.MappingEfficiency(),
		Dataflow:          j.dataflow,
		Mapping:           j.mapping,
		Pattern:           j.pattern.String(),
		Input:             arch.InputFromDRAM,
	})
	c.resetUnits(j)
	st := c.stats()
	st.CompulsoryReadBytes, st.CompulsoryWriteBytes = j.tensors.compulsory()
	// Layer boundary: data of earlier layers is dead, except the previous
	// output kept as this layer's input.
	mine := func(t memory.Tensor) bool { return t.Layer == c.cur }
	c.bufs[dataflow.Ifmap].ReadBuf.Forget(mine)
	c.bufs[dataflow.Filter].ReadBuf.Forget(mine)
	if j.keepInput {
		in := j.tensors.t[arch.TensorIfmap]
		c.bufs[dataflow.Ifmap].ReadBuf.Hold(in, in.All())
		st.Input = arch.InputFromOnChip
		st.CompulsoryReadBytes -= j.tensors.touchedInput()
	}
	holdFilter(c.bufs[dataflow.Filter].ReadBuf, j, st)
	if j.maskGroups > 0 {
		// The array waits for its masks; operand fetches overlap them.
		c.computing = true
		c.Send(c.mask, &arch.MaskGenReq{Groups: j.maskGroups, M: j.pattern.M})
		st.MaskGroups, st.MaskM = j.maskGroups, j.pattern.M
	}
	c.progress()
}

// resetUnits starts each unit's pipeline for layer j at the current
// cycle: layers do not overlap.
func (c *Controller) resetUnits(j *layerJob) {
	n := j.plan.Array().UnitCount()
	if len(c.units) != n {
		c.units = make([]unitState, n)
	}
	now := c.Now()
	c.scoresDone = map[int]int64{}
	for i := range c.units {
		u := &c.units[i]
		track := u.track
		if track == "" {
			track = c.peName
			if n > 1 {
				track = fmt.Sprintf("%s.U%d", c.peName, i)
			}
		}
		*u = unitState{pipe: j.plan.NewPipeline(),
			busyUntil: now, portFree: now, track: track}
	}
}

func (c *Controller) stats() *arch.LayerStats { return &c.Stats[len(c.Stats)-1] }

// request asks the buffers for a step's operands; each answers by call
// when its part is on chip.
func (c *Controller) request(j *layerJob, ss *stepState) {
	st := ss.st
	answer := func() { ss.pending--; c.progress() }
	for _, a := range st.reads {
		buf := dataflow.Ifmap
		if a.kind != arch.TensorIfmap {
			buf = dataflow.Filter
		}
		ss.pending++
		c.bufs[buf].Read(j.tensors.t[a.kind], a.r, ss.idx, answer)
	}
	if st.hasOut {
		ss.pending++
		c.bufs[dataflow.Ofmap].AccBegin(j.tensors.t[arch.TensorPsum], st.out, st.prior, ss.idx, answer)
	}
}

func (c *Controller) progress() {
	if c.cur >= len(c.jobs) || c.inStep || c.ending || c.Aborted {
		return
	}
	if c.abortAfter > 0 && c.Now() > c.abortAfter {
		// A mapper candidate already slower than the best found: stop
		// issuing; what is in flight drains and the run ends unfinished.
		c.Aborted = true
		return
	}
	c.inStep = true // answers that arrive while issuing are handled after
	defer func() { c.inStep = false }()
	j := &c.jobs[c.cur]
	for !c.exhausted && len(c.inflight) < c.slots {
		st, ok := c.steps.next()
		if !ok {
			c.exhausted = true
			break
		}
		ss := &stepState{st: st, idx: c.stats().Steps, unit: j.plan.Array().UnitOf(st.fold)}
		c.stats().Steps++
		c.inflight = append(c.inflight, ss)
		c.request(j, ss)
	}
	if c.exhausted && !c.prefetched && len(c.inflight) < c.slots && c.cur+1 < len(c.jobs) && j.prefetchNext {
		// The double buffer has room: bring the next layer's first weights.
		c.prefetched = true
		nj := &c.jobs[c.cur+1]
		if st, ok := nj.newSteps().next(); ok {
			for _, a := range st.reads {
				if a.kind != arch.TensorIfmap {
					c.bufs[dataflow.Filter].Read(nj.tensors.t[a.kind], a.r, -1, func() {})
				}
			}
		}
	}
	if c.exhausted && len(c.inflight) == 0 && c.outstandingWrites == 0 && c.draining == 0 && !c.computing {
		c.ending = true // endLayer runs as its own event, outside this call
		c.At(c.Now(), c.endLayer)
		return
	}
	if c.computing || c.outstandingWrites >= c.slots {
		return
	}
	// Issue, per unit in order, every step whose operands are on chip. A
	// unit with one weight register takes its next step once the previous
	// one is done; with a shadow register the pipeline times it ahead.
	var blocked uint64
	for _, ss := range c.inflight {
		u := &c.units[ss.unit]
		if ss.issued {
			continue
		}
		if blocked&(1<<ss.unit) != 0 || ss.pending > 0 || (u.busy && !u.pipe.Shadow) {
			blocked |= 1 << ss.unit
			continue
		}
		c.issue(j, ss)
	}
}

// issue times step ss on its unit's pipeline and schedules its end: its
// operands' slot frees when its last step has streamed (with one weight
// register, once it is done), its outputs leave when it is done.
func (c *Controller) issue(j *layerJob, ss *stepState) {
	u := &c.units[ss.unit]
	now := c.Now()
	ready := now
	if len(c.units) > 1 {
		// The crossbar port carries the step's operands to the unit: they
		// start to arrive after the latency once the port is free, and the
		// step cannot end its stream before the last of them is in.
		t0 := max(now+c.xbarLatency, u.portFree)
		u.portFree = t0 + int64(math.Ceil(float64(ss.st.portBytes)/c.xbarBytes))
		u.portBytes += ss.st.portBytes + ss.st.outBytes
		ready = max(t0, u.portFree-ss.st.stream)
	}
	if ss.st.scoresIn > 0 {
		ready = max(ready, c.scoresDone[ss.st.scoresIn])
		delete(c.scoresDone, ss.st.scoresIn)
	}
	var t mapping.ChunkTimes
	if ss.st.fixed {
		t = u.pipe.Fixed(ready, ss.st.cycles)
	} else {
		t = u.pipe.Chunk(ready, ss.st.firstOfFold, ss.st.lastOfFold, ss.st.stream)
	}
	if ss.st.scoresOut > 0 {
		c.scoresDone[ss.st.scoresOut] = t.Done
	}
	ss.issued = true
	u.busy = true
	st := c.stats()
	busy := max(0, t.Done-max(t.Start, u.busyUntil))
	u.busyUntil = max(u.busyUntil, t.Done)
	u.compute += busy
	st.MACs += ss.st.macs
	for _, o := range dataflow.Operands {
		st.SRAMReads[o] += ss.st.sramReads[o]
		st.SRAMWrites[o] += ss.st.sramWrites[o]
	}
	u.macs += ss.st.macs
	if c.TL != nil {
		// With a shadow register the next fold's preload overlaps this
		// fold's drain: the track shows the streamed steps, which do not.
		a, b := t.Start, t.Done
		if u.pipe.Shadow {
			a, b = t.Stream, t.Stream+ss.st.stream
		}
		c.TL.Slice(u.track, "job", float64(a), float64(b), map[string]any{"macs": ss.st.macs, "cycles": b - a})
	}
	c.draining++
	if !u.pipe.Shadow {
		c.At(t.Done, func() { u.busy = false; c.release(ss); c.finish(j, ss) })
		return
	}
	free := t.Stream + ss.st.stream
	c.At(free, func() { c.release(ss) })
	c.At(t.Done, func() { c.finish(j, ss) })
}

// release frees a step's operand slot.
func (c *Controller) release(ss *stepState) {
	for i, x := range c.inflight {
		if x == ss {
			c.inflight = append(c.inflight[:i], c.inflight[i+1:]...)
			break
		}
	}
	if !c.units[ss.unit].pipe.Shadow {
		return // finish follows at once and carries on
	}
	c.progress()
}

// finish retires a step's outputs to the accumulator buffer.
func (c *Controller) finish(j *layerJob, ss *stepState) {
	c.draining--
	if ss.st.hasOut || ss.st.extraWrite > 0 {
		c.outstandingWrites++
		c.bufs[dataflow.Ofmap].AccEnd(&arch.AccReq{Psum: j.tensors.t[arch.TensorPsum], Out: j.tensors.t[arch.TensorOfmap],
			R: ss.st.out, Final: ss.st.final, Extra: j.tensors.t[arch.TensorExtra], ExtraBytes: ss.st.extraWrite, Step: ss.idx},
			func() { c.outstandingWrites--; c.progress() })
	}
	c.progress()
}

func (c *Controller) handle(msg sim.Msg) {
	if m, ok := msg.(*arch.MaskGenRsp); ok {
		c.computing = false
		c.stats().MaskGenCycles += m.Cycles
	}
	c.progress()
}

func (c *Controller) endLayer() {
	c.ending = false
	st := c.stats()
	now := c.Now()
	st.Elapsed = now - c.layerEnd
	st.ComputeCycles = 0
	if len(c.units) > 1 {
		st.Units = make([]arch.UnitStats, len(c.units))
	}
	for i, u := range c.units {
		st.ComputeCycles = max(st.ComputeCycles, u.compute)
		if st.Units != nil {
			st.Units[i] = arch.UnitStats{MACs: u.macs, ComputeCycles: u.compute, InterconnectBytes: u.portBytes}
		}
	}
	c.layerEnd = now
	tr := c.ledger.Layer(c.cur)
	copy(st.Traffic[:], tr)
	st.DRAMReadBytes, st.DRAMWriteBytes = 0, 0
	for _, t := range tr {
		st.DRAMReadBytes += t.ReadBytes
		st.DRAMWriteBytes += t.WriteBytes
	}
	st.MetadataBytes = tr[arch.TensorMeta].ReadBytes
	st.DRAMReadByOperand = [3]int64{tr[arch.TensorIfmap].ReadBytes, tr[arch.TensorFilter].ReadBytes + tr[arch.TensorMeta].ReadBytes,
		tr[arch.TensorPsum].ReadBytes + tr[arch.TensorOfmap].ReadBytes}
	c.cur++
	c.beginLayer()
}
