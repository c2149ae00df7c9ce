package arch

import (
	"github.com/sarchlab/akita/v4/sim"
)

// link is the connection between a detailed channel's adapter and its
// akita DRAM controller: zero latency, with back-pressure. It replaces
// akita's directconnection, which loses wake-ups here: its TickNow is a
// no-op when a tick is already booked at the current time, so a message
// sent at time t after the connection's tick at t has run (the adapter
// handles its own events at t, after the controller's) stays in the
// sender's outgoing buffer with nothing left to forward it, and the run
// drains with requests unfinished ("simulation stalled").
//
// link instead books one delivery event at the current time whenever a
// port sends or a full receiver frees a slot, and its flag is cleared
// before delivering, so a send during or after a delivery always books
// another. A message the receiver cannot take stays queued until the
// receiver's RetrieveIncoming reports a free slot (NotifyAvailable).
type link struct {
	sim.HookableBase
	name      string
	engine    sim.Engine
	ports     []sim.Port
	byName    map[sim.RemotePort]sim.Port
	scheduled bool
}

type linkEvent struct{ *sim.EventBase }

func newLink(name string, engine sim.Engine) *link {
	return &link{name: name, engine: engine, byName: map[sim.RemotePort]sim.Port{}}
}

func (l *link) Name() string { return l.name }

func (l *link) PlugIn(p sim.Port) {
	l.ports = append(l.ports, p)
	l.byName[p.AsRemote()] = p
	p.SetConnection(l)
}

func (l *link) Unplug(sim.Port) { panic("link: unplug is not supported") }

// NotifyAvailable: a receiver that was full took a message.
func (l *link) NotifyAvailable(sim.Port) { l.wake() }

func (l *link) NotifySend() { l.wake() }

func (l *link) wake() {
	if l.scheduled {
		return
	}
	l.scheduled = true
	l.engine.Schedule(linkEvent{sim.NewEventBase(l.engine.CurrentTime(), l)})
}

// Handle delivers, port by port in plug-in order, every queued message its
// receiver has room for.
func (l *link) Handle(sim.Event) error {
	l.scheduled = false
	for _, p := range l.ports {
		for msg := p.PeekOutgoing(); msg != nil; msg = p.PeekOutgoing() {
			if err := l.byName[msg.Meta().Dst].Deliver(msg); err != nil {
				break // retried when the receiver frees a slot
			}
			p.RetrieveOutgoing()
		}
	}
	return nil
}
