package systolic

import (
	"github.com/sarchlab/akita/v4/sim"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/memory"
)

// stepState is a step whose operands were requested.
type stepState struct {
	st      step
	idx     int
	pending int
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

	steps             stepper
	exhausted         bool
	inflight          []*stepState
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
		ss := &stepState{st: st, idx: c.stats().Steps}
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
	if c.exhausted && len(c.inflight) == 0 && c.outstandingWrites == 0 && !c.computing {
		c.ending = true // endLayer runs as its own event, outside this call
		c.At(c.Now(), c.endLayer)
		return
	}
	if c.computing || len(c.inflight) == 0 || c.outstandingWrites >= c.slots {
		return
	}
	ss := c.inflight[0]
	if ss.pending > 0 {
		return
	}
	st := c.stats()
	st.ComputeCycles += ss.st.cycles
	st.MACs += ss.st.macs
	for _, o := range dataflow.Operands {
		st.SRAMReads[o] += ss.st.sramReads[o]
		st.SRAMWrites[o] += ss.st.sramWrites[o]
	}
	c.computing = true
	now := c.Now()
	if c.TL != nil {
		c.TL.Slice(c.peName, "job", float64(now), float64(now+ss.st.cycles), map[string]any{"macs": ss.st.macs, "cycles": ss.st.cycles})
	}
	c.At(now+ss.st.cycles, func() { c.computed(j) })
}

// computed retires the oldest step: its outputs go to the accumulator
// buffer, and the next step may start.
func (c *Controller) computed(j *layerJob) {
	c.computing = false
	ss := c.inflight[0]
	c.inflight = c.inflight[1:]
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
