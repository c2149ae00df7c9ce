package arch

import "github.com/sarchlab/akita/v4/sim"

// PEArray runs one fold at a time; a fold's latency comes from the mapping
// (the dataflow's cycle model, shortened by sparsity where it applies), so
// the array costs one timer event per fold however many MACs it does.
type PEArray struct {
	*node
	busy bool

	Folds      int64
	BusyCycles int64
	MACs       int64
}

func newPEArray(name string, engine sim.Engine, freq sim.Freq) *PEArray {
	p := &PEArray{node: newNode(name, engine, freq)}
	p.onMsg = p.handle
	return p
}

func (p *PEArray) handle(msg sim.Msg) {
	req := msg.(*ComputeReq)
	if p.busy {
		panic("PEArray: fold issued while busy: controller invariant broken")
	}
	p.busy = true
	p.Folds++
	p.BusyCycles += req.Cycles
	p.MACs += req.MACs
	src := req.Src
	p.at(p.now()+req.Cycles, func() {
		p.busy = false
		p.send(p.peer(src), &ComputeRsp{Req: req})
	})
}
