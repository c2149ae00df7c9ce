package inference

import (
	"strings"

	"runtime"
	"time"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/arch/systolic"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/energy"
	"github.com/sparsesim/sparsesim/inference/ops"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// LLM phases.
const (
	PhasePrefill  = "prefill"
	PhaseDecode   = "decode"
	PhaseGenerate = "generate"
)

// LLMOptions say what an LLM run does. Generate runs the prefill of Prompt
// tokens (which yields the first output token) and Gen−1 decode steps;
// decode alone runs Gen steps over a cache that already holds Prompt
// tokens; prefill runs the prompt only.
type LLMOptions struct {
	Phase              string
	Prompt, Gen, Batch int
	// NoMemo simulates every layer on one engine instead of reusing the
	// results of identical work.
	NoMemo bool
	// Seed drives MoE routing.
	Seed int64
	// RecordOps keeps every operator's measurements in LLMResult.Ops.
	RecordOps bool
	// FFN lowers decode steps' dense feed-forwards (activation sparsity,
	// actsparse_ffn.go); nil: dense.
	FFN func(prefix string, layer, step, tokens int) []ops.Op
	// Memo, when set, is the layer table to use (another run's on the
	// same config, whose identical layers are then not simulated again).
	Memo *systolic.LayerMemo
	// Attention, when set, lowers each decode step's attention instead of
	// the dense split-K GEMMs (KV-cache sparsity, inference/kvlower).
	Attention ops.AttentionLowering
	// Observe, when set, sees every operator's measurements as they are
	// made (a technique's own report, without keeping them all).
	Observe func(op ops.Op, rec OpRecord)
}

// MaxNoMemoLayers bounds the GEMM layers an unmemoized run puts on one
// engine (each needs its plan in memory at once).
const MaxNoMemoLayers = 200000

// MaxLLMSteps bounds prompt + generated tokens.
const MaxLLMSteps = 1 << 20

// stepSpecs lists the forward passes of a run.
func stepSpecs(cfg *configs.Config, m llm.Model, o LLMOptions) (prefill *ops.StepSpec, decode []ops.StepSpec) {
	base := ops.StepSpec{Batch: o.Batch, Seed: o.Seed, ChunkN: cfg.PEArray.Cols, ChunkK: cfg.PEArray.Rows,
		KVBits: configs.KVDTypeBits[cfg.KVCache.DType], WordBits: 8 * cfg.WordBytes()}
	if o.Phase != PhaseDecode {
		p := base
		p.Prefill, p.New, p.Context, p.Step = true, o.Prompt, o.Prompt, -1
		p.FlashKeys = flashKeys(cfg, m, p)
		prefill = &p
	}
	steps := o.Gen
	switch o.Phase {
	case PhasePrefill:
		steps = 0
	case PhaseGenerate:
		steps = o.Gen - 1
	}
	for t := 1; t <= steps; t++ {
		d := base
		d.New, d.Context, d.Step, d.Attention = 1, o.Prompt+t, t, o.Attention
		d.FFN = o.FFN
		if d.Attention == nil {
			d.FlashKeys = flashKeys(cfg, m, d)
		}
		decode = append(decode, d)
	}
	return prefill, decode
}

// flashKeys is the KV block step s's fused attention is tiled with, or 0
// to run it unfused: attention.fused is off, or not even one query's
// scores against one key fit the buffers (systolic.FlashTiling).
func flashKeys(cfg *configs.Config, m llm.Model, s ops.StepSpec) int {
	if !cfg.FusedAttention() {
		return 0
	}
	t, ok := systolic.FlashTiling(cfg, ops.FusedAttentionLayer(m, s, m.AttentionLength(s.Context)))
	if !ok {
		return 0
	}
	return t.Keys
}

// attentionLowering says how step s's attention runs (the report's
// per-phase "attention"): fused or unfused on the array, on the attention
// engine, or lowered by a KV-sparsity method.
func attentionLowering(cfg *configs.Config, s ops.StepSpec) string {
	switch {
	case s.Attention != nil && cfg.Attention.DecodeOnEngine:
		return "attention engine"
	case s.Attention != nil:
		return "kv_sparsity lowering (unfused)"
	case s.FlashKeys > 0:
		return "fused"
	case cfg.FusedAttention():
		return "unfused: no fused tile fits the buffers"
	}
	return "unfused"
}

// CheckLLM validates a run up front: phase, sizes, position limit, KV type
// and memory capacity.
func CheckLLM(cfg *configs.Config, m llm.Model, o LLMOptions) error {
	switch o.Phase {
	case PhasePrefill, PhaseDecode, PhaseGenerate:
	default:
		return usererr.New("--phase %s: unknown LLM phase (allowed: prefill, decode, generate)", o.Phase)
	}
	if o.Prompt < 1 || o.Batch < 1 || (o.Phase != PhasePrefill && o.Gen < 1) || o.Gen < 0 {
		return usererr.New("--prompt and --batch must be at least 1 and --gen at least 1 for decode and generate, got %d, %d, %d", o.Prompt, o.Batch, o.Gen)
	}
	if o.Prompt+o.Gen > MaxLLMSteps {
		return usererr.New("--prompt %d + --gen %d: more than the %d tokens a run is limited to", o.Prompt, o.Gen, MaxLLMSteps)
	}
	if lim := m.MaxPositionEmbeddings; lim > 0 && o.Prompt+o.Gen > lim {
		return usererr.New("--prompt %d + --gen %d: %s has max_position_embeddings %d", o.Prompt, o.Gen, m.Name, lim)
	}
	if cfg.Engine != "systolic" {
		return usererr.New("config %s: LLM phases run on a systolic engine, not %s", cfg.Name, cfg.Engine)
	}
	if err := CheckMoEKeys(cfg, m); err != nil {
		return err
	}
	if f := cfg.Attention.Fused; f != nil && *f && cfg.Attention.DecodeOnEngine && o.Phase == PhaseDecode {
		return usererr.New("config %s: attention.fused=true with attention.decode_on_engine: --phase decode runs every attention on the attention engine, so nothing reads attention.fused (prefill attention, in --phase prefill or generate, runs fused on the array); leave it unset", cfg.Name)
	}
	bits := configs.KVDTypeBits[cfg.KVCache.DType]
	if bits > 8*cfg.WordBytes() {
		return usererr.New("config %s: kv_cache.dtype %s (%d bits) is wider than pe_array.dtype %s (%d bits); the array computes on its operand width, so the cache may be as wide or narrower (widened on the way in), not wider",
			cfg.Name, cfg.KVCache.DType, bits, cfg.PEArray.DType, 8*cfg.WordBytes())
	}
	if err := m.CheckCapacity(int64(cfg.DRAM.CapacityGB*1e9), o.Batch, o.Prompt, o.Gen, cfg.WordBytes(), bits, o.Phase != PhaseDecode); err != nil {
		return usererr.New("config %s: %v", cfg.Name, err)
	}
	return nil
}

// CheckMoEKeys refuses a given moe.* key on a dense model: only
// mixture-of-experts models route, so it would run as if unset. The
// config alone cannot tell; this is where the model meets it.
func CheckMoEKeys(cfg *configs.Config, m llm.Model) error {
	if m.MoE() {
		return nil
	}
	if keys := cfg.ExplicitIn("moe"); len(keys) > 0 {
		return configs.NotRead(usererr.New("%s: %s is a dense model (no experts); moe.* is read only by mixture-of-experts models (e.g. %s)",
			keys[0], m.Name, strings.Join(moeZoo(), ", ")))
	}
	return nil
}

// moeZoo lists the zoo's mixture-of-experts models.
func moeZoo() []string {
	var out []string
	for _, n := range llm.Names() {
		if z, ok := llm.Lookup(n); ok && z.MoE() {
			out = append(out, n)
		}
	}
	return out
}

// SimulateLLM runs an LLM inference: the prompt's prefill, decode steps
// that each run every layer for one new token per sequence over the cache
// at that step's length, or both. Operators run one after another on a
// drained machine: GEMMs on the systolic engine (arch.LayerMemo or one
// accelerator for the whole run), vector operations and top-k on the vector
// unit.
func SimulateLLM(cfg *configs.Config, m llm.Model, o LLMOptions) (*LLMResult, error) {
	if err := CheckLLM(cfg, m, o); err != nil {
		return nil, err
	}
	start := time.Now()
	if o.Attention == nil && cfg.Attention.DecodeOnEngine {
		o.Attention = ops.EngineAttention{}
	}
	router, spec, err := newRouter(cfg, m, o)
	if err != nil {
		return nil, err
	}
	prefill, decode := stepSpecs(cfg, m, o)
	attachRouter(router, o, prefill, decode)
	res := &LLMResult{Config: cfg, Model: m, Options: o,
		Footprint: m.Footprint(o.Batch, o.Prompt, o.Gen, cfg.WordBytes(), configs.KVDTypeBits[cfg.KVCache.DType], o.Phase != PhaseDecode),
		MoE:       newMoEStats(m, spec)}
	var run runner
	if o.NoMemo || !systolic.Memoizable(cfg) {
		rr, events, err := runOneEngine(cfg, m, prefill, decode)
		if err != nil {
			return nil, err
		}
		run = rr
		res.Events = events
		defer func() { res.Events += rr.events }()
	} else {
		layers := o.Memo
		if layers == nil {
			layers = systolic.NewLayerMemo(cfg)
		}
		mr := &memoRunner{cfg: cfg, layers: layers, state: systolic.DrainedStart, vectors: map[arch.VectorJob]int64{}, gathers: map[arch.GatherSummary]int64{}, attns: map[ops.AttnSpec]engineAttention{}}
		run = mr
		// This run's own work, also when the table is shared.
		sim0, reused0, ev0 := layers.Simulated, layers.Reused, layers.Events
		if prefill != nil && cfg.DRAM.Channels == 1 && !cfg.Memory.KeepActivations {
			// With one channel and nothing kept on chip every operator
			// starts drained, so the prompt's distinct GEMMs (an MoE
			// prefill's experts each get their own token count) are
			// independent: simulate them side by side first.
			var ls []workloads.Layer
			for _, op := range ops.Lower(m, *prefill) {
				if op.Kind == ops.OpGEMM {
					ls = append(ls, op.Layer)
				}
			}
			if err := mr.layers.Precompute(ls, systolic.DrainedStart, runtime.GOMAXPROCS(0)); err != nil {
				return nil, err
			}
		}
		defer func() {
			res.Memoized = true
			res.Simulated = mr.layers.Simulated - sim0 + mr.sims
			res.Reused = mr.layers.Reused - reused0
			res.Events = mr.layers.Events - ev0 + mr.events
		}()
	}
	var buf []ops.Op // every step's operators, one after another
	if prefill != nil {
		if res.Prefill, err = newPhase(cfg); err != nil {
			return nil, err
		}
		res.Prefill.Attention = attentionLowering(cfg, *prefill)
		if _, err := runStep(cfg, m, *prefill, run, res.Prefill, res, &buf); err != nil {
			return nil, err
		}
		res.Prefill.finish()
	}
	if o.Phase != PhasePrefill {
		if res.Decode, err = newPhase(cfg); err != nil {
			return nil, err
		}
		if len(decode) > 0 {
			res.Decode.Attention = attentionLowering(cfg, decode[0])
		}
		for _, s := range decode {
			st, err := runStep(cfg, m, s, run, res.Decode, res, &buf)
			if err != nil {
				return nil, err
			}
			res.Steps = append(res.Steps, st)
		}
		res.Decode.finish()
	}
	res.MoE.flush()
	res.WallSeconds = time.Since(start).Seconds()
	return res, nil
}

// runStep measures one forward pass into ph, lowering it into *buf (a
// buffer the run reuses step after step).
func runStep(cfg *configs.Config, m llm.Model, s ops.StepSpec, run runner, ph *PhaseStats, res *LLMResult, buf *[]ops.Op) (StepStats, error) {
	st := StepStats{Context: m.AttentionLength(s.Context)}
	*buf = ops.Append((*buf)[:0], m, s)
	// overlap is the array time of the GEMMs just run that vector work
	// marked OverlapsArray can hide behind.
	var overlap int64
	for i := range *buf {
		op := &(*buf)[i]
		var rec OpRecord
		cs := &ph.Classes[classIndex(op.Class)]
		cs.Ops++
		// A gather's summary and a vector job are the operator's alone:
		// made once for all its repeats.
		var g arch.GatherSummary
		var j arch.VectorJob
		switch op.Kind {
		case ops.OpGather:
			g = summarizeOp(op.Gather, int64(cfg.DRAM.RequestBytes))
		case ops.OpGEMM, ops.OpAttention:
		default:
			j = jobOf(cfg, op)
		}
		// A repeated operator runs Repeat times, each measured as it
		// comes (the boundary state may move between them); runs the
		// runner knows to be alike come as one measurement and a count.
		reps := max(op.Repeat, 1)
		switch op.Kind {
		case ops.OpGEMM:
			if op.Layer.Kind == workloads.KindAttnFused {
				ph.AttentionFused = true
			}
			for left := reps; left > 0; {
				ls, times, err := run.gemmRuns(op.Layer, left)
				if err != nil {
					return st, err
				}
				left -= times
				k := int64(times)
				// Where a layer starts is the run's business, not the
				// layer's: the one-engine run counts GEMM time only.
				ls.StartCycle = 0
				rec.Cycles += k * ls.Elapsed
				b := opBytes(cfg, op, ls)
				rec.Bytes.add(Bytes{Weights: k * b.Weights, KV: k * b.KV, Activations: k * b.Activations})
				rec.Stats = ls
				cs.tally.Add(ph.meter.TallyLayer(ls, k))
				cs.ComputeCycles += k * ls.ComputeCycles
				cs.MACs += k * ls.MACs
			}
		case ops.OpAttention:
			for range reps {
				a, err := run.attention(*op.Attn)
				if err != nil {
					return st, err
				}
				rec.Cycles += a.Cycles
				rec.Bytes.add(a.Bytes)
				// The engine's keys, values, queries and outputs; its
				// on-chip work is not priced (PhaseStats.Energy).
				cs.tally.Add(energy.TallyDRAM(a.Bytes.Total(), 0))
				cs.ComputeCycles += a.Compute
				cs.MACs += 2 * int64(op.Attn.Batch) * int64(op.Attn.KVHeads) * int64(op.Attn.Group) * int64(op.Attn.Length) * int64(op.Attn.HeadDim)
			}
		case ops.OpGather:
			c, err := run.gatherRuns(g, reps)
			if err != nil {
				return st, err
			}
			k, req := int64(reps), int64(cfg.DRAM.RequestBytes)
			rec.Cycles += c
			rec.Gather.UsefulBytes += k * g.UsefulBytes
			rec.Gather.Requests += k * g.Requests
			rec.Bytes.add(gatherBytes(op.Gather.Bytes, k*g.UsefulBytes))
			// The gathered rows, and the rest of the bursts they came in.
			cs.tally.Add(energy.TallyDRAM(k*g.UsefulBytes, k*g.Requests*req))
			st.Gather.add(g, req, k)
		default:
			c, err := run.vectorRuns(j, reps)
			if err != nil {
				return st, err
			}
			k := int64(reps)
			if op.OverlapsArray {
				hidden := min(c, overlap)
				overlap -= hidden
				c -= hidden
			}
			rec.Cycles += c
			cs.ComputeCycles += k * j.Cycles
			if op.Kind == ops.OpVector {
				cs.MACs += k * op.Elems * int64(op.OpsPerElem)
			}
		}
		switch {
		case op.Kind == ops.OpGEMM:
			overlap += rec.Cycles
		case !op.OverlapsArray:
			overlap = 0
		}
		res.MoE.observe(*op, rec.Cycles, s.Prefill)
		cs.Cycles += rec.Cycles
		cs.Bytes.add(rec.Bytes)
		st.Cycles += rec.Cycles
		st.Bytes.add(rec.Bytes)
		if res.Options.RecordOps || res.Options.Observe != nil {
			rec.Step, rec.Name, rec.Class = s.Step, op.Name, op.Class
		}
		if res.Options.RecordOps {
			res.Ops = append(res.Ops, rec)
		}
		if res.Options.Observe != nil {
			res.Options.Observe(*op, rec)
		}
	}
	ph.Steps++
	ph.Cycles += st.Cycles
	ph.Bytes.add(st.Bytes)
	ph.Gather.Ops += st.Gather.Ops
	ph.Gather.UsefulBytes += st.Gather.UsefulBytes
	ph.Gather.TransferredBytes += st.Gather.TransferredBytes
	return st, nil
}
