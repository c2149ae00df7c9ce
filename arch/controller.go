package arch

import (
	"github.com/sarchlab/akita/v4/sim"

	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/mapping"
	"github.com/sparsesim/sparsesim/workloads"
)

// LayerStats is what one layer did on the accelerator.
type LayerStats struct {
	Layer             workloads.Layer
	Folds             int
	StartCycle        int64
	Elapsed           int64 // cycles from the layer's first action to its last write
	ComputeCycles     int64 // cycles the PE array was busy
	MACs              int64 // useful MACs done
	DenseMACs         int64 // MACs the dense layer needs
	MappingEfficiency float64
	SRAMReads         [3]int64 // words, per buffer (ifmap, filter, ofmap)
	SRAMWrites        [3]int64
	DRAMReadBytes     int64 // including metadata
	DRAMWriteBytes    int64
	// DRAMReadByOperand splits DRAMReadBytes by buffer (ifmap, filter
	// with its metadata, ofmap).
	DRAMReadByOperand [3]int64
	MetadataBytes     int64 // N:M index bytes fetched (part of DRAMReadBytes)
	MaskGenCycles     int64 // mask-generation unit time before the first fold
	MaskGroups        int64 // groups of MaskM weights the mask unit sorted
	MaskM             int
	Dataflow          string
	Pattern           string // the N:M pattern executed, or dense
}

// Cycles is SCALE-Sim's convention: the index of the last busy cycle,
// counting from 0, i.e. elapsed − 1.
func (l LayerStats) Cycles() int64 { return l.Elapsed - 1 }

// StallCycles are cycles the PE array waited for data or for write-back.
func (l LayerStats) StallCycles() int64 { return l.Elapsed - l.ComputeCycles - l.MaskGenCycles }

type foldState struct {
	fold    mapping.Fold
	pending int // outstanding tile loads
}

// Controller walks each layer's schedule: it prefetches fold f+1's tiles
// while fold f computes (as many folds ahead as there are buffer slots),
// starts a fold when its tiles are in and the array is free, and writes
// outputs back after each fold. Layers run one after another.
type Controller struct {
	*node
	pe          sim.Port
	mask        sim.Port
	buffers     [3]sim.Port
	bufferNames [3]string
	slots       int

	jobs []layerJob
	cur  int

	nFolds            int
	nextFetch         int
	nextCompute       int
	done              int
	computing         bool
	outstandingStores int
	inflight          []foldState // ring, indexed by fold % len

	Stats    []LayerStats
	Finished bool
}

func newController(name string, engine sim.Engine, freq sim.Freq, slots int) *Controller {
	c := &Controller{node: newNode(name, engine, freq), slots: slots}
	c.inflight = make([]foldState, slots+1)
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
	j := c.jobs[c.cur]
	c.nFolds = j.plan.NumFolds()
	c.nextFetch, c.nextCompute, c.done = 0, 0, 0
	c.Stats = append(c.Stats, LayerStats{
		Layer: j.layer, Folds: c.nFolds, StartCycle: c.now(),
		DenseMACs:         j.layer.MACs(),
		MappingEfficiency: j.plan.MappingEfficiency(),
		Dataflow:          j.dataflow,
		Pattern:           j.pattern.String(),
	})
	if j.maskGroups > 0 {
		// The array waits for its masks; tile fetches overlap them.
		c.computing = true
		c.send(c.mask, &MaskGenReq{Groups: j.maskGroups, M: j.pattern.M})
		c.stats().MaskGroups, c.stats().MaskM = j.maskGroups, j.pattern.M
	}
	c.progress()
}

func (c *Controller) stats() *LayerStats { return &c.Stats[len(c.Stats)-1] }

func (c *Controller) progress() {
	plan := c.jobs[c.cur].plan
	for c.nextFetch < c.nFolds && c.nextFetch-c.done < c.slots {
		f := plan.Fold(c.nextFetch)
		fs := &c.inflight[c.nextFetch%len(c.inflight)]
		*fs = foldState{fold: f}
		st := c.stats()
		for _, o := range dataflow.Operands {
			bytes := f.FetchBytes[o]
			if o == dataflow.Filter {
				bytes += f.MetadataFetch
			}
			if bytes == 0 {
				continue
			}
			fs.pending++
			st.DRAMReadBytes += bytes
			st.DRAMReadByOperand[o] += bytes
			c.send(c.buffers[o], &TileReq{Bytes: bytes, Fold: c.nextFetch})
		}
		st.MetadataBytes += f.MetadataFetch
		c.nextFetch++
	}
	if c.computing || c.nextCompute >= c.nextFetch || c.outstandingStores >= c.slots {
		return
	}
	fs := &c.inflight[c.nextCompute%len(c.inflight)]
	if fs.pending > 0 {
		return
	}
	f := fs.fold
	st := c.stats()
	st.ComputeCycles += f.Cycles
	st.MACs += f.MACs
	for _, o := range dataflow.Operands {
		st.SRAMReads[o] += f.SRAMReads[o]
		st.SRAMWrites[o] += f.SRAMWrites[o]
	}
	c.computing = true
	c.send(c.pe, &ComputeReq{Fold: c.nextCompute, Cycles: f.Cycles, MACs: f.MACs})
	c.nextCompute++
}

func (c *Controller) handle(msg sim.Msg) {
	switch m := msg.(type) {
	case *MaskGenRsp:
		c.computing = false
		c.stats().MaskGenCycles += m.Cycles
	case *ComputeRsp:
		c.computing = false
		fs := &c.inflight[m.Req.Fold%len(c.inflight)]
		if c.tl != nil {
			for _, o := range dataflow.Operands {
				if b := fs.fold.FetchBytes[o]; b > 0 {
					c.tl.occupy(c.bufferNames[o], float64(c.now()), -b)
				}
			}
		}
		c.done++
		if wb := fs.fold.WriteBytes; wb > 0 {
			c.outstandingStores++
			c.stats().DRAMWriteBytes += wb
			c.send(c.buffers[dataflow.Ofmap], &TileReq{Bytes: wb, Write: true, Fold: m.Req.Fold})
		}
	case *TileRsp:
		if m.Req.Write {
			c.outstandingStores--
		} else {
			c.inflight[m.Req.Fold%len(c.inflight)].pending--
		}
	}
	if c.done == c.nFolds && c.outstandingStores == 0 && !c.computing {
		st := c.stats()
		st.Elapsed = c.now() - st.StartCycle
		c.cur++
		c.beginLayer()
		return
	}
	c.progress()
}
