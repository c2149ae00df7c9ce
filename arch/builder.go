package arch

import (
	"fmt"
	"time"

	"github.com/sarchlab/akita/v4/sim"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/workloads"
)

// Result is one simulation's measurements.
type Result struct {
	Config      *configs.Config
	Workload    workloads.Workload
	Layers      []LayerStats
	Channels    []ChannelStats
	Events      int64
	WallSeconds float64
	// Attention is set for attention-engine runs.
	Attention *AttnStats
	// Span is set when layers overlap in time (the attention engine): the
	// run's own elapsed cycles, which the layers' spans do not add up to.
	Span *RunSpan
}

// ChannelStats is what one DRAM channel moved.
type ChannelStats struct {
	ReadBytes, WriteBytes int64
	Transactions          int64
	BusyCycles            float64
}

// Accelerator is a wired set of components on one engine.
type Accelerator struct {
	cfg        *configs.Config
	engine     *sim.SerialEngine
	controller *Controller
	mask       *MaskUnit
	buffers    [3]*Buffer
	channels   []*DRAMChannel
	detailed   []*detailedChannel
	events     eventCounter
	conn       *wire
	tl         *Timeline
	ledger     *memory.Ledger
	// keepFirstInput starts the first layer with its input on chip (a
	// memoized layer whose predecessor's output stayed).
	keepFirstInput bool
}

// WithTimeline records the run into tl.
func (a *Accelerator) WithTimeline(tl *Timeline) {
	tl.clockMHz = a.cfg.ClockMHz
	a.tl = tl
	for i, kb := range []float64{a.cfg.Buffers.IfmapKB, a.cfg.Buffers.FilterKB, a.cfg.Buffers.OfmapKB} {
		if b := a.buffers[i]; b != nil {
			tl.SetCapacity(b.Name(), int64(kb*1024))
		}
	}
	for _, p := range a.conn.ports {
		if n, ok := p.Component().(interface{ setTimeline(*Timeline) }); ok {
			n.setTimeline(tl)
		}
	}
}

// plug connects a component to the accelerator's wire.
func (a *Accelerator) plug(n *node) {
	n.dir = a.conn.byName // replies find their port through the wire's directory
	a.conn.PlugIn(n.port)
}

type eventCounter struct{ n int64 }

func (e *eventCounter) Func(ctx sim.HookCtx) {
	if ctx.Pos == sim.HookPosBeforeEvent {
		e.n++
	}
}

// Build wires an accelerator for cfg.
func Build(cfg *configs.Config) (*Accelerator, error) {
	a := &Accelerator{cfg: cfg, engine: sim.NewSerialEngine()}
	a.engine.AcceptHook(&a.events)
	freq := sim.Freq(cfg.ClockMHz * 1e6)
	slots := 1
	if cfg.Buffers.DoubleBuffered {
		slots = 2
	}
	a.conn = newWire("Accel.Wire", a.engine)
	plug := a.plug
	a.controller = newController("Accel.Controller", a.engine, freq, slots)
	plug(a.controller.node)
	// The PE array is the controller's own timed resource (one timer per
	// step); its track on the timeline keeps the array's name.
	a.controller.peName = "Accel.PEArray"
	a.mask = newMaskUnit("Accel.MaskUnit", a.engine, freq, cfg.Sparsity.MaskUnitLanes)
	plug(a.mask.node)
	a.controller.mask = a.mask.port
	ideal := cfg.DRAM.Model == configs.DRAMIdeal
	var chanPorts []sim.Port
	for i := 0; i < cfg.DRAM.Channels; i++ {
		name := fmt.Sprintf("Accel.DRAM[%d]", i)
		if cfg.DRAM.Model == configs.DRAMDetailed {
			ch := newDetailedChannel(name, a.engine, freq, configs.DRAMPresets[cfg.DRAM.Preset], int64(cfg.DRAM.RequestBytes))
			plug(ch.node)
			a.detailed = append(a.detailed, ch)
			chanPorts = append(chanPorts, ch.port)
			continue
		}
		ch := newDRAMChannel(name, a.engine, freq, ideal,
			cfg.BytesPerCycle(), cfg.LatencyCycles(), int64(cfg.DRAM.RequestBytes))
		plug(ch.node)
		a.channels = append(a.channels, ch)
		chanPorts = append(chanPorts, ch.port)
	}
	a.ledger = memory.NewLedger(numTensorKinds)
	a.controller.ledger = a.ledger
	kb := [3]float64{cfg.Buffers.IfmapKB, cfg.Buffers.FilterKB, cfg.Buffers.OfmapKB}
	for _, o := range dataflow.Operands {
		name := fmt.Sprintf("Accel.%sBuffer", capitalize(o.String()))
		b := newBuffer(name, a.engine, freq, int64(cfg.DRAM.RequestBytes), a.ledger)
		capacity := int64(kb[o] * 1024)
		if o == dataflow.Ofmap {
			b.acc = &memory.AccumBuffer{Name: name, Capacity: capacity}
		} else {
			b.read = &memory.ReadBuffer{Name: name, Capacity: capacity}
		}
		a.controller.bufs[o] = b
		b.channels = chanPorts
		if cfg.DRAM.Model != configs.DRAMDetailed {
			b.fast = a.channels
		}
		// Operands live in disjoint address ranges.
		b.nextAddr = uint64(o) << 28
		plug(b.node)
		a.buffers[o] = b
	}
	return a, nil
}

func capitalize(s string) string { return string(s[0]-'a'+'A') + s[1:] }

// Run simulates the workload to completion.
func (a *Accelerator) Run(w workloads.Workload) (*Result, error) {
	jobs, err := planWorkload(a.cfg, w)
	if err != nil {
		return nil, err
	}
	if a.keepFirstInput && len(jobs) > 0 {
		jobs[0].keepInput = true
	}
	a.controller.jobs = jobs
	start := time.Now()
	a.controller.start()
	if err := a.engine.Run(); err != nil {
		return nil, err
	}
	wall := time.Since(start).Seconds()
	if !a.controller.Finished {
		return nil, fmt.Errorf("simulation stalled: the event queue drained with layer %d of %d unfinished (a lost wake-up in the model)",
			a.controller.cur+1, len(a.controller.jobs))
	}
	return a.result(w, a.controller.Stats, wall), nil
}

// result gathers the run's measurements.
func (a *Accelerator) result(w workloads.Workload, layers []LayerStats, wall float64) *Result {
	r := &Result{Config: a.cfg, Workload: w, Layers: layers, Events: a.events.n, WallSeconds: wall}
	for _, ch := range a.channels {
		r.Channels = append(r.Channels, ChannelStats{ReadBytes: ch.ReadBytes, WriteBytes: ch.WriteBytes,
			Transactions: ch.Requests, BusyCycles: ch.BusyCycles})
	}
	for _, ch := range a.detailed {
		r.Channels = append(r.Channels, ChannelStats{ReadBytes: ch.ReadBytes, WriteBytes: ch.WriteBytes,
			Transactions: ch.Transactions})
	}
	return r
}

// Simulate builds an accelerator for cfg and runs w on it: GEMM layers on
// the systolic engine, attention rows on the attention engine.
func Simulate(cfg *configs.Config, w workloads.Workload) (*Result, error) {
	return SimulateTimeline(cfg, w, nil)
}

// SimulateTimeline is Simulate recording into tl (nil: no timeline).
func SimulateTimeline(cfg *configs.Config, w workloads.Workload, tl *Timeline) (*Result, error) {
	if cfg.Engine == "spatten" || len(w.Attention) > 0 {
		if cfg.Engine != "spatten" || len(w.Attention) == 0 {
			return nil, usererr.New("config %s (engine %s) cannot run workload %s: attention traces need engine: spatten and a spatten engine needs an attention workload",
				cfg.Name, cfg.Engine, w.Name)
		}
		return simulateAttention(cfg, w, tl)
	}
	a, err := Build(cfg)
	if err != nil {
		return nil, err
	}
	if tl != nil {
		a.WithTimeline(tl)
	}
	return a.Run(w)
}

// IsSparse reports whether cfg or any layer of w asks for N:M weights.
func IsSparse(cfg *configs.Config, w workloads.Workload) bool {
	if !cfg.Pattern().Dense() {
		return true
	}
	for _, l := range w.Layers {
		if l.NM != "" && l.NM != "dense" {
			return true
		}
	}
	return false
}

// DenseBaseline is the same architecture and workload with every weight
// dense: the reference a sparse run's speedup is measured against.
func DenseBaseline(cfg *configs.Config, w workloads.Workload) (*configs.Config, workloads.Workload) {
	c := *cfg
	c.Sparsity.NM = "dense"
	d := w
	d.Layers = append([]workloads.Layer(nil), w.Layers...)
	for i := range d.Layers {
		d.Layers[i].NM = ""
	}
	return &c, d
}

// SimulateWithBaseline runs w (recording into tl when it is not nil) and,
// when it is sparse, its dense baseline.
func SimulateWithBaseline(cfg *configs.Config, w workloads.Workload, tl *Timeline) (res, base *Result, err error) {
	if res, err = SimulateTimeline(cfg, w, tl); err != nil || !IsSparse(cfg, w) {
		return res, nil, err
	}
	bc, bw := DenseBaseline(cfg, w)
	base, err = Simulate(bc, bw)
	return res, base, err
}
