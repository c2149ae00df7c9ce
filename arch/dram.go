package arch

import (
	"github.com/sarchlab/akita/v4/sim"

	"github.com/sparsesim/sparsesim/memory"
)

// DRAMChannel is the akita face of memory.Channel, the fast channel model
// (a FIFO server with fixed bandwidth and latency; ideal: instant).
type DRAMChannel struct {
	*Node
	memory.Channel
}

func newDRAMChannel(name string, engine sim.Engine, freq sim.Freq, ideal bool, bytesPerCycle float64, latency, requestBytes int64) *DRAMChannel {
	c := &DRAMChannel{Node: NewNode(name, engine, freq), Channel: memory.Channel{Ideal: ideal,
		BytesPerCycle: bytesPerCycle, Latency: latency, RequestBytes: requestBytes}}
	c.OnMsg = c.serve
	return c
}

// book puts a transfer on the channel now and returns when it is done.
func (c *DRAMChannel) book(bytes, requests int64, write bool) int64 {
	start, end, done := c.Transfer(float64(c.Now()), bytes, requests, write)
	if c.TL != nil {
		kind := "read"
		if write {
			kind = "write"
		}
		if c.Ideal {
			kind = "transfer"
		}
		c.TL.Slice(c.Name(), kind, start, end, map[string]any{"bytes": bytes, "requests": requests})
		if end > start {
			c.TL.Counter(c.Name()+" bandwidth", start, "GB/s", float64(bytes)/(end-start)*c.TL.clockMHz/1e3)
			c.TL.Counter(c.Name()+" bandwidth", end, "GB/s", 0)
		}
	}
	return done
}

func (c *DRAMChannel) serve(msg sim.Msg) {
	req := msg.(*MemReq)
	src := req.Src
	done := c.book(req.Bytes, req.Requests, req.Write)
	reply := func() { c.Send(c.Peer(src), &MemRsp{Req: req}) }
	if c.Ideal {
		reply()
		return
	}
	c.At(done, reply)
}
