package arch

import (
	"math"

	"github.com/sarchlab/akita/v4/sim"
)

// DRAMChannel is the fast channel model: a FIFO server with a fixed
// bandwidth and latency. A request of r transactions occupies the channel
// for r·request_bytes / bytes_per_cycle cycles after the previous one, then
// answers latency cycles later. Ideal mode (zero latency, unbounded
// bandwidth) is SCALE-Sim's CALC interface.
type DRAMChannel struct {
	*node
	ideal         bool
	bytesPerCycle float64
	latency       int64
	requestBytes  int64
	// The data bus frees at cycle busyBase + busyOff (fractional). The
	// busy period's integer start is kept apart from the fractional time
	// into it, so rounding depends only on the time since the bus was last
	// idle, never on the absolute cycle: a layer that starts on an idle
	// channel times the same whenever it runs (arch/memo.go relies on it).
	busyBase int64
	busyOff  float64

	ReadBytes, WriteBytes int64
	Transactions          int64
	BusyCycles            float64
}

func newDRAMChannel(name string, engine sim.Engine, freq sim.Freq, ideal bool, bytesPerCycle float64, latency, requestBytes int64) *DRAMChannel {
	c := &DRAMChannel{node: newNode(name, engine, freq), ideal: ideal,
		bytesPerCycle: bytesPerCycle, latency: latency, requestBytes: requestBytes}
	c.onMsg = c.serve
	return c
}

func (c *DRAMChannel) serve(msg sim.Msg) {
	req := msg.(*MemReq)
	if req.Write {
		c.WriteBytes += req.Bytes
	} else {
		c.ReadBytes += req.Bytes
	}
	c.Transactions += req.Requests
	src := req.Src
	reply := func() { c.send(c.peer(src), &MemRsp{Req: req}) }
	if c.ideal {
		now := float64(c.now())
		c.tl.slice(c.Name(), "transfer", now, now, map[string]any{"bytes": req.Bytes, "requests": req.Requests})
		reply()
		return
	}
	service := float64(req.Requests*c.requestBytes) / c.bytesPerCycle
	// Idle with the same tolerance the reply time is rounded with: once
	// every reply is back the bus counts as free, so a layer that starts
	// after the previous one's last reply always opens a new busy period.
	if now := c.now(); float64(now-c.busyBase) >= c.busyOff-1e-9 {
		c.busyBase, c.busyOff = now, 0 // idle: a new busy period starts now
	}
	startOff := c.busyOff
	c.busyOff += service
	c.BusyCycles += service
	if c.tl != nil {
		kind := "read"
		if req.Write {
			kind = "write"
		}
		start, end := float64(c.busyBase)+startOff, float64(c.busyBase)+c.busyOff
		c.tl.slice(c.Name(), kind, start, end, map[string]any{"bytes": req.Bytes, "requests": req.Requests})
		c.tl.counter(c.Name()+" bandwidth", start, "GB/s", float64(req.Bytes)/service*c.tl.clockMHz/1e3)
		c.tl.counter(c.Name()+" bandwidth", end, "GB/s", 0)
	}
	c.at(c.busyBase+int64(math.Ceil(c.busyOff-1e-9))+c.latency, reply)
}
