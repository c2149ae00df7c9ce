package memory

import "math"

// Channel is the fast DRAM channel model: a FIFO server with a fixed
// bandwidth and latency. A transfer of r requests occupies the data bus
// for r·RequestBytes/BytesPerCycle cycles after the previous transfer,
// then completes Latency cycles later. Ideal channels (SCALE-Sim's CALC
// interface) complete every transfer at once.
type Channel struct {
	Ideal         bool
	BytesPerCycle float64
	Latency       int64
	RequestBytes  int64

	busyUntil float64

	ReadBytes, WriteBytes int64
	Requests              int64
	BusyCycles            float64
}

// Transfer books a transfer of bytes useful bytes in requests requests at
// cycle now and returns when the bus starts and ends it and when it is
// done (data returned or write acknowledged).
func (c *Channel) Transfer(now float64, bytes, requests int64, write bool) (start, end float64, done int64) {
	if write {
		c.WriteBytes += bytes
	} else {
		c.ReadBytes += bytes
	}
	c.Requests += requests
	if c.Ideal {
		return now, now, int64(math.Ceil(now - 1e-9))
	}
	service := float64(requests*c.RequestBytes) / c.BytesPerCycle
	start = math.Max(now, c.busyUntil)
	c.busyUntil = start + service
	c.BusyCycles += service
	return start, c.busyUntil, int64(math.Ceil(c.busyUntil-1e-9)) + c.Latency
}
