package arch

import "github.com/sarchlab/akita/v4/sim"

// Unit is a pipelined compute unit that takes one job at a time: the PE
// array (one fold per job), and the attention engine's Q×K, softmax, top-k
// and prob×V modules. A job's latency comes from the unit's timing model in
// the request, so a unit costs one timer event per job however many
// operations the job does.
type Unit struct {
	*Node
	busy bool
	// Freed tells the controller the unit accepts a new job while the
	// previous one is still in its pipeline.
	Freed func()

	Jobs       int64
	BusyCycles int64
	MACs       int64
}

// NewUnit is a pipelined unit named name.
func NewUnit(name string, engine sim.Engine, freq sim.Freq) *Unit {
	u := &Unit{Node: NewNode(name, engine, freq)}
	u.OnMsg = u.handle
	return u
}

func (u *Unit) handle(msg sim.Msg) {
	req := msg.(*ComputeReq)
	if u.busy {
		panic(u.Name() + ": job issued while busy: controller invariant broken")
	}
	u.busy = true
	now := float64(u.Now())
	u.TL.Slice(u.Name(), "job", now, now+float64(req.Cycles+req.Latency), map[string]any{"macs": req.MACs, "cycles": req.Cycles})
	u.Jobs++
	u.BusyCycles += req.Cycles
	u.MACs += req.MACs
	src := req.Src
	reply := func() { u.Send(u.Peer(src), &ComputeRsp{Req: req}) }
	if req.Latency == 0 {
		u.At(u.Now()+req.Cycles, func() { u.busy = false; reply() })
		return
	}
	u.At(u.Now()+req.Cycles, func() { u.busy = false; u.notifyFree() })
	u.At(u.Now()+req.Cycles+req.Latency, reply)
}

func (u *Unit) notifyFree() {
	if u.Freed != nil {
		u.Freed()
	}
}
