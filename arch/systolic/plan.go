package systolic

import (
	"fmt"
	"strings"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/mapping"
	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

// layerJob is a layer and how it runs.
type layerJob struct {
	layer      workloads.Layer
	plan       mapping.Plan
	dataflow   string
	pattern    nm.Pattern // the pattern the PEs execute
	maskGroups int64      // groups of pattern.M the mask unit sorts first
	tensors    layerTensors
	newSteps   func() stepper
	// keepInput: the previous layer's output stays on chip as this input.
	keepInput bool
	// prefetchNext: the next layer's first weights may come early.
	prefetchNext bool
	// mapping is how the mapper chose the schedule; searchKey finds the
	// search's record.
	mapping   arch.MappingChoice
	searchKey string
}

// bindMemory lays out every job's tensors and step walk, and decides
// which layers find their input on chip (memory.keep_activations: the
// previous inference layer's output has this input's size and fits the
// ifmap buffer whole).
func bindMemory(cfg *configs.Config, jobs []layerJob) error {
	for i := range jobs {
		j := &jobs[i]
		switch p := j.plan.(type) {
		case *mapping.Schedule:
			j.tensors = newLayerTensors(cfg, i, j.layer, p)
			fs, err := newFoldStepper(cfg, p, &j.tensors)
			if err != nil {
				return fmt.Errorf("layer %q: %w", j.layer.Name, err)
			}
			lt, chunk := &j.tensors, fs.chunk
			j.newSteps = func() stepper { return &foldStepper{s: p, lt: lt, chunk: chunk} }
		case *mapping.Elementwise:
			j.tensors = elementwiseTensors(cfg, i, j.layer, p)
			lt := &j.tensors
			j.newSteps = func() stepper { return &elementwiseStepper{e: p, lt: lt} }
		case *flashPlan:
			j.tensors = flashTensors(cfg, i, j.layer)
			lt := &j.tensors
			j.newSteps = func() stepper { return newFlashStepper(p, lt) }
		}
		j.prefetchNext = cfg.Memory.PrefetchNextLayer
		j.keepInput = i > 0 && KeepsInput(cfg, jobs[i-1].layer, j.layer)
	}
	return nil
}

// KeepsInput reports whether layer cur, run right after layer prev on the
// same engine, finds its whole input on chip (memory.keep_activations):
// both are inference layers with a weight operand, and prev's output has
// cur's input's elements and width and fits the ifmap buffer whole. It is
// the one rule for a workload on one engine (bindMemory) and for callers
// that run layers one at a time from a LayerMemo (StartAfter).
func KeepsInput(cfg *configs.Config, prev, cur workloads.Layer) bool {
	if !cfg.Memory.KeepActivations || prev.Phase != "" || cur.Phase != "" || !prev.WeightOperand || !cur.WeightOperand {
		return false
	}
	var p, c layerTensors
	p.setIO(cfg, 0, prev)
	c.setIO(cfg, 1, cur)
	out, in := p.t[arch.TensorOfmap], c.t[arch.TensorIfmap]
	return out.Elems() == in.Elems() && out.ElemBits == in.ElemBits && out.Size() <= int64(cfg.Buffers.IfmapKB*1024)
}

func arrayOf(cfg *configs.Config) mapping.Array {
	// Each unit has its own slots (its share of the shared buffers).
	slotDiv := float64(cfg.PEArray.Units)
	if cfg.Buffers.DoubleBuffered {
		slotDiv *= 2
	}
	kb := func(v float64) int64 { return int64(v * 1024 / slotDiv) }
	whole := func(v float64) int64 { return int64(v * 1024) }
	return mapping.Array{Rows: cfg.PEArray.Rows, Cols: cfg.PEArray.Cols, WordBytes: cfg.WordBytes(),
		PsumBytes: (cfg.AccBits() + 7) / 8, OutBytes: (cfg.OutBits() + 7) / 8, RequestBytes: cfg.DRAM.RequestBytes,
		SlotBytes: [3]int64{kb(cfg.Buffers.IfmapKB), kb(cfg.Buffers.FilterKB), kb(cfg.Buffers.OfmapKB)},
		// Resident tiles may use the whole buffer (memory.ReadBuffer and
		// AccumBuffer are sized so), as the engine the mapper drives does.
		KeepBytes:     [3]int64{whole(cfg.Buffers.IfmapKB), whole(cfg.Buffers.FilterKB), whole(cfg.Buffers.OfmapKB)},
		WeightBuffers: cfg.PEArray.WeightBuffers, Units: cfg.PEArray.Units}
}

// Plan tiles a dense layer with the configured dataflow (no sparsity, no
// training options): the SCALE-Sim-equivalent mapping.
func Plan(cfg *configs.Config, l workloads.Layer) (*mapping.Schedule, error) {
	return mapping.New(cfg.DataflowSpec(), arrayOf(cfg), mapping.Problem{M: l.M, N: l.N, K: l.K, Groups: l.Groups})
}

func groupsOf(k, cols int, p nm.Pattern) int64 {
	return int64((k+p.M-1)/p.M) * int64(cols)
}

// planWorkload decides, layer by layer, the sparsity pattern, where masks
// come from, which operands are shared (interleave mapping), and the
// dataflow and temporal mapping (the mapper, mapper.go).
func planWorkload(cfg *configs.Config, w workloads.Workload) ([]layerJob, error) {
	arr := arrayOf(cfg)
	jobs := make([]layerJob, len(w.Layers))
	probs := make([]mapping.Problem, len(w.Layers))
	dfs := dfsOf(cfg)
	var searches []searchTask
	for i, l := range w.Layers {
		job, err := jobFor(cfg, l)
		if err != nil {
			return nil, err
		}
		jobs[i] = job
		if l.Kind == workloads.KindAttnFused {
			// Fused attention has its own tiling (flash.go), not the
			// mapper's: its two products share tiles.
			p, err := newFlashPlan(cfg, arr, l, dfs)
			if err != nil {
				return nil, err
			}
			jobs[i].plan, jobs[i].dataflow = p, p.df.Name
			continue
		}
		if l.Phase == workloads.PhaseUpdate {
			continue
		}
		prob := problemOf(l, job)
		if cfg.SAT.InterleaveMapping && l.Phase == workloads.PhaseBackWeight && i > 0 &&
			w.Layers[i-1].Phase == workloads.PhaseBackData &&
			strings.TrimSuffix(w.Layers[i-1].Name, ".bwd_data") == strings.TrimSuffix(l.Name, ".bwd_weight") {
			// dW = Xᵀ·dY streams the dY tiles dX = dY·Wᵀ just used.
			prob.SharedFetch[dataflow.Filter] = true
		}
		probs[i] = prob
		searches = append(searches, searchTask{l, prob})
	}
	// Distinct layers are searched side by side (each search is
	// deterministic and alone on its engines, so the order does not
	// matter); the loop below then finds every answer cached.
	if err := presearch(cfg, arr, searches, dfs); err != nil {
		return nil, err
	}
	for i, l := range w.Layers {
		job := &jobs[i]
		if l.Kind == workloads.KindAttnFused {
			continue // planned above
		}
		if l.Phase == workloads.PhaseUpdate {
			job.plan, job.maskGroups = planUpdate(cfg, arr, l, job.pattern)
			job.dataflow = "-"
			continue
		}
		best, choice, err := chooseSchedule(cfg, arr, l, probs[i], dfs)
		if err != nil {
			return nil, fmt.Errorf("layer %q: %w", l.Name, err)
		}
		if !best.DF.CompressesK {
			job.maskGroups = 0
		}
		job.plan, job.dataflow, job.pattern, job.mapping = best, best.DF.Name, best.SparsityApplied(), choice
		job.searchKey = searchKey(cfg, l, probs[i], dfs)
	}
	return jobs, bindMemory(cfg, jobs)
}

// dfsOf is the dataflows the mapper may choose from: the configured one,
// or every one with dataflow: auto or SAT's offline scheduling (which is
// this search with the same cost).
func dfsOf(cfg *configs.Config) []dataflow.Dataflow {
	dfs := []dataflow.Dataflow{cfg.DataflowSpec()}
	if cfg.SAT.OfflineScheduling || cfg.Dataflow == configs.DataflowAuto {
		for _, d := range dataflow.All() {
			if d.Name != dfs[0].Name {
				dfs = append(dfs, d)
			}
		}
	}
	return dfs
}

// jobFor is layer l's job before its schedule is chosen: the N:M pattern
// and where its masks come from.
func jobFor(cfg *configs.Config, l workloads.Layer) (layerJob, error) {
	if err := l.Validate(); err != nil {
		return layerJob{}, err
	}
	pattern, err := cfg.LayerPattern(l.WeightOperand, l.NM)
	if err != nil {
		return layerJob{}, fmt.Errorf("layer %q: %w", l.Name, err)
	}
	job := layerJob{layer: l, pattern: pattern, dataflow: cfg.Dataflow}
	if l.Phase != "" && l.Phase != workloads.PhaseUpdate && !cfg.SAT.Pregenerate && !pattern.Dense() {
		// Masks made on the fly: dense weights come in and the mask
		// unit prunes and compresses them before the GEMM.
		job.maskGroups = groupsOf(l.K, l.N, pattern) * int64(l.Groups)
	}
	return job, nil
}

// problemOf is the GEMM the mapper tiles for a job.
func problemOf(l workloads.Layer, job layerJob) mapping.Problem {
	return mapping.Problem{M: l.M, N: l.N, K: l.K, Groups: l.Groups, Sparsity: job.pattern,
		FilterDenseInDRAM: job.maskGroups > 0}
}

// planUpdate is the weight update, plus with pre-generation the masks for
// both passes and the two compressed weight copies written back.
func planUpdate(cfg *configs.Config, arr mapping.Array, l workloads.Layer, p nm.Pattern) (mapping.Plan, int64) {
	elems := int64(l.M) * int64(l.N) * int64(l.Groups) // K×N weights
	var extra, groups int64
	if cfg.SAT.Pregenerate && !p.Dense() {
		wb := int64(cfg.WordBytes())
		fwd := int64(p.Kept(l.M)) * int64(l.N) // along K
		bwd := int64(p.Kept(l.N)) * int64(l.M) // along N
		for _, kept := range []int64{fwd, bwd} {
			extra += (kept*wb + (kept*int64(p.IndexBits())+7)/8) * int64(l.Groups)
		}
		groups = (groupsOf(l.M, l.N, p) + groupsOf(l.N, l.M, p)) * int64(l.Groups)
	}
	return mapping.NewElementwise(arr, elems, 2, extra), groups
}

// FilterFits reports whether layer l's K×N operand fits the filter buffer
// whole, so Layer.FilterOnChip keeps it off DRAM.
func FilterFits(cfg *configs.Config, l workloads.Layer) bool {
	return filterBytes(cfg, l) <= int64(cfg.Buffers.FilterKB*1024)
}

func filterBytes(cfg *configs.Config, l workloads.Layer) int64 {
	return (int64(l.K)*int64(l.N)*int64(l.Groups)*int64(8*cfg.WordBytes()) + 7) / 8
}

// holdFilter puts a FilterOnChip layer's operand in the filter buffer at
// the layer's start when it fits; else the layer streams it.
func holdFilter(rb *memory.ReadBuffer, j *layerJob, st *arch.LayerStats) {
	if !j.layer.FilterOnChip || rb == nil {
		return
	}
	ft := j.tensors.t[arch.TensorFilter]
	size := ft.Size()
	if j.tensors.meta {
		return // compressed weights with index metadata are not gathered
	}
	if size > rb.Capacity {
		return
	}
	rb.Hold(ft, ft.All())
	st.FilterHeld = true
	st.CompulsoryReadBytes -= size
}
