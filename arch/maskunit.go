package arch

import (
	"math/bits"

	"github.com/sarchlab/akita/v4/sim"
)

// MaskGenCycles is the N:M mask-generation unit's timing: Lanes sorting
// networks each take one group of M weights per cycle (fully pipelined),
// and a group needs the depth of a bitonic sorting network,
// log2(M)·(log2(M)+1)/2 compare-exchange stages, to come out. Top-N is the
// first N of the sorted order, so N does not change the timing.
func MaskGenCycles(groups int64, m, lanes int) int64 {
	if groups <= 0 {
		return 0
	}
	lg := bits.Len(uint(m - 1))
	depth := int64(lg * (lg + 1) / 2)
	return (groups+int64(lanes)-1)/int64(lanes) + depth
}

// MaskGenReq asks the unit to make masks for Groups groups of M.
type MaskGenReq struct {
	sim.MsgMeta
	Groups int64
	M      int
}

// MaskGenRsp reports the masks are ready.
type MaskGenRsp struct {
	sim.MsgMeta
	Req    *MaskGenReq
	Cycles int64
}

func (m *MaskGenReq) Meta() *sim.MsgMeta { return &m.MsgMeta }
func (m *MaskGenRsp) Meta() *sim.MsgMeta { return &m.MsgMeta }
func (m *MaskGenReq) Clone() sim.Msg     { c := *m; return &c }
func (m *MaskGenRsp) Clone() sim.Msg     { c := *m; return &c }

// MaskUnit is the mask-generation unit: one timer event per request.
type MaskUnit struct {
	*node
	lanes int

	Groups, BusyCycles int64
}

func newMaskUnit(name string, engine sim.Engine, freq sim.Freq, lanes int) *MaskUnit {
	u := &MaskUnit{node: newNode(name, engine, freq), lanes: lanes}
	u.onMsg = u.handle
	return u
}

func (u *MaskUnit) handle(msg sim.Msg) {
	req := msg.(*MaskGenReq)
	cyc := MaskGenCycles(req.Groups, req.M, u.lanes)
	u.Groups += req.Groups
	u.BusyCycles += cyc
	src := req.Src
	u.at(u.now()+cyc, func() { u.send(u.peer(src), &MaskGenRsp{Req: req, Cycles: cyc}) })
}
