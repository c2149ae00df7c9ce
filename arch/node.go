package arch

import (
	"fmt"
	"math"

	"github.com/sarchlab/akita/v4/sim"
)

// node is the event-driven base every sparsesim component embeds: messages
// are handled at the instant they arrive (all latencies are explicit timers),
// and a component with nothing to do schedules nothing.
type node struct {
	*sim.ComponentBase
	engine        sim.Engine
	freq          sim.Freq
	port          sim.Port
	recvScheduled bool
	onMsg         func(sim.Msg)
	onPortFree    func()
	// dir resolves a message's source to its port, for replies: the
	// accelerator wire's directory.
	dir map[sim.RemotePort]sim.Port
	// tl records the run's timeline when asked for (nil otherwise).
	tl *Timeline
}

func (n *node) peer(p sim.RemotePort) sim.Port { return n.dir[p] }

type recvEvent struct{ *sim.EventBase }

type timerEvent struct {
	*sim.EventBase
	fn func()
}

// portCapacity bounds in-flight messages per port; the controller never has
// more than a few folds of tiles outstanding, far below this.
const portCapacity = 1 << 14

func newNode(name string, engine sim.Engine, freq sim.Freq) *node {
	n := &node{ComponentBase: sim.NewComponentBase(name), engine: engine, freq: freq}
	n.port = sim.NewPort(n, portCapacity, portCapacity, name+".Port")
	n.AddPort("Port", n.port)
	return n
}

// NotifyRecv schedules one drain of the incoming buffer at the current time.
func (n *node) NotifyRecv(sim.Port) {
	if n.recvScheduled {
		return
	}
	n.recvScheduled = true
	n.engine.Schedule(recvEvent{sim.NewEventBase(n.engine.CurrentTime(), n)})
}

// NotifyPortFree wakes components that wait for a full port (only the
// detailed-DRAM adapter; the others' ports are sized never to fill).
func (n *node) NotifyPortFree(sim.Port) {
	if n.onPortFree != nil {
		n.engine.Schedule(timerEvent{sim.NewEventBase(n.engine.CurrentTime(), n), n.onPortFree})
	}
}

// Handle runs timers and drains received messages.
func (n *node) Handle(e sim.Event) error {
	switch ev := e.(type) {
	case recvEvent:
		n.recvScheduled = false
		for _, p := range n.Ports() {
			for msg := p.RetrieveIncoming(); msg != nil; msg = p.RetrieveIncoming() {
				n.onMsg(msg)
			}
		}
	case timerEvent:
		ev.fn()
	default:
		return fmt.Errorf("%s: unexpected event %T", n.Name(), e)
	}
	return nil
}

// now is the current cycle.
func (n *node) now() int64 {
	return int64(math.Round(float64(n.engine.CurrentTime()) * float64(n.freq)))
}

func (n *node) timeOf(cycle int64) sim.VTimeInSec {
	return sim.VTimeInSec(float64(cycle) / float64(n.freq))
}

// at runs fn at an absolute cycle (not before now).
func (n *node) at(cycle int64, fn func()) {
	if c := n.now(); cycle < c {
		cycle = c
	}
	// Components on other clocks (the detailed DRAM) can leave the engine
	// between two of our cycles; never schedule into the past.
	t := max(n.timeOf(cycle), n.engine.CurrentTime())
	n.engine.Schedule(timerEvent{sim.NewEventBase(t, n), fn})
}

// send delivers msg to dst; ports never fill, so failure is a model bug.
func (n *node) send(dst sim.Port, msg sim.Msg) {
	m := msg.Meta()
	m.Src, m.Dst = n.port.AsRemote(), dst.AsRemote()
	m.ID = sim.GetIDGenerator().Generate()
	if err := n.port.Send(msg); err != nil {
		panic(fmt.Sprintf("%s: port full sending %T: the port capacity invariant is broken", n.Name(), msg))
	}
}

func (n *node) setTimeline(tl *Timeline) { n.tl = tl }
