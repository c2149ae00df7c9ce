package inference

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/inference/ops"
	"github.com/sparsesim/sparsesim/workloads/llm"
	"github.com/sparsesim/sparsesim/workloads/moe"
)

// TestMoEDistinctExpertsEndToEnd (validation): through the whole LLM
// decode, uniform routing's mean experts touched per MoE layer and step is
// within 2% of E·(1 − (1 − k/E)^B) (closed form in the test) on the
// Mixtral-8x7B and OLMoE-1B-7B shapes.
func TestMoEDistinctExpertsEndToEnd(t *testing.T) {
	cfg := loadCfg(t, "llm-128x128", "dram.model=ideal", "dram.capacity_gb=0")
	for _, name := range []string{"mixtral-8x7b", "olmoe-1b-7b"} {
		m := zooModel(t, name)
		m.NumHiddenLayers = 4
		for _, B := range []int{1, 4, 16} {
			var sum float64
			var n int64
			for seed := int64(1); seed <= 4; seed++ {
				res, err := SimulateLLM(cfg, m, LLMOptions{Phase: PhaseDecode, Prompt: 8, Gen: 64, Batch: B, Seed: seed})
				if err != nil {
					t.Fatal(err)
				}
				sum += float64(res.MoE.Decode.TouchedSum)
				n += res.MoE.Decode.LayerSteps
			}
			E, k := float64(m.NumExperts), float64(m.NumExpertsPerTok)
			want := E * (1 - math.Pow(1-k/E, float64(B)))
			got := sum / float64(n)
			t.Logf("%s B=%d: %.3f experts touched over %d layer-steps (4 seeds), closed form %.3f", name, B, got, n, want)
			if math.Abs(got/want-1) > 0.02 {
				t.Errorf("%s B=%d: %.3f experts touched, closed form %.3f", name, B, got, want)
			}
		}
	}
}

// expertWeightBytes is one routed expert's gate, up and down matrices at
// the word size, from the model's shape.
func expertWeightBytes(m llm.Model, word int64) int64 {
	return 3 * int64(m.HiddenSize) * int64(m.ExpertSize()) * word
}

// TestMoEExpertWeightsRead (validation): a batch-1 decode step reads, for
// each MoE layer, exactly k experts' weights with dynamic execution and
// all E experts' with padded execution — byte counts computed in the test
// from the model's shape — and padded steps take longer.
func TestMoEExpertWeightsRead(t *testing.T) {
	m := zooModel(t, "mixtral-8x7b")
	m.NumHiddenLayers = 2
	var cycles []int64
	for _, exec := range moe.Executions {
		cfg := loadCfg(t, "llm-128x128", "dram.capacity_gb=0", "moe.execution="+exec)
		res, err := SimulateLLM(cfg, m, LLMOptions{Phase: PhaseDecode, Prompt: 32, Gen: 3, Batch: 1, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		experts := int64(m.NumExpertsPerTok)
		if exec == moe.Padded {
			experts = int64(m.NumExperts)
		}
		want := int64(res.Decode.Steps) * int64(m.NumHiddenLayers) * experts * expertWeightBytes(m, 2)
		if got := res.Decode.Classes[classIndex(ops.ClassExperts)].Bytes.Weights; got != want {
			t.Errorf("%s: expert weight bytes %d, shape gives %d (%d experts per layer)", exec, got, want, experts)
		}
		cycles = append(cycles, res.Decode.Cycles)
	}
	if cycles[1] <= cycles[0] {
		t.Errorf("padded decode %d cycles, dynamic %d: padding reads 4x the expert weights", cycles[1], cycles[0])
	}
}

// TestMoEImbalanceInTime: skewed routing shows in the experts' time — the
// busiest expert's share of a layer-step's expert time rises with Zipf
// routing over uniform — and a capacity factor below 1 drops assignments.
func TestMoEImbalanceInTime(t *testing.T) {
	m := zooModel(t, "olmoe-1b-7b")
	m.NumHiddenLayers = 2
	run := func(sets ...string) *LLMResult {
		cfg := loadCfg(t, "llm-128x128", append([]string{"dram.model=ideal"}, sets...)...)
		res, err := SimulateLLM(cfg, m, LLMOptions{Phase: PhaseDecode, Prompt: 16, Gen: 8, Batch: 32, Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	uni, zipf := run(), run("moe.routing=zipf", "moe.imbalance=1.2")
	u, z := uni.MoE.DecodeTime.MaxOverMean(), zipf.MoE.DecodeTime.MaxOverMean()
	if z <= u || zipf.MoE.Decode.MaxOverMean() <= uni.MoE.Decode.MaxOverMean() {
		t.Errorf("expert time max/mean: uniform %.3f, zipf %.3f; load max/mean %.3f, %.3f", u, z, uni.MoE.Decode.MaxOverMean(), zipf.MoE.Decode.MaxOverMean())
	}
	if uni.MoE.Decode.Dropped != 0 {
		t.Errorf("no capacity limit, %d dropped", uni.MoE.Decode.Dropped)
	}
	capped := run("moe.routing=zipf", "moe.imbalance=1.2", "moe.capacity_factor=1")
	if capped.MoE.Decode.Dropped == 0 || capped.Decode.Cycles >= zipf.Decode.Cycles {
		t.Errorf("capacity 1 under zipf: %d dropped, %d cycles vs %d uncapped", capped.MoE.Decode.Dropped, capped.Decode.Cycles, zipf.Decode.Cycles)
	}
}

// TestMoEMemoEqualsOneEngineSkewed: with skewed routing, capacity drops
// and padded execution the memoized run still equals the run with every
// layer on one engine, operator for operator.
func TestMoEMemoEqualsOneEngineSkewed(t *testing.T) {
	m := zooModel(t, "olmoe-1b-7b")
	m.NumHiddenLayers = 2
	for _, sets := range [][]string{
		{"moe.routing=zipf", "moe.imbalance=1", "moe.capacity_factor=1.25"},
		{"moe.routing=dirichlet", "moe.imbalance=0.3", "moe.execution=padded", "moe.locality=0.5"},
	} {
		cfg := loadCfg(t, "llm-128x128", append([]string{"dram.channels=4", "dram.bandwidth_gbps=204.8"}, sets...)...)
		o := LLMOptions{Phase: PhaseGenerate, Prompt: 16, Gen: 4, Batch: 3, Seed: 5, RecordOps: true}
		memo, one := memoAndOneEngine(t, cfg, m, o)
		if !reflect.DeepEqual(memo.Ops, one.Ops) || !reflect.DeepEqual(memo.Decode, one.Decode) || !reflect.DeepEqual(memo.MoE, one.MoE) {
			t.Fatalf("%v: memoized and one-engine runs differ", sets)
		}
	}
}

// TestMoEBatchSpeedupFalls: skipping untouched experts pays most at batch
// 1 and its gain falls as the batch's union of experts grows, to within 5%
// of none once every expert is touched.
func TestMoEBatchSpeedupFalls(t *testing.T) {
	cfg := loadCfg(t, "llm-128x128")
	m := zooModel(t, "olmoe-1b-7b")
	m.NumHiddenLayers = 2
	pts, err := SweepMoEBatch(cfg, m, LLMOptions{Phase: PhaseDecode, Prompt: 32, Gen: 2, Seed: 1}, []int{1, 4, 16, 128})
	if err != nil {
		t.Fatal(err)
	}
	prev := math.Inf(1)
	for _, p := range pts {
		s := p.Padded / p.Dynamic
		t.Logf("batch %d: %.2f experts, speedup %.3f", p.Batch, p.ExpertsTouched, s)
		if s >= prev || s < 1 {
			t.Errorf("batch %d: speedup %.3f after %.3f", p.Batch, s, prev)
		}
		prev = s
	}
	if last := pts[len(pts)-1]; last.ExpertsTouched != float64(m.NumExperts) || prev > 1.05 {
		t.Errorf("batch %d: %.2f experts touched, speedup %.3f; want all %d and at most 1.05", last.Batch, last.ExpertsTouched, prev, m.NumExperts)
	}
}

// TestMoEKeysRefusedOnDenseModel: a given moe.* key on a dense model is
// refused naming the key (it ran as if unset before, issue 27); on an
// MoE model, and unset on a dense one, it is not.
func TestMoEKeysRefusedOnDenseModel(t *testing.T) {
	dense, moeModel := zooModel(t, "llama-3.2-1b"), zooModel(t, "olmoe-1b-7b")
	for _, key := range []string{"moe.routing=zipf", "moe.capacity_factor=1.5", "moe.execution=padded", "moe.chunk=4", "moe.locality=0.3"} {
		cfg := loadCfg(t, "llm-128x128", key)
		name, _, _ := strings.Cut(key, "=")
		err := CheckMoEKeys(cfg, dense)
		if err == nil || !configs.IsNotRead(err) || !strings.HasPrefix(err.Error(), name+": llama-3.2-1b is a dense model (no experts)") {
			t.Errorf("%s on a dense model: %v", key, err)
		}
		if err := CheckLLM(cfg, dense, LLMOptions{Phase: PhaseDecode, Prompt: 8, Gen: 1, Batch: 1}); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("CheckLLM, %s on a dense model: %v", key, err)
		}
		if err := CheckMoEKeys(cfg, moeModel); err != nil {
			t.Errorf("%s on an MoE model: %v", key, err)
		}
	}
	if err := CheckMoEKeys(loadCfg(t, "llm-128x128"), dense); err != nil {
		t.Errorf("no moe keys: %v", err)
	}
}
