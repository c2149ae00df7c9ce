package arch

import (
	"github.com/sarchlab/akita/v4/sim"

	"github.com/sparsesim/sparsesim/memory"
)

// DRAMChannel is the akita face of memory.Channel, the fast channel model
// (a FIFO server with fixed bandwidth and latency; ideal: instant).
type DRAMChannel struct {
	*node
	memory.Channel
}

func newDRAMChannel(name string, engine sim.Engine, freq sim.Freq, ideal bool, bytesPerCycle float64, latency, requestBytes int64) *DRAMChannel {
	c := &DRAMChannel{node: newNode(name, engine, freq), Channel: memory.Channel{Ideal: ideal,
		BytesPerCycle: bytesPerCycle, Latency: latency, RequestBytes: requestBytes}}
	c.onMsg = c.serve
	return c
}

// book puts a transfer on the channel now and returns when it is done.
func (c *DRAMChannel) book(bytes, requests int64, write bool) int64 {
	start, end, done := c.Transfer(float64(c.now()), bytes, requests, write)
	if c.tl != nil {
		kind := "read"
		if write {
			kind = "write"
		}
		if c.Ideal {
			kind = "transfer"
		}
		c.tl.slice(c.Name(), kind, start, end, map[string]any{"bytes": bytes, "requests": requests})
		if end > start {
			c.tl.counter(c.Name()+" bandwidth", start, "GB/s", float64(bytes)/(end-start)*c.tl.clockMHz/1e3)
			c.tl.counter(c.Name()+" bandwidth", end, "GB/s", 0)
		}
	}
	return done
}

func (c *DRAMChannel) serve(msg sim.Msg) {
	req := msg.(*MemReq)
	src := req.Src
	done := c.book(req.Bytes, req.Requests, req.Write)
	reply := func() { c.send(c.peer(src), &MemRsp{Req: req}) }
	if c.Ideal {
		reply()
		return
	}
	c.at(done, reply)
}
