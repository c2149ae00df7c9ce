package inference

import (
	"fmt"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/arch/attention"
	"github.com/sparsesim/sparsesim/arch/systolic"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/inference/ops"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// runner measures operators, memoized or replayed from one engine.
type runner interface {
	// gemmRuns measures the next of left runs of l back to back: its
	// stats, and how many runs from it on (times ≤ left) are known to be
	// alike.
	gemmRuns(l workloads.Layer, left int) (ls arch.LayerStats, times int, err error)
	// vectorRuns and gatherRuns are the total cycles of n runs.
	vectorRuns(j arch.VectorJob, n int) (int64, error)
	gatherRuns(s arch.GatherSummary, n int) (int64, error)
	attention(s ops.AttnSpec) (engineAttention, error)
}

type memoRunner struct {
	cfg    *configs.Config
	layers *systolic.LayerMemo
	// state is the boundary state the last GEMM left and prev that GEMM
	// (nil before the first): with them each GEMM starts as it does on
	// the one engine runOneEngine puts every GEMM of the run on.
	state   systolic.BoundaryState
	prev    *workloads.Layer
	vectors map[arch.VectorJob]int64
	gathers map[arch.GatherSummary]int64
	attns   map[ops.AttnSpec]engineAttention
	events  int64
	sims    int64
}

func (r *memoRunner) gather(s arch.GatherSummary) (int64, error) {
	if c, ok := r.gathers[s]; ok {
		return c, nil
	}
	g, err := arch.SimulateGather(r.cfg, s)
	if err != nil {
		return 0, err
	}
	r.gathers[s] = g.Cycles
	r.events += g.Events
	r.sims++
	return g.Cycles, nil
}

// attention simulates each distinct decode attention once: every layer of
// a step has the same shape, and a fresh drained engine gives the same
// result whenever it runs.
func (r *memoRunner) attention(s ops.AttnSpec) (engineAttention, error) {
	if a, ok := r.attns[s]; ok {
		return a, nil
	}
	a, err := simulateEngineAttention(r.cfg, s)
	if err != nil {
		return a, err
	}
	r.attns[s] = a
	r.events += a.Events
	r.sims++
	return a, nil
}

// gemmRuns runs l from the boundary state the last GEMM left, with its
// input held on chip when the one-engine run keeps the last GEMM's output
// for it (systolic.StartAfter: memory.keep_activations). When the next run
// of l would start in the same state, every further run starts where this
// one did and is the table's answer again — counted as the reuses they
// are, not looked up one by one (a chunked attention repeats its
// operators tens of times a layer).
func (r *memoRunner) gemmRuns(l workloads.Layer, left int) (arch.LayerStats, int, error) {
	start := systolic.StartAfter(r.cfg, r.prev, l, r.state)
	st, _, end, err := r.layers.Layer(l, start)
	if err != nil {
		return st, 0, err
	}
	r.state, r.prev = end, &l
	if left > 1 && systolic.StartAfter(r.cfg, &l, l, end) == start {
		r.layers.Reused += int64(left - 1)
		return st, left, nil
	}
	return st, 1, nil
}

// vectorRuns and gatherRuns: a memoized job is the same every run.
func (r *memoRunner) vectorRuns(j arch.VectorJob, n int) (int64, error) {
	c, err := r.vector(j)
	return c * int64(n), err
}

func (r *memoRunner) gatherRuns(s arch.GatherSummary, n int) (int64, error) {
	c, err := r.gather(s)
	return c * int64(n), err
}

func (r *memoRunner) vector(j arch.VectorJob) (int64, error) {
	if c, ok := r.vectors[j]; ok {
		return c, nil
	}
	el, ev, err := arch.RunVectorJobs(r.cfg, []arch.VectorJob{j})
	if err != nil {
		return 0, err
	}
	r.vectors[j] = el[0]
	r.events += ev
	r.sims++
	return el[0], nil
}

// replayRunner hands out, in order, the results of one engine that ran
// every GEMM layer and one that ran every vector job.
type replayRunner struct {
	cfg     *configs.Config
	layers  []arch.LayerStats
	vectors []int64
	li, vi  int
	events  int64
}

// gather simulates every gather on its own drained machine: gathers
// never share an engine with GEMMs, as vector jobs do not.
func (r *replayRunner) gather(s arch.GatherSummary) (int64, error) {
	g, err := arch.SimulateGather(r.cfg, s)
	r.events += g.Events
	return g.Cycles, err
}

// attention simulates every decode attention on its own drained engine.
func (r *replayRunner) attention(s ops.AttnSpec) (engineAttention, error) {
	a, err := simulateEngineAttention(r.cfg, s)
	r.events += a.Events
	return a, err
}

func (r *replayRunner) gemm(l workloads.Layer) (arch.LayerStats, error) {
	if r.li >= len(r.layers) || r.layers[r.li].Layer != l {
		return arch.LayerStats{}, fmt.Errorf("LLM replay out of step at GEMM %d (%s)", r.li, l.Name)
	}
	r.li++
	return r.layers[r.li-1], nil
}

// gemmRuns, vectorRuns and gatherRuns replay each run: one engine's runs
// of the same layer need not be alike.
func (r *replayRunner) gemmRuns(l workloads.Layer, left int) (arch.LayerStats, int, error) {
	st, err := r.gemm(l)
	return st, 1, err
}

func (r *replayRunner) vectorRuns(j arch.VectorJob, n int) (int64, error) {
	var c int64
	for range n {
		x, err := r.vector(j)
		if err != nil {
			return 0, err
		}
		c += x
	}
	return c, nil
}

func (r *replayRunner) gatherRuns(s arch.GatherSummary, n int) (int64, error) {
	var c int64
	for range n {
		x, err := r.gather(s)
		if err != nil {
			return 0, err
		}
		c += x
	}
	return c, nil
}

func (r *replayRunner) vector(arch.VectorJob) (int64, error) {
	if r.vi >= len(r.vectors) {
		return 0, fmt.Errorf("LLM replay out of step at vector job %d", r.vi)
	}
	r.vi++
	return r.vectors[r.vi-1], nil
}

func jobOf(cfg *configs.Config, op *ops.Op) arch.VectorJob {
	if op.Kind == ops.OpTopK {
		return arch.VectorJob{TopK: true, Cycles: attention.TopKCycles(op.Rounds, cfg.Attention.TopKComparators)}
	}
	if op.PerCycle > 0 {
		return arch.VectorJob{Cycles: (op.Elems*int64(op.OpsPerElem) + op.PerCycle - 1) / op.PerCycle}
	}
	c, lat := arch.VectorCycles(cfg.Vector, op.Elems, op.OpsPerElem)
	return arch.VectorJob{Cycles: c, Latency: lat}
}

// opBytes splits a GEMM's DRAM traffic: the filter operand is weights, or
// the KV cache for attention; keys and values the QKV projection writes
// are KV; the rest (inputs, outputs, partial sums) is activations.
func opBytes(cfg *configs.Config, op *ops.Op, st arch.LayerStats) Bytes {
	var b Bytes
	b.Activations = st.DRAMReadByOperand[dataflow.Ifmap] + st.DRAMReadByOperand[dataflow.Ofmap]
	if f := st.DRAMReadByOperand[dataflow.Filter]; op.KVOperand {
		b.KV = f
	} else {
		b.Weights = f
	}
	w := st.DRAMWriteBytes
	if op.KVWriteCols > 0 {
		// The appended keys and values, once; partial sums the array
		// writes back before the last K fold stay activations.
		bits := int64(cfg.OutBits())
		if op.Layer.OutBits > 0 {
			bits = int64(op.Layer.OutBits)
		}
		kv := min(w, (int64(op.Layer.M)*int64(op.KVWriteCols)*int64(op.Layer.Groups)*bits+7)/8)
		b.KV += kv
		w -= kv
	}
	b.Activations += w
	return b
}

// runOneEngine is the unmemoized reference: every GEMM layer of the run on
// one accelerator, in order, and every vector job on one vector unit.
func runOneEngine(cfg *configs.Config, m llm.Model, prefill *ops.StepSpec, decode []ops.StepSpec) (*replayRunner, int64, error) {
	var w workloads.Workload
	var jobs []arch.VectorJob
	specs := decode
	if prefill != nil {
		specs = append([]ops.StepSpec{*prefill}, decode...)
	}
	var step []ops.Op
	for _, s := range specs {
		step = ops.Append(step[:0], m, s)
		for _, op := range step {
			if op.Kind == ops.OpGather || op.Kind == ops.OpAttention {
				continue // on drained machines of their own (replayRunner.gather, .attention)
			}
			for range max(op.Repeat, 1) - 1 { // the repeats, then the op itself
				if op.Kind == ops.OpGEMM {
					w.Layers = append(w.Layers, op.Layer)
				} else {
					jobs = append(jobs, jobOf(cfg, &op))
				}
			}
			if op.Kind == ops.OpGEMM {
				w.Layers = append(w.Layers, op.Layer)
				if len(w.Layers) > MaxNoMemoLayers {
					why := "--no-memo"
					if !systolic.Memoizable(cfg) {
						why = "config " + cfg.Name + " (detailed DRAM or SAT interleave mapping cannot be memoized)"
					}
					return nil, 0, usererr.New("%s: the run has more than %d GEMM layers to put on one engine; shorten --prompt/--gen", why, MaxNoMemoLayers)
				}
			} else {
				jobs = append(jobs, jobOf(cfg, &op))
			}
		}
	}
	w.Name = m.Name
	a, err := systolic.Build(cfg)
	if err != nil {
		return nil, 0, err
	}
	r, err := a.Run(w)
	if err != nil {
		return nil, 0, err
	}
	el, ev, err := arch.RunVectorJobs(cfg, jobs)
	if err != nil {
		return nil, 0, err
	}
	return &replayRunner{cfg: cfg, layers: r.Layers, vectors: el}, r.Events + ev, nil
}
