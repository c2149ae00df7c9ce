package arch

import (
	"fmt"

	"github.com/sarchlab/akita/v4/sim"

	"github.com/sparsesim/sparsesim/configs"
)

// VectorCycles is the vector unit's timing model: elems·opsPerElem
// operations at lanes × ops_per_cycle a cycle occupy the unit, and the
// last result leaves latency_cycles later.
func VectorCycles(v configs.VectorUnit, elems int64, opsPerElem int) (busy, latency int64) {
	per := int64(v.Lanes) * int64(v.OpsPerCycle)
	return (elems*int64(opsPerElem) + per - 1) / per, int64(v.LatencyCycles)
}

// VectorJob is one operation for the vector unit or the top-k engine.
type VectorJob struct {
	TopK            bool
	Cycles, Latency int64
}

// vectorDriver issues vector jobs one after another, each when the previous
// one's result is back (layer boundaries drain the machine), and records
// each job's elapsed cycles.
type vectorDriver struct {
	*Node
	vector, topK sim.Port
	jobs         []VectorJob
	cur          int
	issued       int64
	Elapsed      []int64
}

func (d *vectorDriver) issue() {
	if d.cur >= len(d.jobs) {
		return
	}
	j := d.jobs[d.cur]
	dst := d.vector
	if j.TopK {
		dst = d.topK
	}
	d.issued = d.Now()
	d.Send(dst, &ComputeReq{Fold: d.cur, Cycles: j.Cycles, Latency: j.Latency})
}

func (d *vectorDriver) handle(msg sim.Msg) {
	if _, ok := msg.(*ComputeRsp); !ok {
		panic(fmt.Sprintf("%s: unexpected %T", d.Name(), msg))
	}
	d.Elapsed = append(d.Elapsed, d.Now()-d.issued)
	d.cur++
	d.issue()
}

// RunVectorJobs simulates jobs in order on one engine holding the vector
// unit and the top-k engine (both akita components, one event per job) and
// returns each job's elapsed cycles and the events it took.
func RunVectorJobs(cfg *configs.Config, jobs []VectorJob) ([]int64, int64, error) {
	engine := sim.NewSerialEngine()
	var events eventCounter
	engine.AcceptHook(&events)
	freq := sim.Freq(cfg.ClockMHz * 1e6)
	conn := newWire("Accel.VectorWire", engine)
	plug := func(n *Node) { n.dir = conn.byName; conn.PlugIn(n.Port) }
	vec := NewUnit("Accel.VectorUnit", engine, freq)
	plug(vec.Node)
	topk := NewUnit("Accel.TopKEngine", engine, freq)
	plug(topk.Node)
	d := &vectorDriver{Node: NewNode("Accel.VectorDriver", engine, freq), vector: vec.Port, topK: topk.Port, jobs: jobs}
	d.OnMsg = d.handle
	plug(d.Node)
	d.At(0, d.issue)
	if err := engine.Run(); err != nil {
		return nil, 0, err
	}
	if len(d.Elapsed) != len(jobs) {
		return nil, 0, fmt.Errorf("vector unit stalled after %d of %d jobs (a lost wake-up in the model)", len(d.Elapsed), len(jobs))
	}
	return d.Elapsed, events.n, nil
}
