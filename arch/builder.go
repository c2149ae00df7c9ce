package arch

import (
	"fmt"

	"github.com/sarchlab/akita/v4/sim"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/dataflow"
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

// Accelerator is a wired set of components on one engine: the wire every
// component is plugged into, the DRAM channels and the three operand
// buffers in front of them. An engine (arch/systolic, arch/attention) plugs
// its controller and compute units into it.
type Accelerator struct {
	Cfg      *configs.Config
	Engine   *sim.SerialEngine
	Freq     sim.Freq
	Buffers  [3]*Buffer
	channels []*DRAMChannel
	detailed []*detailedChannel
	events   eventCounter
	conn     *wire
	TL       *Timeline
	Ledger   *memory.Ledger
}

// WithTimeline records the run into tl.
func (a *Accelerator) WithTimeline(tl *Timeline) {
	tl.clockMHz = a.Cfg.ClockMHz
	a.TL = tl
	for i, kb := range []float64{a.Cfg.Buffers.IfmapKB, a.Cfg.Buffers.FilterKB, a.Cfg.Buffers.OfmapKB} {
		if b := a.Buffers[i]; b != nil {
			tl.SetCapacity(b.Name(), int64(kb*1024))
		}
	}
	for _, p := range a.conn.ports {
		if n, ok := p.Component().(interface{ SetTimeline(*Timeline) }); ok {
			n.SetTimeline(tl)
		}
	}
}

// Plug connects a component to the accelerator's wire. The wire delivers
// messages sent at one instant port by port in plug-in order, so the order
// components are plugged in is part of the model (deterministic).
func (a *Accelerator) Plug(n *Node) {
	n.dir = a.conn.byName // replies find their port through the wire's directory
	a.conn.PlugIn(n.Port)
}

// Events is the number of events the engine has run.
func (a *Accelerator) Events() int64 { return a.events.n }

type eventCounter struct{ n int64 }

func (e *eventCounter) Func(ctx sim.HookCtx) {
	if ctx.Pos == sim.HookPosBeforeEvent {
		e.n++
	}
}

// New makes an engine and the wire of an accelerator for cfg; the engine's
// controller is plugged in next, then AddMemory adds the DRAM channels and
// buffers.
func New(cfg *configs.Config) *Accelerator {
	a := &Accelerator{Cfg: cfg, Engine: sim.NewSerialEngine(), Freq: sim.Freq(cfg.ClockMHz * 1e6)}
	a.Engine.AcceptHook(&a.events)
	a.conn = newWire("Accel.Wire", a.Engine)
	return a
}

// AddMemory plugs in the DRAM channels and the three operand buffers, whose
// traffic a ledger of ledgerKinds tensor kinds books.
func (a *Accelerator) AddMemory(ledgerKinds int) {
	cfg := a.Cfg
	freq := a.Freq
	ideal := cfg.DRAM.Model == configs.DRAMIdeal
	var chanPorts []sim.Port
	for i := 0; i < cfg.DRAM.Channels; i++ {
		name := fmt.Sprintf("Accel.DRAM[%d]", i)
		if cfg.DRAM.Model == configs.DRAMDetailed {
			ch := newDetailedChannel(name, a.Engine, freq, configs.DRAMPresets[cfg.DRAM.Preset], int64(cfg.DRAM.RequestBytes))
			a.Plug(ch.Node)
			a.detailed = append(a.detailed, ch)
			chanPorts = append(chanPorts, ch.Port)
			continue
		}
		ch := newDRAMChannel(name, a.Engine, freq, ideal,
			cfg.BytesPerCycle(), cfg.LatencyCycles(), int64(cfg.DRAM.RequestBytes))
		a.Plug(ch.Node)
		a.channels = append(a.channels, ch)
		chanPorts = append(chanPorts, ch.Port)
	}
	a.Ledger = memory.NewLedger(ledgerKinds)
	kb := [3]float64{cfg.Buffers.IfmapKB, cfg.Buffers.FilterKB, cfg.Buffers.OfmapKB}
	for _, o := range dataflow.Operands {
		name := fmt.Sprintf("Accel.%sBuffer", capitalize(o.String()))
		b := newBuffer(name, a.Engine, freq, int64(cfg.DRAM.RequestBytes), a.Ledger)
		capacity := int64(kb[o] * 1024)
		if o == dataflow.Ofmap {
			b.Acc = &memory.AccumBuffer{Name: name, Capacity: capacity}
		} else {
			b.ReadBuf = &memory.ReadBuffer{Name: name, Capacity: capacity}
		}
		b.channels = chanPorts
		if cfg.DRAM.Model != configs.DRAMDetailed {
			b.fast = a.channels
		}
		// Operands live in disjoint address ranges.
		b.nextAddr = uint64(o) << 28
		a.Plug(b.Node)
		a.Buffers[o] = b
	}
}

// Build is an accelerator with memory and no engine: what the gather DMA
// runs on.
func Build(cfg *configs.Config) *Accelerator {
	a := New(cfg)
	a.AddMemory(NumTensorKinds)
	return a
}

func capitalize(s string) string { return string(s[0]-'a'+'A') + s[1:] }

// Result gathers the run's measurements.
func (a *Accelerator) Result(w workloads.Workload, layers []LayerStats, wall float64) *Result {
	r := &Result{Config: a.Cfg, Workload: w, Layers: layers, Events: a.events.n, WallSeconds: wall}
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
