package arch

import (
	"fmt"
	"math"

	"github.com/sarchlab/akita/v4/sim"
)

// Node is the event-driven base every sparsesim component embeds (here and
// in the engines' packages): messages are handled at the instant they
// arrive (all latencies are explicit timers), and a component with nothing
// to do schedules nothing.
type Node struct {
	*sim.ComponentBase
	engine        sim.Engine
	freq          sim.Freq
	Port          sim.Port
	recvScheduled bool
	// OnMsg handles every message the component receives.
	OnMsg func(sim.Msg)
	// OnPortFree, when set, runs when a full peer port frees a slot.
	OnPortFree func()
	// dir resolves a message's source to its port, for replies: the
	// accelerator wire's directory.
	dir map[sim.RemotePort]sim.Port
	// TL records the run's timeline when asked for (nil otherwise).
	TL *Timeline
}

// Peer is the port a message's source is plugged in (for replies).
func (n *Node) Peer(p sim.RemotePort) sim.Port { return n.dir[p] }

type recvEvent struct{ *sim.EventBase }

type timerEvent struct {
	*sim.EventBase
	fn func()
}

// portCapacity bounds in-flight messages per port; the controller never has
// more than a few folds of tiles outstanding, far below this.
const portCapacity = 1 << 14

func NewNode(name string, engine sim.Engine, freq sim.Freq) *Node {
	n := &Node{ComponentBase: sim.NewComponentBase(name), engine: engine, freq: freq}
	n.Port = sim.NewPort(n, portCapacity, portCapacity, name+".Port")
	n.AddPort("Port", n.Port)
	return n
}

// NotifyRecv schedules one drain of the incoming buffer at the current time.
func (n *Node) NotifyRecv(sim.Port) {
	if n.recvScheduled {
		return
	}
	n.recvScheduled = true
	n.engine.Schedule(recvEvent{sim.NewEventBase(n.engine.CurrentTime(), n)})
}

// NotifyPortFree wakes components that wait for a full port (only the
// detailed-DRAM adapter; the others' ports are sized never to fill).
func (n *Node) NotifyPortFree(sim.Port) {
	if n.OnPortFree != nil {
		n.engine.Schedule(timerEvent{sim.NewEventBase(n.engine.CurrentTime(), n), n.OnPortFree})
	}
}

// Handle runs timers and drains received messages.
func (n *Node) Handle(e sim.Event) error {
	switch ev := e.(type) {
	case recvEvent:
		n.recvScheduled = false
		for _, p := range n.Ports() {
			for msg := p.RetrieveIncoming(); msg != nil; msg = p.RetrieveIncoming() {
				n.OnMsg(msg)
			}
		}
	case timerEvent:
		ev.fn()
	default:
		return fmt.Errorf("%s: unexpected event %T", n.Name(), e)
	}
	return nil
}

// Now is the current cycle.
func (n *Node) Now() int64 {
	return int64(math.Round(float64(n.engine.CurrentTime()) * float64(n.freq)))
}

// TimeOf is the engine time of cycle.
func (n *Node) TimeOf(cycle int64) sim.VTimeInSec {
	return sim.VTimeInSec(float64(cycle) / float64(n.freq))
}

// At runs fn at an absolute cycle (not before now).
func (n *Node) At(cycle int64, fn func()) {
	if c := n.Now(); cycle < c {
		cycle = c
	}
	// Components on other clocks (the detailed DRAM) can leave the engine
	// between two of our cycles; never schedule into the past.
	t := max(n.TimeOf(cycle), n.engine.CurrentTime())
	n.engine.Schedule(timerEvent{sim.NewEventBase(t, n), fn})
}

// Send delivers msg to dst; ports never fill, so failure is a model bug.
func (n *Node) Send(dst sim.Port, msg sim.Msg) {
	m := msg.Meta()
	m.Src, m.Dst = n.Port.AsRemote(), dst.AsRemote()
	m.ID = sim.GetIDGenerator().Generate()
	if err := n.Port.Send(msg); err != nil {
		panic(fmt.Sprintf("%s: port full sending %T: the port capacity invariant is broken", n.Name(), msg))
	}
}

func (n *Node) SetTimeline(tl *Timeline) { n.TL = tl }
