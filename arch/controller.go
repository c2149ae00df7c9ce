package arch

import (
	"github.com/sarchlab/akita/v4/sim"

	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/workloads"
)

// Where a layer's input came from.
const (
	InputFromDRAM   = "dram"
	InputFromOnChip = "on-chip"
)

// LayerStats is what one layer did on the accelerator.
type LayerStats struct {
	Layer             workloads.Layer
	Folds             int
	Steps             int
	StartCycle        int64
	Elapsed           int64 // cycles from the previous layer's end to this layer's last write
	ComputeCycles     int64 // cycles the PE array was busy
	MACs              int64 // useful MACs done
	DenseMACs         int64 // MACs the dense layer needs
	MappingEfficiency float64
	SRAMReads         [3]int64 // words, per buffer (ifmap, filter, ofmap)
	SRAMWrites        [3]int64
	DRAMReadBytes     int64 // including metadata and partial sums read back
	DRAMWriteBytes    int64 // outputs and partial sums spilled
	// DRAMReadByOperand splits DRAMReadBytes by buffer (ifmap, filter
	// with its metadata, ofmap: partial sums read back).
	DRAMReadByOperand [3]int64
	MetadataBytes     int64 // N:M index bytes fetched (part of DRAMReadBytes)
	// Traffic is the DRAM traffic by tensor kind (TensorKindNames), from
	// the memory model's ledger.
	Traffic [numTensorKinds]memory.Traffic
	// CompulsoryReadBytes and CompulsoryWriteBytes are each tensor once:
	// the input and the weights (with metadata) read, the output written.
	CompulsoryReadBytes  int64
	CompulsoryWriteBytes int64
	// Input says where the layer's input came from (InputFromDRAM, or
	// InputFromOnChip when the previous layer's output stayed on chip).
	Input string
	// FilterHeld: the layer asked for its K×N operand on chip
	// (Layer.FilterOnChip) and it fitted the filter buffer, so it was
	// not read from DRAM.
	FilterHeld bool
	// RunShare marks a layer whose Elapsed is its share of one run that
	// layers overlapping in time partition (the attention engine). The
	// run has one last busy cycle, so SCALE-Sim's −1 is taken once, from
	// the share that holds the run's cycle 0 (RunStart): the layers'
	// cycles then add up to the run's.
	RunShare, RunStart bool
	// WindowMACs (RunShare layers) are the MACs done within the layer's
	// share, whichever layer's work they were: utilization's numerator,
	// beside cycles that are time shares, not the layer's own span.
	WindowMACs    int64
	MaskGenCycles int64 // mask-generation unit time before the first fold
	MaskGroups    int64 // groups of MaskM weights the mask unit sorted
	MaskM         int
	Dataflow      string
	Pattern       string // the N:M pattern executed, or dense
}

// Cycles is SCALE-Sim's convention: the index of the last busy cycle,
// counting from 0, i.e. elapsed − 1. A share of a partitioned run
// (RunShare) other than the first counts from the previous share's last
// busy cycle: its elapsed time.
func (l LayerStats) Cycles() int64 {
	if l.RunShare && !l.RunStart {
		return l.Elapsed
	}
	return l.Elapsed - 1
}

// StallCycles are cycles the PE array waited for data or for write-back.
func (l LayerStats) StallCycles() int64 { return max(0, l.Elapsed-l.ComputeCycles-l.MaskGenCycles) }

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
	*node
	mask   sim.Port
	bufs   [3]*Buffer
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

	Stats    []LayerStats
	Finished bool
}

func newController(name string, engine sim.Engine, freq sim.Freq, slots int) *Controller {
	c := &Controller{node: newNode(name, engine, freq), slots: slots}
	c.onMsg = c.handle
	return c
}

// start begins the first layer at cycle 0.
func (c *Controller) start() {
	c.at(0, c.beginLayer)
}

func (c *Controller) beginLayer() {
	if c.cur >= len(c.jobs) {
		c.Finished = true
		return
	}
	j := &c.jobs[c.cur]
	c.steps = j.newSteps()
	c.exhausted, c.prefetched = false, false
	c.Stats = append(c.Stats, LayerStats{
		Layer: j.layer, Folds: j.plan.NumFolds(), StartCycle: c.layerEnd,
		DenseMACs:         j.layer.MACs(),
		MappingEfficiency: j.plan.MappingEfficiency(),
		Dataflow:          j.dataflow,
		Pattern:           j.pattern.String(),
		Input:             InputFromDRAM,
	})
	st := c.stats()
	st.CompulsoryReadBytes, st.CompulsoryWriteBytes = j.tensors.compulsory()
	// Layer boundary: data of earlier layers is dead, except the previous
	// output kept as this layer's input.
	mine := func(t memory.Tensor) bool { return t.Layer == c.cur }
	c.bufs[dataflow.Ifmap].read.Forget(mine)
	c.bufs[dataflow.Filter].read.Forget(mine)
	if j.keepInput {
		in := j.tensors.t[tensorIfmap]
		c.bufs[dataflow.Ifmap].read.Hold(in, in.All())
		st.Input = InputFromOnChip
		st.CompulsoryReadBytes -= in.Size()
	}
	holdFilter(c.bufs[dataflow.Filter].read, j, st)
	if j.maskGroups > 0 {
		// The array waits for its masks; operand fetches overlap them.
		c.computing = true
		c.send(c.mask, &MaskGenReq{Groups: j.maskGroups, M: j.pattern.M})
		st.MaskGroups, st.MaskM = j.maskGroups, j.pattern.M
	}
	c.progress()
}

func (c *Controller) stats() *LayerStats { return &c.Stats[len(c.Stats)-1] }

// request asks the buffers for a step's operands; each answers by call
// when its part is on chip.
func (c *Controller) request(j *layerJob, ss *stepState) {
	st := ss.st
	answer := func() { ss.pending--; c.progress() }
	for _, a := range st.reads {
		buf := dataflow.Ifmap
		if a.kind != tensorIfmap {
			buf = dataflow.Filter
		}
		ss.pending++
		c.bufs[buf].Read(j.tensors.t[a.kind], a.r, ss.idx, answer)
	}
	if st.hasOut {
		ss.pending++
		c.bufs[dataflow.Ofmap].AccBegin(j.tensors.t[tensorPsum], st.out, st.prior, ss.idx, answer)
	}
}

func (c *Controller) progress() {
	if c.cur >= len(c.jobs) || c.inStep || c.ending {
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
				if a.kind != tensorIfmap {
					c.bufs[dataflow.Filter].Read(nj.tensors.t[a.kind], a.r, -1, func() {})
				}
			}
		}
	}
	if c.exhausted && len(c.inflight) == 0 && c.outstandingWrites == 0 && !c.computing {
		c.ending = true // endLayer runs as its own event, outside this call
		c.at(c.now(), c.endLayer)
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
	now := c.now()
	if c.tl != nil {
		c.tl.slice(c.peName, "job", float64(now), float64(now+ss.st.cycles), map[string]any{"macs": ss.st.macs, "cycles": ss.st.cycles})
	}
	c.at(now+ss.st.cycles, func() { c.computed(j) })
}

// computed retires the oldest step: its outputs go to the accumulator
// buffer, and the next step may start.
func (c *Controller) computed(j *layerJob) {
	c.computing = false
	ss := c.inflight[0]
	c.inflight = c.inflight[1:]
	if ss.st.hasOut || ss.st.extraWrite > 0 {
		c.outstandingWrites++
		c.bufs[dataflow.Ofmap].AccEnd(&AccReq{Psum: j.tensors.t[tensorPsum], Out: j.tensors.t[tensorOfmap],
			R: ss.st.out, Final: ss.st.final, Extra: j.tensors.t[tensorExtra], ExtraBytes: ss.st.extraWrite, Step: ss.idx},
			func() { c.outstandingWrites--; c.progress() })
	}
	c.progress()
}

func (c *Controller) handle(msg sim.Msg) {
	if m, ok := msg.(*MaskGenRsp); ok {
		c.computing = false
		c.stats().MaskGenCycles += m.Cycles
	}
	c.progress()
}

func (c *Controller) endLayer() {
	c.ending = false
	st := c.stats()
	now := c.now()
	st.Elapsed = now - c.layerEnd
	c.layerEnd = now
	tr := c.ledger.Layer(c.cur)
	copy(st.Traffic[:], tr)
	st.DRAMReadBytes, st.DRAMWriteBytes = 0, 0
	for _, t := range tr {
		st.DRAMReadBytes += t.ReadBytes
		st.DRAMWriteBytes += t.WriteBytes
	}
	st.MetadataBytes = tr[tensorMeta].ReadBytes
	st.DRAMReadByOperand = [3]int64{tr[tensorIfmap].ReadBytes, tr[tensorFilter].ReadBytes + tr[tensorMeta].ReadBytes,
		tr[tensorPsum].ReadBytes + tr[tensorOfmap].ReadBytes}
	c.cur++
	c.beginLayer()
}
