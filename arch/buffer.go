package arch

import (
	"github.com/sarchlab/akita/v4/sim"
)

// Buffer is an on-chip operand SRAM with its DMA engine: it fills tiles from
// DRAM and drains tiles to it, splitting each tile into transactions spread
// over the channels (interleaved at request granularity, starting where the
// previous tile stopped so small tiles still use every channel).
type Buffer struct {
	*node
	channels     []sim.Port
	requestBytes int64
	nextChannel  int
	nextAddr     uint64

	FillBytes, DrainBytes int64
	TilesFilled           int64
	TilesDrained          int64
}

// tileOp tracks one tile's outstanding channel requests.
type tileOp struct {
	req     *TileReq
	from    sim.RemotePort
	pending int
	start   int64
}

func newBuffer(name string, engine sim.Engine, freq sim.Freq, requestBytes int64) *Buffer {
	b := &Buffer{node: newNode(name, engine, freq), requestBytes: requestBytes}
	b.onMsg = b.handle
	return b
}

func (b *Buffer) handle(msg sim.Msg) {
	switch m := msg.(type) {
	case *TileReq:
		b.start(m)
	case *MemRsp:
		op := m.Req.tag
		op.pending--
		if op.pending == 0 {
			name := "fill"
			if op.req.Write {
				name = "drain"
			}
			b.tl.slice(b.Name(), name, float64(op.start), float64(b.now()), map[string]any{"bytes": op.req.Bytes, "fold": op.req.Fold})
			b.send(b.peer(op.from), &TileRsp{Req: op.req})
		}
	}
}

func (b *Buffer) start(t *TileReq) {
	if t.Write {
		b.DrainBytes += t.Bytes
		b.TilesDrained++
	} else {
		b.FillBytes += t.Bytes
		b.TilesFilled++
	}
	op := &tileOp{req: t, from: t.Src, start: b.now()}
	if !t.Write {
		b.tl.occupy(b.Name(), float64(b.now()), t.Bytes)
	}
	reqs := (t.Bytes + b.requestBytes - 1) / b.requestBytes
	nch := int64(len(b.channels))
	remaining := t.Bytes
	for i := int64(0); i < nch && i < reqs; i++ {
		n := reqs / nch
		if i < reqs%nch {
			n++
		}
		bytes := min(n*b.requestBytes, remaining)
		remaining -= bytes
		ch := b.channels[(int64(b.nextChannel)+i)%nch]
		op.pending++
		b.send(ch, &MemReq{Bytes: bytes, Requests: n, Write: t.Write, Addr: b.nextAddr, tag: op})
		b.nextAddr += uint64(bytes)
	}
	b.nextChannel = int((int64(b.nextChannel) + reqs) % nch)
	if op.pending == 0 { // an empty tile completes at once
		b.send(b.peer(op.from), &TileRsp{Req: t})
	}
}
