package arch

import "github.com/sarchlab/akita/v4/sim"

// Timing parameters of the units that have RTL in rtl/src; the RTL tests
// measure each unit's latency and assert it equals these.
const (
	// SystolicHopCycles: a PE passes operands and partial sums on after one
	// cycle (rtl/src/sys_pe.v) — the skew the fold model counts.
	SystolicHopCycles = 1
	// NMPELatency: the N:M PE selects, multiplies and reduces in the same
	// cycle its accumulator registers (rtl/src/nm_pe.v): still one hop.
	NMPELatency = 1
	// MaskGenLatency: rank every pair of magnitudes, then select and pack
	// (rtl/src/mask_gen.v).
	MaskGenLatency = 2
	// TopKPassLatency: compare, prefix sum, compact (rtl/src/topk_pass.v).
	TopKPassLatency = 3
	// PQuantDecisionLatency: the max-probability vs τ decision and the
	// MSB/LSB recombination register once (rtl/src/pquant.v).
	PQuantDecisionLatency = 1
)

// MaskGenCycles is the N:M mask-generation unit's timing: Lanes rankers
// each take one group of M weights per cycle, fully pipelined, and a group
// comes out MaskGenLatency cycles later. N does not change the timing.
func MaskGenCycles(groups int64, m, lanes int) int64 {
	if groups <= 0 {
		return 0
	}
	return (groups+int64(lanes)-1)/int64(lanes) + MaskGenLatency
}

// MaskGenCompares is the comparisons one group costs: every pair of the M
// magnitudes (M(M−1)/2 comparators per lane in rtl/src/mask_gen.v).
func MaskGenCompares(m int) int64 { return int64(m * (m - 1) / 2) }

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
	*Node
	lanes int

	Groups, BusyCycles int64
}

// NewMaskUnit is the N:M mask-generation unit with lanes comparator lanes.
func NewMaskUnit(name string, engine sim.Engine, freq sim.Freq, lanes int) *MaskUnit {
	u := &MaskUnit{Node: NewNode(name, engine, freq), lanes: lanes}
	u.OnMsg = u.handle
	return u
}

func (u *MaskUnit) handle(msg sim.Msg) {
	req := msg.(*MaskGenReq)
	cyc := MaskGenCycles(req.Groups, req.M, u.lanes)
	now := float64(u.Now())
	u.TL.Slice(u.Name(), "masks", now, now+float64(cyc), map[string]any{"groups": req.Groups, "m": req.M})
	u.Groups += req.Groups
	u.BusyCycles += cyc
	src := req.Src
	u.At(u.Now()+cyc, func() { u.Send(u.Peer(src), &MaskGenRsp{Req: req, Cycles: cyc}) })
}
