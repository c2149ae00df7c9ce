package inference

import (
	"reflect"
	"testing"

	"github.com/sparsesim/sparsesim/inference/ops"
	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// gatherLowering is a test attention: every KV head's keys of every
// third token gathered, then a QKᵀ over them from the filter buffer.
type gatherLowering struct{}

func (gatherLowering) Attention(m llm.Model, layer int, p string, s ops.StepSpec, L int) []ops.Op {
	hd, kv := m.HeadSize(), m.KVHeads()
	cache := memory.Tensor{Name: "k", Pixels: int64(L), Channels: int64(kv * hd), ElemBits: 16}
	var pix []memory.Span
	n := 0
	for t := 0; t < L; t += 3 {
		pix = append(pix, memory.Span{Lo: int64(t), Hi: int64(t + 1)})
		n++
	}
	g := ops.GatherOp(ops.ClassAttention, p+"k_gather", ops.Gather{Tensor: cache, Bytes: ops.BytesKV,
		Rows: memory.NewRegion([]memory.Seg{{C: memory.Span{Lo: 0, Hi: int64(kv * hd)}, Pix: pix}})})
	qk := ops.Op{Kind: ops.OpGEMM, Class: ops.ClassAttention, Name: p + "qk", KVOperand: true,
		Layer: workloads.Layer{Name: p + "qk", Kind: "attn_qk", M: m.QueryGroup(), N: n, K: hd, Groups: kv, FilterOnChip: true}}
	return []ops.Op{g, qk}
}

// TestLLMGatherMemoEqualsOneEngine: a decode whose attention gathers
// rows gives the same operators memoized and unmemoized, and the gathered
// bytes are the KV split's share with no filter reads by the GEMM.
func TestLLMGatherMemoEqualsOneEngine(t *testing.T) {
	cfg := loadCfg(t, "llm-128x128", "dram.channels=4", "dram.bandwidth_gbps=204.8")
	m := zooModel(t, "llama-3.2-1b")
	o := LLMOptions{Phase: PhaseDecode, Prompt: 40, Gen: 3, Batch: 1, RecordOps: true, Attention: gatherLowering{}}
	memo, one := memoAndOneEngine(t, cfg, m, o)
	if len(memo.Ops) != len(one.Ops) || !reflect.DeepEqual(memo.Steps, one.Steps) || !reflect.DeepEqual(memo.Decode, one.Decode) {
		t.Fatalf("memoized and one-engine runs differ")
	}
	for i := range memo.Ops {
		if !reflect.DeepEqual(memo.Ops[i], one.Ops[i]) {
			t.Fatalf("operator %d differs:\n%+v\n%+v", i, memo.Ops[i], one.Ops[i])
		}
	}
	var gathered int64
	for _, r := range memo.Ops {
		if r.Gather.Requests > 0 {
			gathered += r.Gather.UsefulBytes
			if r.Cycles <= 0 {
				t.Errorf("%s: a gather of %d requests took %d cycles", r.Name, r.Gather.Requests, r.Cycles)
			}
		}
		if r.Stats.Layer.FilterOnChip && !r.Stats.FilterHeld {
			t.Errorf("%s: gathered operand not held", r.Name)
		}
	}
	// Keys of every third token: ceil(L/3) rows of kv·hd bf16 per layer.
	var want int64
	for _, s := range memo.Steps {
		want += int64((s.Context+2)/3) * int64(m.KVHeads()*m.HeadSize()) * 2 * int64(m.NumHiddenLayers)
	}
	if gathered != want || memo.Decode.Gather.UsefulBytes != want || memo.Decode.Bytes.KV < want {
		t.Errorf("gathered %d (phase %d), want %d; KV split %d", gathered, memo.Decode.Gather.UsefulBytes, want, memo.Decode.Bytes.KV)
	}
}

// repeatLowering is gatherLowering with each operator repeated reps
// times back to back: by Repeat, or unrolled into reps operators.
type repeatLowering struct {
	reps   int
	unroll bool
}

func (r repeatLowering) Attention(m llm.Model, layer int, p string, s ops.StepSpec, L int) []ops.Op {
	base := gatherLowering{}.Attention(m, layer, p, s, L)
	base = append(base, ops.Op{Kind: ops.OpVector, Class: ops.ClassAttention, Name: p + "v", Elems: int64(L), OpsPerElem: 3})
	var out []ops.Op
	for _, op := range base {
		if r.unroll {
			for range r.reps {
				out = append(out, op)
			}
			continue
		}
		op.Repeat = r.reps
		out = append(out, op)
	}
	return out
}

// TestRepeatedOpsAreTheirRuns: an operator repeated by Repeat measures
// as its runs unrolled into operators of their own — the same steps,
// phase totals, simulations, reuses and events — memoized on one DRAM
// channel (every run starts where the last did: measured once and
// counted) and on four (the boundary state moves), and the same as one
// engine operator by operator.
func TestRepeatedOpsAreTheirRuns(t *testing.T) {
	for _, ch := range []string{"1", "4"} {
		cfg := loadCfg(t, "llm-128x128", "dram.channels="+ch, "dram.bandwidth_gbps=204.8")
		m := zooModel(t, "llama-3.2-1b")
		m.NumHiddenLayers, m.VocabSize = 2, 512
		o := LLMOptions{Phase: PhaseDecode, Prompt: 40, Gen: 3, Batch: 1, Attention: repeatLowering{reps: 5}}
		rep, err := SimulateLLM(cfg, m, o)
		if err != nil {
			t.Fatal(err)
		}
		o.Attention = repeatLowering{reps: 5, unroll: true}
		unrolled, err := SimulateLLM(cfg, m, o)
		if err != nil {
			t.Fatal(err)
		}
		for i := range unrolled.Decode.Classes {
			unrolled.Decode.Classes[i].Ops = rep.Decode.Classes[i].Ops
		}
		if !reflect.DeepEqual(rep.Steps, unrolled.Steps) || !reflect.DeepEqual(rep.Decode, unrolled.Decode) ||
			rep.Simulated != unrolled.Simulated || rep.Reused != unrolled.Reused || rep.Events != unrolled.Events {
			t.Errorf("%s channels: repeated %d simulated, %d reused, %d events; unrolled %d, %d, %d (or the totals differ)",
				ch, rep.Simulated, rep.Reused, rep.Events, unrolled.Simulated, unrolled.Reused, unrolled.Events)
		}
		o.Attention, o.RecordOps = repeatLowering{reps: 5}, true
		memo, one := memoAndOneEngine(t, cfg, m, o)
		if !reflect.DeepEqual(memo.Ops, one.Ops) || !reflect.DeepEqual(memo.Steps, one.Steps) || !reflect.DeepEqual(memo.Decode, one.Decode) {
			t.Errorf("%s channels: repeated operators differ memoized and on one engine", ch)
		}
	}
}
