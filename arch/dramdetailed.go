package arch

import (
	"fmt"

	"github.com/sarchlab/akita/v4/mem/dram"
	"github.com/sarchlab/akita/v4/mem/mem"
	"github.com/sarchlab/akita/v4/sim"

	"github.com/sparsesim/sparsesim/configs"
)

// detailedChannel fronts one akita mem/dram controller (per-cycle bank and
// timing state) with the same MemReq interface as DRAMChannel: it splits a
// request into device bursts, feeds them as the controller's queues accept,
// and answers when the last burst returns. It is the opt-in, slow, detailed
// check on the channel model.
type detailedChannel struct {
	*Node
	memPort   sim.Port
	dramTop   sim.Port
	access    int64
	preset    configs.DRAMPreset
	queue     []sim.Msg
	parent    map[string]*burstGroup
	zeroBurst []byte
	// requestBytes is the DMA request size the channel model charges.
	requestBytes int64

	ReadBytes, WriteBytes int64
	Transactions          int64
}

type burstGroup struct {
	req     *MemReq
	pending int64
	start   int64
}

func newDetailedChannel(name string, engine sim.Engine, freq sim.Freq, p configs.DRAMPreset, requestBytes int64) *detailedChannel {
	c := &detailedChannel{Node: NewNode(name, engine, freq), access: int64(p.AccessBytes()),
		preset: p, parent: map[string]*burstGroup{}, requestBytes: requestBytes}
	c.zeroBurst = make([]byte, c.access)
	c.memPort = sim.NewPort(c, 64, 64, name+".MemPort")
	c.AddPort("Mem", c.memPort)
	protocol := map[string]dram.Protocol{"DDR4": dram.DDR4, "HBM2": dram.HBM2}[p.Protocol]
	ctrl := dram.MakeBuilder().WithEngine(engine).WithFreq(sim.Freq(p.ClockMHz * 1e6)).
		WithProtocol(protocol).WithBusWidth(p.BusBits).WithBurstLength(p.BurstLength).
		WithDeviceWidth(p.DeviceWidth).WithNumChannel(1).WithNumRank(1).
		WithNumBankGroup(p.BankGroups).WithNumBank(p.Banks).WithNumRow(p.Rows).WithNumCol(p.Cols).
		WithTCL(p.TCL).WithTCWL(p.TCWL).WithTRCD(p.TRCD).WithTRP(p.TRP).WithTRAS(p.TRAS).
		WithTCCDL(p.TCCDL).WithTCCDS(p.TCCDS).WithTRRDL(p.TRRDL).WithTRRDS(p.TRRDS).
		WithTWTRL(p.TWTRL).WithTWTRS(p.TWTRS).WithTRTP(p.TRTP).WithTWR(p.TWR).WithTRTRS(p.TRTRS).
		WithRFC(p.TRFC).WithTREFI(p.TREFI).
		// HBM and GDDR time activate-to-read and -write on their own
		// (tRCDRD, tRCDWR); left at zero akita issues a read into a bank
		// still activating and panics.
		WithTRCDRD(p.TRCD).WithTRCDWR(p.TRCD).
		Build(name + ".Ctrl")
	c.dramTop = ctrl.GetPortByName("Top")
	conn := newLink(name+".Link", engine)
	conn.PlugIn(c.memPort)
	conn.PlugIn(c.dramTop)
	c.OnMsg = c.handle
	c.OnPortFree = c.drain
	return c
}

func (c *detailedChannel) handle(msg sim.Msg) {
	switch m := msg.(type) {
	case *MemReq:
		c.split(m)
		c.drain()
	case *mem.DataReadyRsp:
		c.complete(m.RespondTo)
	case *mem.WriteDoneRsp:
		c.complete(m.RespondTo)
	default:
		panic(fmt.Sprintf("%s: unexpected %T", c.Name(), msg))
	}
}

func (c *detailedChannel) split(m *MemReq) {
	// The request count, not the useful bytes, is what the bus moves: a
	// short run still occupies whole requests (memory.Tensor.Runs).
	moved := max(m.Bytes, m.Requests*c.requestBytes)
	bursts := (moved + c.access - 1) / c.access
	g := &burstGroup{req: m, pending: bursts, start: c.Now()}
	if m.Write {
		c.WriteBytes += m.Bytes
	} else {
		c.ReadBytes += m.Bytes
	}
	c.Transactions += bursts
	for i := int64(0); i < bursts; i++ {
		addr := c.deviceAddr(m.Addr/uint64(c.access) + uint64(i))
		var req sim.Msg
		if m.Write {
			req = mem.WriteReqBuilder{}.WithSrc(c.memPort.AsRemote()).WithDst(c.dramTop.AsRemote()).
				WithAddress(addr).WithData(c.zeroBurst).Build()
		} else {
			req = mem.ReadReqBuilder{}.WithSrc(c.memPort.AsRemote()).WithDst(c.dramTop.AsRemote()).
				WithAddress(addr).WithByteSize(uint64(c.access)).Build()
		}
		c.parent[req.Meta().ID] = g
		c.queue = append(c.queue, req)
	}
	if bursts == 0 {
		c.Send(c.Peer(m.Src), &MemRsp{Req: m})
	}
}

// deviceAddr places the b-th burst of the linear address space so that
// consecutive bursts rotate over bank groups, then banks, then columns of
// one open row, then rows: the bank-interleaved mapping streaming
// controllers use. akita's default bit order (row | bank | bank group |
// column | burst offset, high to low) would send a sequential stream to one
// bank, where its close-page policy pays a full row cycle per burst.
func (c *detailedChannel) deviceAddr(b uint64) uint64 {
	p := c.preset
	// akita sizes its storage as columns × rows × device width × banks ×
	// devices (without the bank groups): wrap the stream inside it, row
	// by row, or akita refuses the access.
	capacity := uint64(p.Cols) * uint64(p.Rows) * uint64(p.DeviceWidth) / 8 * uint64(p.Banks) * uint64(p.BusBits/p.DeviceWidth)
	b %= capacity / uint64(c.access)
	bg := b % uint64(p.BankGroups)
	b /= uint64(p.BankGroups)
	bank := b % uint64(p.Banks)
	b /= uint64(p.Banks)
	colsPerRow := uint64(p.Cols / p.BurstLength)
	col := b % colsPerRow
	rows := capacity / uint64(c.access) / colsPerRow / uint64(p.BankGroups*p.Banks)
	row := (b / colsPerRow) % rows
	au := uint64(c.access)
	addr := col * au
	addr += bg * au * colsPerRow
	addr += bank * au * colsPerRow * uint64(p.BankGroups)
	addr += row * au * colsPerRow * uint64(p.BankGroups*p.Banks)
	return addr
}

// drain sends queued bursts until the controller pushes back.
func (c *detailedChannel) drain() {
	for len(c.queue) > 0 {
		if err := c.memPort.Send(c.queue[0]); err != nil {
			return
		}
		c.queue = c.queue[1:]
	}
}

func (c *detailedChannel) complete(id string) {
	g := c.parent[id]
	delete(c.parent, id)
	g.pending--
	if g.pending == 0 {
		kind := "read"
		if g.req.Write {
			kind = "write"
		}
		c.TL.Slice(c.Name(), kind, float64(g.start), float64(c.Now()), map[string]any{"bytes": g.req.Bytes, "requests": g.req.Requests})
		c.Send(c.Peer(g.req.Src), &MemRsp{Req: g.req})
	}
}
