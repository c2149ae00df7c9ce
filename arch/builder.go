package arch

import (
	"fmt"
	"time"

	"github.com/sarchlab/akita/v4/sim"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/mapping"
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
	pe         *PEArray
	buffers    [3]*Buffer
	channels   []*DRAMChannel
	detailed   []*detailedChannel
	events     eventCounter
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
	dir := map[sim.RemotePort]sim.Port{}
	conn := newWire("Accel.Wire", a.engine)
	plug := func(n *node) {
		n.dir = dir
		dir[n.port.AsRemote()] = n.port
		conn.PlugIn(n.port)
	}
	a.controller = newController("Accel.Controller", a.engine, freq, slots)
	plug(a.controller.node)
	a.pe = newPEArray("Accel.PEArray", a.engine, freq)
	plug(a.pe.node)
	a.controller.pe = a.pe.port
	ideal := cfg.DRAM.Model == configs.DRAMIdeal
	var chanPorts []sim.Port
	for i := 0; i < cfg.DRAM.Channels; i++ {
		name := fmt.Sprintf("Accel.DRAM[%d]", i)
		if cfg.DRAM.Model == configs.DRAMDetailed {
			ch := newDetailedChannel(name, a.engine, freq, configs.DRAMPresets[cfg.DRAM.Preset])
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
	for _, o := range dataflow.Operands {
		b := newBuffer(fmt.Sprintf("Accel.%sBuffer", capitalize(o.String())), a.engine, freq, int64(cfg.DRAM.RequestBytes))
		b.channels = chanPorts
		// Operands live in disjoint address ranges.
		b.nextAddr = uint64(o) << 28
		plug(b.node)
		a.buffers[o] = b
		a.controller.buffers[o] = b.port
	}
	return a, nil
}

func capitalize(s string) string { return string(s[0]-'a'+'A') + s[1:] }

// Plan tiles a layer for this accelerator.
func Plan(cfg *configs.Config, l workloads.Layer) (*mapping.Schedule, error) {
	wb := cfg.WordBytes()
	slotDiv := 1.0
	if cfg.Buffers.DoubleBuffered {
		slotDiv = 2
	}
	kb := func(v float64) int64 { return int64(v * 1024 / slotDiv) }
	arr := mapping.Array{Rows: cfg.PEArray.Rows, Cols: cfg.PEArray.Cols, WordBytes: wb,
		SlotBytes: [3]int64{kb(cfg.Buffers.IfmapKB), kb(cfg.Buffers.FilterKB), kb(cfg.Buffers.OfmapKB)}}
	return mapping.New(cfg.DataflowSpec(), arr, mapping.Problem{M: l.M, N: l.N, K: l.K, Groups: l.Groups})
}

// Run simulates the workload to completion.
func (a *Accelerator) Run(w workloads.Workload) (*Result, error) {
	for _, l := range w.Layers {
		if err := l.Validate(); err != nil {
			return nil, err
		}
		s, err := Plan(a.cfg, l)
		if err != nil {
			return nil, fmt.Errorf("layer %q: %w", l.Name, err)
		}
		a.controller.jobs = append(a.controller.jobs, layerJob{layer: l, sched: s})
	}
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
	r := &Result{Config: a.cfg, Workload: w, Layers: a.controller.Stats, Events: a.events.n, WallSeconds: wall}
	for _, ch := range a.channels {
		r.Channels = append(r.Channels, ChannelStats{ReadBytes: ch.ReadBytes, WriteBytes: ch.WriteBytes,
			Transactions: ch.Transactions, BusyCycles: ch.BusyCycles})
	}
	for _, ch := range a.detailed {
		r.Channels = append(r.Channels, ChannelStats{ReadBytes: ch.ReadBytes, WriteBytes: ch.WriteBytes,
			Transactions: ch.Transactions})
	}
	return r, nil
}

// Simulate builds an accelerator for cfg and runs w on it.
func Simulate(cfg *configs.Config, w workloads.Workload) (*Result, error) {
	a, err := Build(cfg)
	if err != nil {
		return nil, err
	}
	return a.Run(w)
}
