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

	// The bus frees at cycle busyBase + busyOff. Keeping the busy period's
	// integer start apart from the fractional time into it makes rounding
	// depend only on the time since the bus was last idle, never on the
	// absolute cycle: a layer that starts on an idle channel times the
	// same whenever it runs (exact memoization relies on it).
	busyBase int64
	busyOff  float64

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
	// Idle with the tolerance completion times are rounded with.
	if cyc := int64(math.Ceil(now - 1e-9)); float64(cyc-c.busyBase) >= c.busyOff-1e-9 {
		c.busyBase, c.busyOff = cyc, 0
	}
	startOff := c.busyOff
	c.busyOff += service
	c.BusyCycles += service
	start, end = float64(c.busyBase)+startOff, float64(c.busyBase)+c.busyOff
	return start, end, c.busyBase + int64(math.Ceil(c.busyOff-1e-9)) + c.Latency
}
