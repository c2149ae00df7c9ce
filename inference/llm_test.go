package inference

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/arch/systolic"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

func loadCfg(t *testing.T, name string, sets ...string) *configs.Config {
	t.Helper()
	cfg, err := configs.Load(name, sets)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func zooModel(t *testing.T, name string) llm.Model {
	t.Helper()
	m, ok := llm.Lookup(name)
	if !ok {
		t.Fatalf("no zoo model %s", name)
	}
	return m
}

// TestLLMMemoEqualsOneEngine compares a memoized generate with the same
// generate run with every GEMM layer on one engine, operator by operator,
// for a dense GQA model and a MoE model, on several DRAM channels (so the
// boundary state's channel positions matter).
func TestLLMMemoEqualsOneEngine(t *testing.T) {
	cfg := loadCfg(t, "llm-128x128", "pe_array.rows=512", "pe_array.cols=512", "dram.channels=4", "dram.bandwidth_gbps=204.8")
	for _, c := range []struct {
		model string
		batch int
	}{{"llama-3.2-1b", 1}, {"olmoe-1b-7b", 2}} {
		m := zooModel(t, c.model)
		o := LLMOptions{Phase: PhaseGenerate, Prompt: 64, Gen: 16, Batch: c.batch, Seed: 3, RecordOps: true}
		memo, one := memoAndOneEngine(t, cfg, m, o)
		if !memo.Memoized || one.Memoized || memo.Reused == 0 {
			t.Fatalf("%s: memoized %v (reused %d), reference memoized %v", c.model, memo.Memoized, memo.Reused, one.Memoized)
		}
		sameRun(t, c.model, memo, one)
		if memo.Events >= one.Events {
			t.Errorf("%s: memoized run took %d events, one engine %d", c.model, memo.Events, one.Events)
		}
	}
}

// sameRun fails the test unless a memoized run and its one-engine
// reference agree operator by operator and in every phase and step total.
func sameRun(t *testing.T, what string, memo, one *LLMResult) {
	t.Helper()
	if len(memo.Ops) != len(one.Ops) {
		t.Fatalf("%s: %d operators memoized, %d on one engine", what, len(memo.Ops), len(one.Ops))
	}
	for i := range memo.Ops {
		if !reflect.DeepEqual(memo.Ops[i], one.Ops[i]) {
			t.Fatalf("%s: operator %d differs:\nmemoized   %+v\none engine %+v", what, i, memo.Ops[i], one.Ops[i])
		}
	}
	if !reflect.DeepEqual(memo.Prefill, one.Prefill) || !reflect.DeepEqual(memo.Decode, one.Decode) || !reflect.DeepEqual(memo.Steps, one.Steps) {
		t.Fatalf("%s: phase totals differ", what)
	}
}

// TestLLMMemoEqualsOneEngineEveryPolicy: the memoized generate equals the
// one-engine run under every memory policy (activations kept on chip or
// not, next layer prefetched or not) and DRAM model the memo runs on (the
// detailed model is never memoized), for a dense and a MoE model: with
// activations kept, a GEMM the one engine finds its input on chip for —
// across vector operators and from one step to the next — starts from
// the memo with its input held too. Configurations Memoizable refuses run
// unmemoized either way.
func TestLLMMemoEqualsOneEngineEveryPolicy(t *testing.T) {
	var models []llm.Model
	for _, name := range []string{"llama-3.2-1b", "olmoe-1b-7b"} {
		m := zooModel(t, name)
		// Two layers and a small head: the runs still chain every kind
		// of GEMM into the next, and take seconds, not a minute.
		m.NumHiddenLayers, m.VocabSize = 2, 4096
		models = append(models, m)
	}
	type policy struct{ dram, array []string }
	var policies []policy
	for _, dram := range [][]string{{"dram.model=ideal"}, {"dram.model=channel"}, {"dram.model=channel", "dram.channels=4", "dram.bandwidth_gbps=204.8"}} {
		policies = append(policies, policy{dram: dram})
	}
	// Shadow weights and several units (issue 26) on the channel DRAM.
	policies = append(policies, policy{dram: []string{"dram.model=channel"},
		array: []string{"pe_array.weight_buffers=2", "pe_array.units=4", "interconnect.latency_cycles=2"}})
	for _, pol := range policies {
		for _, keep := range []string{"false", "true"} {
			for _, prefetch := range []string{"false", "true"} {
				sets := append(append([]string{"memory.keep_activations=" + keep, "memory.prefetch_next_layer=" + prefetch}, pol.dram...), pol.array...)
				cfg := loadCfg(t, "llm-128x128", sets...)
				for _, m := range models {
					what := fmt.Sprintf("%s %v", m.Name, sets)
					o := LLMOptions{Phase: PhaseGenerate, Prompt: 8, Gen: 3, Batch: 1, Seed: 3, RecordOps: true}
					memo, one := memoAndOneEngine(t, cfg, m, o)
					if memo.Memoized != systolic.Memoizable(cfg) || one.Memoized {
						t.Fatalf("%s: memoized %v, reference memoized %v; Memoizable %v", what, memo.Memoized, one.Memoized, systolic.Memoizable(cfg))
					}
					sameRun(t, what, memo, one)
					held := 0
					for _, r := range memo.Ops {
						if r.Stats.Input == arch.InputFromOnChip {
							held++
						}
					}
					if (held > 0) != (keep == "true") {
						t.Errorf("%s: %d operators found their input on chip", what, held)
					}
				}
			}
		}
	}
}

// weightBytesPerStep counts, from the model's shape alone, the weight
// bytes one decode step reads: every projection and FFN matrix of every
// layer and the LM head (the embedding matrix when tied).
func weightBytesPerStep(m llm.Model, word int64) int64 {
	h, hd := int64(m.HiddenSize), int64(m.HeadSize())
	q, kv := int64(m.NumAttentionHeads)*hd, int64(m.KVHeads())*hd
	perLayer := h*(q+2*kv) + q*h + 3*h*int64(m.IntermediateSize)
	return (int64(m.NumHiddenLayers)*perLayer + int64(m.VocabSize)*h) * word
}

// kvReadBytesPerStep is the cache one decode step reads: keys and values of
// every cached token, every KV head, every layer.
// memoAndOneEngine runs o memoized and, with NoMemo, on one engine.
func memoAndOneEngine(t *testing.T, cfg *configs.Config, m llm.Model, o LLMOptions) (memo, one *LLMResult) {
	t.Helper()
	o.NoMemo = false
	memo, err := SimulateLLM(cfg, m, o)
	if err != nil {
		t.Fatal(err)
	}
	o.NoMemo = true
	if one, err = SimulateLLM(cfg, m, o); err != nil {
		t.Fatal(err)
	}
	return memo, one
}

func kvReadBytesPerStep(m llm.Model, batch, context int, word int64) int64 {
	return kvReadBitsPerStep(m, batch, context, 8*word) / 8
}

func kvReadBitsPerStep(m llm.Model, batch, context int, bits int64) int64 {
	return int64(batch) * int64(m.NumHiddenLayers) * 2 * int64(m.KVHeads()) * int64(m.HeadSize()) * int64(context) * bits
}

// TestNarrowKVCache: an fp8 or int4 cache on the bf16 array moves its own
// width: each step's KV bytes (cache read + keys and values appended) are
// the shape's elements at 8 or 4 bits, computed here, and the weights'
// bytes do not change.
func TestNarrowKVCache(t *testing.T) {
	m := zooModel(t, "llama-3.2-1b")
	m.NumHiddenLayers = 2
	const prompt, batch = 700, 2
	var weights int64 = -1
	for _, c := range []struct {
		dtype string
		bits  int64
	}{{"bf16", 16}, {"fp8", 8}, {"int4", 4}} {
		cfg := loadCfg(t, "llm-128x128", "dram.model=ideal", "kv_cache.dtype="+c.dtype)
		res, err := SimulateLLM(cfg, m, LLMOptions{Phase: PhaseDecode, Prompt: prompt, Gen: 3, Batch: batch})
		if err != nil {
			t.Fatal(err)
		}
		for i, st := range res.Steps {
			ctx := prompt + i + 1
			appended := int64(batch) * int64(m.NumHiddenLayers) * 2 * int64(m.KVHeads()) * int64(m.HeadSize()) * c.bits / 8
			if want := kvReadBitsPerStep(m, batch, ctx, c.bits)/8 + appended; st.Bytes.KV != want {
				t.Errorf("%s step %d: KV bytes %d, shape gives %d", c.dtype, i+1, st.Bytes.KV, want)
			}
		}
		if weights >= 0 && res.Decode.Bytes.Weights != weights {
			t.Errorf("%s: weight bytes %d, bf16 cache %d", c.dtype, res.Decode.Bytes.Weights, weights)
		}
		weights = res.Decode.Bytes.Weights
	}
}

// TestDecodeTPOTAtBandwidthBound: with compute to spare (a 128x128 array
// behind 25.6 GB/s), a decode step takes at least the weights and KV bytes
// it must read over the peak bandwidth, and at most 10% more.
func TestDecodeTPOTAtBandwidthBound(t *testing.T) {
	for _, engine := range []string{"false", "true"} {
		cfg := loadCfg(t, "llm-128x128", "dram.bandwidth_gbps=25.6", "attention.decode_on_engine="+engine)
		for _, c := range []struct {
			model         string
			prompt, batch int
		}{{"llama-3.2-1b", 512, 1}, {"llama-3.2-1b", 2048, 4}, {"qwen2.5-7b", 256, 1}} {
			m := zooModel(t, c.model)
			res, err := SimulateLLM(cfg, m, LLMOptions{Phase: PhaseDecode, Prompt: c.prompt, Gen: 3, Batch: c.batch, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			bw := 25.6e9 / 1e9 // bytes per ns = bytes per cycle at 1 GHz
			for i, st := range res.Steps {
				bytes := weightBytesPerStep(m, 2) + kvReadBytesPerStep(m, c.batch, c.prompt+i+1, 2)
				bound := float64(bytes) / bw
				ratio := float64(st.Cycles) / bound
				t.Logf("%s prompt %d batch %d step %d (attention engine %s): %d cycles, bound %.0f (x%.4f)", c.model, c.prompt, c.batch, i+1, engine, st.Cycles, bound, ratio)
				if ratio < 1 || ratio > 1.10 {
					t.Errorf("%s step %d (attention engine %s): TPOT %.4f x the bandwidth bound, want within [1, 1.10]", c.model, i+1, engine, ratio)
				}
			}
		}
	}
}

// TestPrefillGEMMsEqualStandalone: with ideal DRAM, every GEMM of a
// prefill run on one engine takes exactly the cycles of the same GEMM
// simulated alone.
func TestPrefillGEMMsEqualStandalone(t *testing.T) {
	cfg := loadCfg(t, "llm-128x128", "dram.model=ideal")
	for _, name := range []string{"llama-3.2-1b", "olmoe-1b-7b"} {
		m := zooModel(t, name)
		m.NumHiddenLayers = 2 // two layers show the chaining; all are alike
		res, err := SimulateLLM(cfg, m, LLMOptions{Phase: PhasePrefill, Prompt: 192, Batch: 1, NoMemo: true, RecordOps: true, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, op := range res.Ops {
			if op.Stats.Folds == 0 {
				continue
			}
			alone, err := systolic.Simulate(cfg, workloads.Workload{Layers: []workloads.Layer{op.Stats.Layer}})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := op.Cycles, alone.Layers[0].Elapsed; got != want {
				t.Errorf("%s %s: %d cycles in the prefill, %d alone", name, op.Name, got, want)
			}
			n++
		}
		if n < 10 {
			t.Fatalf("%s: only %d GEMMs checked", name, n)
		}
	}
}

// TestKVTrafficFromShape: a decode step reads exactly the cache the shape
// implies and appends one token's keys and values per sequence; grouped
// queries divide that traffic by heads/kv_heads exactly; it grows linearly
// with the context.
func TestKVTrafficFromShape(t *testing.T) {
	cfg := loadCfg(t, "llm-128x128", "dram.model=ideal")
	gqa := zooModel(t, "llama-3.1-8b")
	gqa.NumHiddenLayers = 2
	mha := gqa
	mha.NumKeyValueHeads = mha.NumAttentionHeads
	kv := map[string][]int64{}
	for _, m := range []llm.Model{gqa, mha} {
		const prompt, batch = 1000, 2
		res, err := SimulateLLM(cfg, m, LLMOptions{Phase: PhaseDecode, Prompt: prompt, Gen: 5, Batch: batch})
		if err != nil {
			t.Fatal(err)
		}
		for i, st := range res.Steps {
			ctx := prompt + i + 1
			read := kvReadBytesPerStep(m, batch, ctx, 2)
			appended := int64(batch) * int64(m.NumHiddenLayers) * 2 * int64(m.KVHeads()) * int64(m.HeadSize()) * 2
			if st.Bytes.KV != read+appended {
				t.Errorf("kv heads %d step %d: KV bytes %d, shape gives %d read + %d appended", m.KVHeads(), i+1, st.Bytes.KV, read, appended)
			}
			kv[m.Name+string(rune('0'+m.KVHeads()%10))] = append(kv[m.Name+string(rune('0'+m.KVHeads()%10))], st.Bytes.KV)
		}
		for i := 2; i < len(res.Steps); i++ {
			d1 := res.Steps[i].Bytes.KV - res.Steps[i-1].Bytes.KV
			d0 := res.Steps[i-1].Bytes.KV - res.Steps[i-2].Bytes.KV
			if d0 != d1 || d0 <= 0 {
				t.Errorf("kv heads %d: KV traffic not linear in context: steps add %d then %d", m.KVHeads(), d0, d1)
			}
		}
	}
	g, h := kv[gqa.Name+"8"], kv[mha.Name+"2"]
	ratio := int64(gqa.NumAttentionHeads / gqa.KVHeads())
	for i := range g {
		if h[i] != ratio*g[i] {
			t.Errorf("step %d: MHA KV bytes %d, GQA %d: want exactly %dx", i+1, h[i], g[i], ratio)
		}
	}
}

// TestLLMRefusals: a model that does not fit, a context past the model's
// positions and a KV type wider than the array's operands are refused up
// front.
func TestLLMRefusals(t *testing.T) {
	cfg := loadCfg(t, "llm-128x128")
	for _, c := range []struct {
		model string
		o     LLMOptions
		cfg   *configs.Config
	}{
		{"mixtral-8x7b", LLMOptions{Phase: PhaseGenerate, Prompt: 16, Gen: 2, Batch: 1}, cfg},
		{"llama-3.1-8b", LLMOptions{Phase: PhaseGenerate, Prompt: 65536, Gen: 1024, Batch: 8}, cfg},
		{"gpt2-small", LLMOptions{Phase: PhaseGenerate, Prompt: 1000, Gen: 100, Batch: 1}, cfg},
		{"llama-3.2-1b", LLMOptions{Phase: PhaseGenerate, Prompt: 16, Gen: 2, Batch: 1}, loadCfg(t, "edge-32x32", "kv_cache.dtype=fp16")},
		{"llama-3.2-1b", LLMOptions{Phase: "chat", Prompt: 16, Gen: 2, Batch: 1}, cfg},
	} {
		if _, err := SimulateLLM(c.cfg, zooModel(t, c.model), c.o); err == nil {
			t.Errorf("%s %+v: accepted", c.model, c.o)
		} else {
			t.Log(err)
		}
	}
}
