package inference

import (
	"github.com/sparsesim/sparsesim/arch/systolic"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/inference/kvlower"
	"github.com/sparsesim/sparsesim/inference/ops"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads/kvsparse"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// KVKinds splits what a KV-sparsity method reads in decode attention:
// cached K/V rows (packed values for mustafar), metadata (Quest page
// bounds, Mustafar bitmaps), the label cache, indexer keys (and HISA
// block keys) — useful bytes — and the burst waste on top of them (bytes
// the DRAM requests moved beyond the useful ones).
type KVKinds struct {
	KV          int64 `json:"kv"`
	Metadata    int64 `json:"metadata"`
	LabelCache  int64 `json:"label_cache"`
	Indexer     int64 `json:"indexer"`
	WastedBurst int64 `json:"wasted_burst"`
}

func (k *KVKinds) add(o KVKinds) {
	k.KV += o.KV
	k.Metadata += o.Metadata
	k.LabelCache += o.LabelCache
	k.Indexer += o.Indexer
	k.WastedBurst += o.WastedBurst
}

// Read is every byte the DRAM moved for the method's reads.
func (k KVKinds) Read() int64 { return k.KV + k.Metadata + k.LabelCache + k.Indexer + k.WastedBurst }

// KVStep is one decode step of a KV-sparsity run: Bytes read, Written
// (the new token's metadata, label-cache row and index keys; KV is 0
// there: the K/V appends are the dense decode's).
type KVStep struct {
	Context         int
	Bytes, Written  KVKinds
	AttentionCycles int64
}

// KVResult is a KV-sparsity decode beside the dense decode of the same
// run.
type KVResult struct {
	Plan          *kvsparse.Plan
	Dense, Sparse *LLMResult
	// Bytes and Written total the decode steps; DenseKV is the dense attention's
	// K/V reads over the same steps.
	Bytes, Written KVKinds
	DenseKV        int64
	Steps          []KVStep
	// Attention cycles over the decode (the attention class: selection
	// work, gathers and the attention products).
	AttentionCycles, DenseAttentionCycles int64
	KernelSeconds                         float64
}

// CheckKVSparse refuses runs the KV-sparsity model does not cover.
func CheckKVSparse(cfg *configs.Config, m llm.Model, o LLMOptions) error {
	if o.Phase == PhasePrefill {
		return usererr.New("kv_sparsity.method %s acts on decode steps; --phase prefill has none (use decode or generate)", cfg.KVSparsity.Method)
	}
	if m.SlidingWindow > 0 && m.SlidingWindow < o.Prompt+o.Gen {
		return usererr.New("kv_sparsity.method %s: %s has a %d-token sliding window shorter than the run's context; KV sparsity with a sliding window is not modelled",
			cfg.KVSparsity.Method, m.Name, m.SlidingWindow)
	}
	// The kernels would sample every layer (head) there is and report
	// fewer than asked for: refuse instead of clamping silently.
	if k := cfg.KVSparsity; k.SampleLayers > m.NumHiddenLayers {
		return usererr.New("kv_sparsity.sample_layers=%d: %s has %d decoder layers; set at most %d", k.SampleLayers, m.Name, m.NumHiddenLayers, m.NumHiddenLayers)
	}
	if k := cfg.KVSparsity; k.SampleHeads > m.KVHeads() {
		return usererr.New("kv_sparsity.sample_heads=%d: %s has %d KV heads per layer; set at most %d", k.SampleHeads, m.Name, m.KVHeads(), m.KVHeads())
	}
	if cfg.KVSparsity.Method == configs.KVDoubleSparsity && cfg.KVSparsity.Channels > m.HeadSize() {
		return usererr.New("kv_sparsity.channels %d: more label channels than %s's head_dim %d", cfg.KVSparsity.Channels, m.Name, m.HeadSize())
	}
	if cfg.Attention.DecodeOnEngine {
		return usererr.New("kv_sparsity.method %s: with attention.decode_on_engine the decode attention runs on the attention engine; KV sparsity is modelled on the array (set attention.decode_on_engine=false)", cfg.KVSparsity.Method)
	}
	if o.Phase == PhaseGenerate && o.Gen < 2 {
		return usererr.New("kv_sparsity.method %s: --phase generate --gen %d has no decode step (use --gen 2 or more)", cfg.KVSparsity.Method, o.Gen)
	}
	return nil
}

// KVDecodeSteps is the decode steps of a run (generate's first token
// comes from the prefill).
func KVDecodeSteps(o LLMOptions) int {
	if o.Phase == PhaseGenerate {
		return o.Gen - 1
	}
	return o.Gen
}

// SimulateKVSparse runs the configured method's reference kernels on
// their samples (in parallel with the dense decode it is compared with),
// then the decode with every layer's attention lowered by the method —
// started once the selections are made and the dense decode is done,
// while the kernels' last quality measurements finish beside it.
func SimulateKVSparse(cfg *configs.Config, m llm.Model, o LLMOptions) (*KVResult, error) {
	return SimulateKVSparsePlan(cfg, m, o, nil)
}

// SimulateKVSparsePlan is SimulateKVSparse with the selections of replay
// (a recorded trace, kvsparse.ReplayPlan) instead of running the kernels,
// when replay is not nil.
func SimulateKVSparsePlan(cfg *configs.Config, m llm.Model, o LLMOptions, replay *kvsparse.Plan) (*KVResult, error) {
	if err := CheckLLM(cfg, m, o); err != nil {
		return nil, err
	}
	if err := CheckKVSparse(cfg, m, o); err != nil {
		return nil, err
	}
	steps := KVDecodeSteps(o)
	type planned struct {
		pl  *kvsparse.Plan
		err error
	}
	ch := make(chan planned, 1)
	go func() {
		if replay != nil {
			ch <- planned{replay, nil}
			return
		}
		// The plan is handed over once its selections are made: its last
		// quality measurements run on beside the sparse decode, which
		// reads selections only.
		pl, err := kvsparse.StartPlan(cfg.KVSetup(), m, o.Prompt, steps)
		ch <- planned{pl, err}
	}()
	r := &KVResult{}
	do := o
	do.Attention, do.RecordOps = nil, false
	if o.Memo == nil {
		// The sparse run copies the dense run's GEMMs (projections, FFN,
		// LM head: a second of lm_head alone at 8B) instead of simulating
		// them again, its counters unchanged (LayerMemo.Borrow).
		do.Memo = systolic.NewLayerMemo(cfg)
	}
	do.Observe = func(op ops.Op, rec OpRecord) {
		if rec.Step >= 0 && op.Class == ops.ClassAttention {
			r.DenseAttentionCycles += rec.Cycles
			r.DenseKV += rec.Bytes.KV
		}
	}
	dense, err := SimulateLLM(cfg, m, do)
	pr := <-ch
	if err != nil {
		return nil, err
	}
	if pr.err != nil {
		return nil, usererr.New("%v", pr.err)
	}
	r.Plan, r.Dense = pr.pl, dense
	r.Steps = make([]KVStep, steps)
	so := o
	so.Attention = kvlower.New(pr.pl)
	if o.Memo == nil {
		so.Memo = systolic.NewLayerMemo(cfg)
		so.Memo.Borrow(do.Memo)
	}
	rb := int64(cfg.DRAM.RequestBytes)
	so.Observe = func(op ops.Op, rec OpRecord) {
		if rec.Step < 1 || op.Class != ops.ClassAttention {
			return
		}
		st := &r.Steps[rec.Step-1]
		st.AttentionCycles += rec.Cycles
		var k KVKinds
		if op.Kind == ops.OpGather {
			u := rec.Gather.UsefulBytes
			switch op.Gather.Tag {
			case kvlower.TagMetadata:
				k.Metadata = u
			case kvlower.TagLabelCache:
				k.LabelCache = u
			case kvlower.TagIndexer:
				k.Indexer = u
			default:
				k.KV = u
			}
			k.WastedBurst = rec.Gather.WastedBytes(rb)
		} else if op.Kind == ops.OpGEMM && op.KVOperand {
			// An operand too big for the filter buffer streams from DRAM.
			k.KV = rec.Bytes.KV
		}
		if op.Kind == ops.OpGather && op.Gather.Write {
			st.Written.add(k)
		} else {
			st.Bytes.add(k)
		}
	}
	sparse, err := SimulateLLM(cfg, m, so)
	r.KernelSeconds = pr.pl.Wait()
	if err != nil {
		return nil, err
	}
	r.Sparse = sparse
	for i := range r.Steps {
		r.Steps[i].Context = sparse.Steps[i].Context
		r.Bytes.add(r.Steps[i].Bytes)
		r.Written.add(r.Steps[i].Written)
		r.AttentionCycles += r.Steps[i].AttentionCycles
	}
	return r, nil
}
