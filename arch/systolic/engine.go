package systolic

import (
	"errors"
	"fmt"
	"time"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
)

// Accelerator is the systolic engine wired on the shared components: its
// controller (which times the PE array) and the N:M mask unit, in front
// of the buffers and DRAM channels arch adds.
type Accelerator struct {
	*arch.Accelerator
	controller *Controller
	mask       *arch.MaskUnit
	// keepFirstInput starts the first layer with its input on chip (a
	// memoized layer whose predecessor's output stayed).
	keepFirstInput bool
}

// Build wires a systolic accelerator for cfg. The controller and the mask
// unit are plugged in before the memory, as they always were: the wire
// delivers same-instant messages in plug-in order.
func Build(cfg *configs.Config) (*Accelerator, error) {
	a := &Accelerator{Accelerator: arch.New(cfg)}
	slots := 1
	if cfg.Buffers.DoubleBuffered {
		slots = 2
	}
	// Each unit has its slots of the shared buffers (plan.arrayOf).
	slots *= cfg.PEArray.Units
	a.controller = newController("Accel.Controller", a.Engine, a.Freq, slots)
	a.controller.xbarLatency = int64(cfg.Interconnect.LatencyCycles)
	a.controller.xbarBytes = cfg.PortBytes()
	a.Plug(a.controller.Node)
	// The PE array is the controller's own timed resource (one timer per
	// step); its track on the timeline keeps the array's name.
	a.controller.peName = "Accel.PEArray"
	a.mask = arch.NewMaskUnit("Accel.MaskUnit", a.Engine, a.Freq, cfg.Sparsity.MaskUnitLanes)
	a.Plug(a.mask.Node)
	a.controller.mask = a.mask.Port
	a.AddMemory(arch.NumTensorKinds)
	a.controller.ledger = a.Ledger
	for o, b := range a.Buffers {
		a.controller.bufs[o] = b
	}
	return a, nil
}

// Run simulates the workload to completion.
func (a *Accelerator) Run(w workloads.Workload) (*arch.Result, error) {
	jobs, err := planWorkload(a.Cfg, w)
	if err != nil {
		return nil, err
	}
	return a.runJobs(w, jobs)
}

// runJobs runs planned layers to completion.
func (a *Accelerator) runJobs(w workloads.Workload, jobs []layerJob) (*arch.Result, error) {
	if a.keepFirstInput && len(jobs) > 0 {
		jobs[0].keepInput = true
	}
	a.controller.jobs = jobs
	start := time.Now()
	a.controller.start()
	if err := a.Engine.Run(); err != nil {
		return nil, err
	}
	wall := time.Since(start).Seconds()
	if a.controller.Aborted {
		return nil, errAborted
	}
	if !a.controller.Finished {
		return nil, fmt.Errorf("simulation stalled: the event queue drained with layer %d of %d unfinished (a lost wake-up in the model)",
			a.controller.cur+1, len(a.controller.jobs))
	}
	return a.Result(w, a.controller.Stats, wall), nil
}

// errAborted is a run stopped at its cycle limit (a mapper candidate
// that cannot win).
var errAborted = errors.New("run passed its cycle limit")

// Simulate builds a systolic accelerator for cfg and runs w's GEMM layers
// on it (arch/engines picks the engine a config names).
func Simulate(cfg *configs.Config, w workloads.Workload) (*arch.Result, error) {
	return SimulateTimeline(cfg, w, nil)
}

// SimulateTimeline is Simulate recording into tl (nil: no timeline).
func SimulateTimeline(cfg *configs.Config, w workloads.Workload, tl *arch.Timeline) (*arch.Result, error) {
	if len(w.Attention) > 0 {
		return nil, fmt.Errorf("workload %s has attention rows: the systolic engine runs GEMM layers (arch/engines dispatches)", w.Name)
	}
	a, err := Build(cfg)
	if err != nil {
		return nil, err
	}
	if tl != nil {
		a.WithTimeline(tl)
	}
	return a.Run(w)
}

// IsSparse reports whether cfg or any layer of w asks for N:M weights.
func IsSparse(cfg *configs.Config, w workloads.Workload) bool {
	if !cfg.Pattern().Dense() {
		return true
	}
	for _, l := range w.Layers {
		if l.NM != "" && l.NM != "dense" {
			return true
		}
	}
	return false
}

// DenseBaseline is the same architecture and workload with every weight
// dense: the reference a sparse run's speedup is measured against.
func DenseBaseline(cfg *configs.Config, w workloads.Workload) (*configs.Config, workloads.Workload) {
	c := *cfg
	c.Sparsity.NM = "dense"
	d := w
	d.Layers = append([]workloads.Layer(nil), w.Layers...)
	for i := range d.Layers {
		d.Layers[i].NM = ""
	}
	return &c, d
}
