package arch

import "github.com/sarchlab/akita/v4/sim"

// MemReq asks a DRAM channel to move Bytes (Requests transactions).
type MemReq struct {
	sim.MsgMeta
	Bytes    int64
	Requests int64
	Write    bool
	Addr     uint64
	tag      *bufOp
}

// MemRsp completes a MemReq.
type MemRsp struct {
	sim.MsgMeta
	Req *MemReq
}

// ComputeReq starts a job on a unit: the unit is occupied for Cycles and
// the result comes Latency cycles after that (pipeline depth: the next
// job may enter meanwhile).
type ComputeReq struct {
	sim.MsgMeta
	Fold    int
	Cycles  int64
	Latency int64
	MACs    int64
}

// ComputeRsp reports a finished fold.
type ComputeRsp struct {
	sim.MsgMeta
	Req *ComputeReq
}

func (m *MemReq) Meta() *sim.MsgMeta     { return &m.MsgMeta }
func (m *MemRsp) Meta() *sim.MsgMeta     { return &m.MsgMeta }
func (m *ComputeReq) Meta() *sim.MsgMeta { return &m.MsgMeta }
func (m *ComputeRsp) Meta() *sim.MsgMeta { return &m.MsgMeta }

func (m *MemReq) Clone() sim.Msg     { c := *m; return &c }
func (m *MemRsp) Clone() sim.Msg     { c := *m; return &c }
func (m *ComputeReq) Clone() sim.Msg { c := *m; return &c }
func (m *ComputeRsp) Clone() sim.Msg { c := *m; return &c }
