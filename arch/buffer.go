package arch

import (
	"github.com/sarchlab/akita/v4/sim"

	"github.com/sparsesim/sparsesim/memory"
)

// Buffer is an on-chip SRAM with its DMA engine, the akita face of the
// memory model: it keeps operand regions (memory.ReadBuffer) or partial
// sums (memory.AccumBuffer), fetches what a request's region lacks, writes
// what leaves, and books every transfer in the ledger. A region becomes
// DRAM transactions (memory.Tensor.Runs) spread over the channels,
// interleaved at request granularity. Reads complete in order, and so do
// writes: a request whose data is already on chip still waits for the
// fetches before it, which may be bringing that data.
type Buffer struct {
	*Node
	channels     []sim.Port
	requestBytes int64
	NextChannel  int
	nextAddr     uint64
	Ledger       *memory.Ledger
	ReadBuf      *memory.ReadBuffer
	Acc          *memory.AccumBuffer
	queues       [2][]*bufOp // reads, writes
	// fast is set for the channel and ideal DRAM models: transfers are
	// booked on the channels' FIFO servers directly and complete by timer,
	// one event per request instead of a message round trip per channel.
	fast     []*DRAMChannel
	lastDone [2]int64 // fast mode: completion of the last read / write
	lastHeld int64    // bytes held at the last occupancy sample

	FillBytes, DrainBytes int64
	TilesFilled           int64
	TilesDrained          int64
}

// Read has region r of t brought on chip and calls done when it is there
// (after every earlier read of this buffer).
func (b *Buffer) Read(t memory.Tensor, r memory.Region, step int, done func()) {
	op := &bufOp{start: b.Now(), step: step, done: done}
	b.begin(op)
	b.transfer(op, t, b.ReadBuf.Request(t, r), false)
	b.occupancy(b.ReadBuf.Held())
	b.finish(op)
}

// AccBegin prepares output region r (see AccReq) and calls done when any
// partial sums read back are on chip.
func (b *Buffer) AccBegin(psum memory.Tensor, r memory.Region, prior bool, step int, done func()) {
	op := &bufOp{start: b.Now(), step: step, done: done}
	b.begin(op)
	b.transfer(op, psum, b.Acc.Begin(psum, r, prior), false)
	b.occupancy(b.Acc.Held())
	b.finish(op)
}

// AccEnd retires output region r (see AccReq) and calls done when its
// writes are acknowledged.
func (b *Buffer) AccEnd(m *AccReq, done func()) {
	op := &bufOp{start: b.Now(), write: true, step: m.Step, done: done}
	b.begin(op)
	b.retire(op, m)
	b.finish(op)
}

func (b *Buffer) retire(op *bufOp, m *AccReq) {
	if !m.R.Empty() {
		for _, s := range b.Acc.End(m.Psum, m.R, m.Final) {
			b.transfer(op, m.Psum, s, true)
		}
		if m.Final {
			b.transfer(op, m.Out, m.R, true)
		}
	}
	if m.ExtraBytes > 0 {
		b.transferBytes(op, m.Extra, m.ExtraBytes, (m.ExtraBytes+b.requestBytes-1)/b.requestBytes, true)
	}
	b.occupancy(b.Acc.Held())
}

// begin queues op (message mode) so answers keep their order.
func (b *Buffer) begin(op *bufOp) {
	if b.fast == nil {
		b.enqueue(op)
	}
}

// finish schedules op's answer: in fast mode a timer at its completion
// (never before the previous request's), else when its transfers return.
func (b *Buffer) finish(op *bufOp) {
	if b.fast == nil {
		b.settle(op)
		return
	}
	q := 0
	if op.write {
		q = 1
	}
	at := max(b.Now(), op.readyAt, b.lastDone[q])
	b.lastDone[q] = at
	if op.bytes > 0 && b.TL != nil {
		name := "fill"
		if op.write {
			name = "drain"
		}
		b.TL.Slice(b.Name(), name, float64(op.start), float64(at), map[string]any{"bytes": op.bytes, "step": op.step})
	}
	b.At(at, op.done)
}

// bufOp is one request in flight.
type bufOp struct {
	rsp     sim.Msg
	done    func() // answer by call instead of message
	readyAt int64  // fast mode: when its transfers complete
	to      sim.RemotePort
	write   bool
	pending int
	start   int64
	bytes   int64
	step    int
}

// ReadReq asks a buffer to have region R of tensor T on chip.
type ReadReq struct {
	sim.MsgMeta
	T    memory.Tensor
	R    memory.Region
	Step int
}

// ReadRsp says the region is on chip.
type ReadRsp struct {
	sim.MsgMeta
	Req *ReadReq
}

// AccReq drives the accumulator buffer: Begin prepares output region R
// (reading back partial sums if Prior), End retires it (Final: written at
// the output width to Out; else kept, spilling older partial sums to Psum).
type AccReq struct {
	sim.MsgMeta
	Psum, Out    memory.Tensor
	R            memory.Region
	Begin        bool
	Prior, Final bool
	Extra        memory.Tensor // besides R, ExtraBytes written to Extra
	ExtraBytes   int64
	Step         int
}

// AccRsp completes an AccReq.
type AccRsp struct {
	sim.MsgMeta
	Req *AccReq
}

func (m *ReadReq) Meta() *sim.MsgMeta { return &m.MsgMeta }
func (m *ReadRsp) Meta() *sim.MsgMeta { return &m.MsgMeta }
func (m *AccReq) Meta() *sim.MsgMeta  { return &m.MsgMeta }
func (m *AccRsp) Meta() *sim.MsgMeta  { return &m.MsgMeta }
func (m *ReadReq) Clone() sim.Msg     { c := *m; return &c }
func (m *ReadRsp) Clone() sim.Msg     { c := *m; return &c }
func (m *AccReq) Clone() sim.Msg      { c := *m; return &c }
func (m *AccRsp) Clone() sim.Msg      { c := *m; return &c }

func newBuffer(name string, engine sim.Engine, freq sim.Freq, requestBytes int64, ledger *memory.Ledger) *Buffer {
	b := &Buffer{Node: NewNode(name, engine, freq), requestBytes: requestBytes, Ledger: ledger}
	b.OnMsg = b.handle
	return b
}

func (b *Buffer) handle(msg sim.Msg) {
	switch m := msg.(type) {
	case *ReadReq:
		op := &bufOp{rsp: &ReadRsp{Req: m}, to: m.Src, start: b.Now(), step: m.Step}
		b.enqueue(op)
		b.transfer(op, m.T, b.ReadBuf.Request(m.T, m.R), false)
		b.occupancy(b.ReadBuf.Held())
		b.settle(op)
	case *AccReq:
		op := &bufOp{rsp: &AccRsp{Req: m}, to: m.Src, start: b.Now(), write: !m.Begin, step: m.Step}
		b.enqueue(op)
		if m.Begin {
			b.transfer(op, m.Psum, b.Acc.Begin(m.Psum, m.R, m.Prior), false)
			b.occupancy(b.Acc.Held())
		} else {
			b.retire(op, m)
		}
		b.settle(op)
	case *MemRsp:
		op := m.Req.tag
		op.pending--
		b.settle(op)
	}
}

func (b *Buffer) enqueue(op *bufOp) {
	q := 0
	if op.write {
		q = 1
	}
	b.queues[q] = append(b.queues[q], op)
}

// settle answers, in order, every request at the head of op's queue whose
// transfers are done.
func (b *Buffer) settle(op *bufOp) {
	q := 0
	if op.write {
		q = 1
	}
	for len(b.queues[q]) > 0 && b.queues[q][0].pending == 0 {
		h := b.queues[q][0]
		b.queues[q] = b.queues[q][1:]
		if h.bytes > 0 && b.TL != nil {
			name := "fill"
			if h.write {
				name = "drain"
			}
			b.TL.Slice(b.Name(), name, float64(h.start), float64(b.Now()), map[string]any{"bytes": h.bytes, "step": h.step})
		}
		if h.done != nil {
			h.done()
		} else {
			b.Send(b.Peer(h.to), h.rsp)
		}
	}
}

// transfer moves region r of t between DRAM and the buffer.
func (b *Buffer) transfer(op *bufOp, t memory.Tensor, r memory.Region, write bool) {
	if r.Empty() {
		return
	}
	_, reqs := t.Runs(r, b.requestBytes)
	b.transferBytes(op, t, t.Bytes(r.Elems()), reqs, write)
}

func (b *Buffer) transferBytes(op *bufOp, t memory.Tensor, bytes, reqs int64, write bool) {
	b.Ledger.Book(t, bytes, reqs, write)
	if write {
		b.DrainBytes += bytes
		b.TilesDrained++
	} else {
		b.FillBytes += bytes
		b.TilesFilled++
	}
	b.send0(op, bytes, reqs, write)
}

// send0 spreads reqs requests carrying bytes over the channels, starting
// where the previous transfer stopped so small transfers still use every
// channel.
func (b *Buffer) send0(op *bufOp, bytes, reqs int64, write bool) {
	op.bytes += bytes
	if reqs <= 0 {
		return
	}
	nch := int64(len(b.channels))
	remaining := bytes
	for i := int64(0); i < nch && i < reqs; i++ {
		n := reqs / nch
		if i < reqs%nch {
			n++
		}
		part := bytes * n / reqs
		if i == min(nch, reqs)-1 {
			part = remaining
		}
		remaining -= part
		idx := (int64(b.NextChannel) + i) % nch
		if b.fast != nil && op.done != nil {
			op.readyAt = max(op.readyAt, b.fast[idx].book(part, n, write))
		} else {
			op.pending++
			b.Send(b.channels[idx], &MemReq{Bytes: part, Requests: n, Write: write, Addr: b.nextAddr, tag: op})
		}
		b.nextAddr += uint64(n * b.requestBytes)
	}
	b.NextChannel = int((int64(b.NextChannel) + reqs) % nch)
}

// occupancy records what the buffer holds. A step longer than a slot
// streams through the buffer a slot at a time, so the regions in use can
// add up to more than the capacity; the timeline bounds the counter by
// the capacity and records the peak asked for.
func (b *Buffer) occupancy(held int64) {
	if b.TL != nil {
		b.TL.Occupy(b.Name(), float64(b.Now()), held-b.lastHeld)
	}
	b.lastHeld = held
}

// TensorRegion is one part of a transfer: region R of tensor T.
type TensorRegion struct {
	T memory.Tensor
	R memory.Region
}

// Bytes is the useful bytes of the part.
func (p TensorRegion) Bytes() int64 { return p.T.Bytes(p.R.Elems()) }

// Stream moves the parts between DRAM and the buffer (reads, or writes
// when write is set) and calls done when all are there (after every
// earlier read, or write, of this buffer). Nothing is retained for reuse:
// the attention controller keeps a request's K and V lines only while the
// request runs (its own SRAM accounting), and between two requests of one
// head (the next generation step) every other head of the model passes
// through the SRAM, so nothing could survive.
func (b *Buffer) Stream(parts []TensorRegion, write bool, step int, done func()) {
	op := &bufOp{start: b.Now(), write: write, step: step, done: done}
	b.begin(op)
	for _, p := range parts {
		b.transfer(op, p.T, p.R, write)
	}
	b.finish(op)
}
