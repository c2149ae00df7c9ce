package arch

import (
	"fmt"

	"github.com/sarchlab/akita/v4/sim"
)

// wire is a zero-latency akita connection. akita's directconnection ticks at
// most once per cycle, so a reply sent in the cycle a request arrived waits
// for the next one; that added a cycle per hop to every fold. The wire
// instead delivers everything sent at time t in one event at time t, which
// keeps the model's latencies exactly those of the timing models.
type wire struct {
	sim.HookableBase
	name      string
	engine    sim.Engine
	ports     []sim.Port
	byName    map[sim.RemotePort]sim.Port
	scheduled bool
}

type wireEvent struct{ *sim.EventBase }

func newWire(name string, engine sim.Engine) *wire {
	return &wire{name: name, engine: engine, byName: map[sim.RemotePort]sim.Port{}}
}

func (w *wire) Name() string { return w.name }

func (w *wire) PlugIn(p sim.Port) {
	w.ports = append(w.ports, p)
	w.byName[p.AsRemote()] = p
	p.SetConnection(w)
}

func (w *wire) Unplug(sim.Port) { panic("wire: unplug is not supported") }

func (w *wire) NotifyAvailable(sim.Port) {}

func (w *wire) NotifySend() {
	if w.scheduled {
		return
	}
	w.scheduled = true
	w.engine.Schedule(wireEvent{sim.NewEventBase(w.engine.CurrentTime(), w)})
}

// Handle delivers every queued message, port by port in plug-in order
// (deterministic).
func (w *wire) Handle(sim.Event) error {
	w.scheduled = false
	for _, p := range w.ports {
		for msg := p.PeekOutgoing(); msg != nil; msg = p.PeekOutgoing() {
			dst, ok := w.byName[msg.Meta().Dst]
			if !ok {
				return fmt.Errorf("wire: no port %s", msg.Meta().Dst)
			}
			if err := dst.Deliver(msg); err != nil {
				return fmt.Errorf("wire: %s is full", dst.Name())
			}
			p.RetrieveOutgoing()
		}
	}
	return nil
}
