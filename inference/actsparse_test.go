package inference

import (
	"math"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// tinyLlama is a small gated decoder for fast tests.
var tinyLlama = llm.Model{Name: "tiny-llama", ModelType: "llama", HiddenSize: 512, IntermediateSize: 2048,
	NumHiddenLayers: 2, NumAttentionHeads: 8, NumKeyValueHeads: 8, VocabSize: 1024, HiddenAct: "silu", Gated: true}

func actCfg(t *testing.T, sets ...string) *configs.Config {
	t.Helper()
	cfg, err := configs.Load("llm-128x128", sets)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func runAct(t *testing.T, cfg *configs.Config, batch int) *ActSparseResult {
	t.Helper()
	r, err := SimulateActSparse(cfg, tinyLlama, LLMOptions{Phase: PhaseDecode, Prompt: 64, Gen: 2, Batch: batch, Seed: 1, RecordOps: true})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Validation from the shapes: the down projection reads exactly the
// union's rows of W_down, hidden_size words each, and the burst count the
// gather summary gives equals the 64-byte blocks the selected bytes touch
// (a byte-level oracle: every selected byte's block, counted once).
func TestDownProjectionReadsActiveRows(t *testing.T) {
	cfg := actCfg(t, "activation_sparsity.method=cats", "activation_sparsity.target=0.7")
	r := runAct(t, cfg, 4)
	h, wb := int64(tinyLlama.HiddenSize), int64(cfg.WordBytes())
	found := 0
	for _, op := range r.Sparse.Ops {
		if op.Name != "L0.down.gather" && op.Name != "L1.down.gather" {
			continue
		}
		layer := 0
		if op.Name[1] == '1' {
			layer = 1
		}
		s := r.Plan.At(layer, op.Step)
		want := int64(s.Union) * h * wb
		if got := op.Stats.DRAMReadByOperand[dataflow.Filter]; got != want {
			t.Errorf("%s step %d: %d weight bytes read, want %d active rows × %d bytes = %d", op.Name, op.Step, got, s.Union, h*wb, want)
		}
		found++
	}
	if found != 4 {
		t.Fatalf("found %d down projections, want 2 layers × 2 steps", found)
	}
	// Row bytes that are not a whole number of bursts: 40-byte rows on
	// 64-byte requests, every third row selected.
	var sel []memory.Span
	for i := int64(0); i < 300; i += 3 {
		sel = append(sel, memory.Span{Lo: i, Hi: i + 1})
	}
	sel = append(sel, memory.Span{Lo: 400, Hi: 450})
	tn := memory.Tensor{Pixels: 512, Channels: 20, ElemBits: 16}
	reg := memory.NewRegion([]memory.Seg{{C: memory.Span{Lo: 0, Hi: 20}, Pix: sel}})
	sum := arch.SummarizeGather(tn, reg, 64)
	blocks := map[int64]bool{}
	var useful int64
	for _, sp := range sel {
		for row := sp.Lo; row < sp.Hi; row++ {
			for b := row * 40; b < row*40+40; b++ {
				blocks[b/64] = true
				useful++
			}
		}
	}
	if sum.UsefulBytes != useful || sum.Requests != int64(len(blocks)) {
		t.Errorf("gather: %d useful bytes in %d requests, oracle %d in %d", sum.UsefulBytes, sum.Requests, useful, len(blocks))
	}
}

// Validation against the union: TPOT speedup falls as the batch grows (the
// union covers more neurons) and, when every neuron is alike so that 64
// tokens' union covers all of them, the sparse step is the dense one plus
// the selection: speedup at most 1 and within 3% of it (the compare and
// index operations and the gate and up projections run as two GEMMs).
func TestSpeedupFallsWithBatch(t *testing.T) {
	cfg := actCfg(t, "activation_sparsity.method=cats", "activation_sparsity.target=0.9")
	prev, prevU := math.Inf(1), 0.0
	for _, b := range []int{1, 4, 16, 64} {
		r := runAct(t, cfg, b)
		sp := float64(r.Dense.Decode.Cycles) / float64(r.Sparse.Decode.Cycles)
		u := 0.0
		for _, s := range r.Plan.Samples {
			for _, x := range s {
				u += float64(x.Union)
			}
		}
		t.Logf("batch %d: speedup %.4f, union %.0f neurons over samples", b, sp, u)
		if sp > prev*1.001 || u < prevU {
			t.Errorf("batch %d: speedup %.4f after %.4f, union %g after %g: want speedup falling, union growing", b, sp, prev, u, prevU)
		}
		prev, prevU = sp, u
	}
	cfg = actCfg(t, "activation_sparsity.method=cats", "activation_sparsity.target=0.5", "activation_sparsity.neuron_spread=0")
	r := runAct(t, cfg, 64)
	for _, s := range r.Plan.Samples {
		for _, x := range s {
			if x.Union != tinyLlama.IntermediateSize {
				t.Fatalf("union %d of %d neurons: the case needs all", x.Union, tinyLlama.IntermediateSize)
			}
		}
	}
	sp := float64(r.Dense.Decode.Cycles) / float64(r.Sparse.Decode.Cycles)
	if sp > 1 || sp < 0.97 {
		t.Errorf("full union: speedup %.4f, want in [0.97, 1]", sp)
	}
}

// Refusals name the key.
func TestActSparseRefusals(t *testing.T) {
	cfg := actCfg(t, "activation_sparsity.method=threshold")
	moe := tinyLlama
	moe.NumExperts, moe.NumExpertsPerTok = 4, 2
	for _, c := range []struct {
		m    llm.Model
		o    LLMOptions
		want string
	}{{moe, LLMOptions{Phase: PhaseDecode, Prompt: 8, Gen: 1, Batch: 1}, "activation_sparsity.method threshold: tiny-llama has routed experts"},
		{tinyLlama, LLMOptions{Phase: PhasePrefill, Prompt: 8, Batch: 1}, "applies to decode steps"}} {
		_, err := SimulateActSparse(cfg, c.m, c.o)
		if err == nil || !usererr.Is(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want a user error with %q", err, c.want)
		}
	}
	_, err := configs.Load("llm-128x128", []string{"activation_sparsity.method=magic"})
	if err == nil || !strings.Contains(err.Error(), "activation_sparsity.method") {
		t.Errorf("unknown technique: %v, want an error naming activation_sparsity.method", err)
	}
}
