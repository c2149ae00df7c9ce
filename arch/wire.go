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
//
// With back-pressure (newLink: a detailed channel's adapter and its akita
// DRAM controller) a message the receiver cannot take stays queued until
// the receiver's RetrieveIncoming reports a free slot (NotifyAvailable),
// which books another delivery. directconnection loses wake-ups there: its
// TickNow is a no-op when a tick is already booked at the current time, so
// a message sent at time t after the connection's tick at t has run stays
// in the sender's buffer with nothing left to forward it, and the run
// drains with requests unfinished ("simulation stalled"). The flag is
// cleared before delivering, so a send during or after a delivery always
// books another.
type wire struct {
	sim.HookableBase
	name         string
	engine       sim.Engine
	ports        []sim.Port
	byName       map[sim.RemotePort]sim.Port
	scheduled    bool
	backPressure bool
}

type wireEvent struct{ *sim.EventBase }

func newWire(name string, engine sim.Engine) *wire {
	return &wire{name: name, engine: engine, byName: map[sim.RemotePort]sim.Port{}}
}

// newLink is a wire whose receivers may be full (back-pressure).
func newLink(name string, engine sim.Engine) *wire {
	w := newWire(name, engine)
	w.backPressure = true
	return w
}

func (w *wire) Name() string { return w.name }

func (w *wire) PlugIn(p sim.Port) {
	w.ports = append(w.ports, p)
	w.byName[p.AsRemote()] = p
	p.SetConnection(w)
}

func (w *wire) Unplug(sim.Port) { panic("wire: unplug is not supported") }

// NotifyAvailable: a receiver that was full took a message.
func (w *wire) NotifyAvailable(sim.Port) {
	if w.backPressure {
		w.NotifySend()
	}
}

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
				if w.backPressure {
					break // retried when the receiver frees a slot
				}
				return fmt.Errorf("wire: %s is full", dst.Name())
			}
			p.RetrieveOutgoing()
		}
	}
	return nil
}
