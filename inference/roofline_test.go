package inference

import (
	"fmt"
	"testing"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// The bounds below are computed here from the config's numbers, not by
// the report's roofline code: a decode step can move its DRAM bytes no
// faster than the peak bandwidth, do its MACs no faster than every PE at
// once, and take its weight and KV elements into the arrays no faster
// than one element per edge PE a cycle.

func dramBytesPerCycle(cfg *configs.Config) float64 {
	return cfg.DRAM.BandwidthGBps * 1e9 / (cfg.ClockMHz * 1e6)
}

// TestDecodeAtTheRoofline holds dense decode on the TPU v5e-class config
// to its memory bound: for three models at batch 1, 8 and 32 and contexts
// 512 to 8192, a decode step takes at least its DRAM bytes at peak
// bandwidth and at most 1.15× that (issue 26).
func TestDecodeAtTheRoofline(t *testing.T) {
	if testing.Short() {
		t.Skip("27 decode runs")
	}
	cfg := loadCfg(t, "tpu-v5e", "dram.capacity_gb=0")
	bpc := dramBytesPerCycle(cfg)
	for _, model := range []string{"llama-3.2-1b", "llama-3.1-8b", "mistral-7b"} {
		m := zooModel(t, model)
		for _, batch := range []int{1, 8, 32} {
			for _, ctx := range []int{512, 2048, 8192} {
				o := LLMOptions{Phase: PhaseDecode, Prompt: ctx, Gen: 2, Batch: batch, Seed: 1}
				r, err := SimulateLLM(cfg, m, o)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range r.Steps {
					bound := float64(s.Bytes.Total()) / bpc
					ratio := float64(s.Cycles) / bound
					what := fmt.Sprintf("%s batch %d context %d: step of %d cycles, %d bytes (%.0f cycles at peak bandwidth)",
						model, batch, s.Context, s.Cycles, s.Bytes.Total(), bound)
					if ratio < 1 || ratio > 1.15 {
						t.Errorf("%s: %.3f× the memory bound, want 1 to 1.15", what, ratio)
					}
				}
			}
		}
	}
}

// TestOperatorsObeyPhysics checks every operator of a prefill and a
// decode against the three bounds on configs with one and several units,
// one and two weight registers.
func TestOperatorsObeyPhysics(t *testing.T) {
	for _, sets := range [][]string{
		{"dram.capacity_gb=0"},
		{"dram.capacity_gb=0", "pe_array.weight_buffers=1"},
		{"dram.capacity_gb=0", "pe_array.units=1", "interconnect.latency_cycles=0", "interconnect.port_bytes_per_cycle=0"},
	} {
		cfg := loadCfg(t, "tpu-v5e", sets...)
		bpc := dramBytesPerCycle(cfg)
		macs := float64(cfg.PEArray.Rows * cfg.PEArray.Cols * cfg.PEArray.Units)
		load := float64(cfg.PEArray.Units*max(cfg.PEArray.Rows, cfg.PEArray.Cols)) * float64(cfg.WordBytes())
		m := zooModel(t, "llama-3.2-1b")
		r, err := SimulateLLM(cfg, m, LLMOptions{Phase: PhaseGenerate, Prompt: 300, Gen: 3, Batch: 4, Seed: 1, RecordOps: true})
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, op := range r.Ops {
			if op.Stats.MACs == 0 {
				continue // vector, gather and top-k operators
			}
			checked++
			c := float64(op.Cycles)
			if b := float64(op.Stats.MACs) / macs; c < b {
				t.Errorf("%v: %s: %d cycles beat the compute bound %.0f", sets, op.Name, op.Cycles, b)
			}
			if b := float64(op.Bytes.Total()) / bpc; c < b {
				t.Errorf("%v: %s: %d cycles beat the DRAM bound %.0f", sets, op.Name, op.Cycles, b)
			}
			if b := float64(op.Bytes.Weights+op.Bytes.KV) / load; c < b {
				t.Errorf("%v: %s: %d cycles beat the array-load bound %.0f", sets, op.Name, op.Cycles, b)
			}
		}
		if checked < 10 {
			t.Fatalf("%v: only %d GEMM operators recorded", sets, checked)
		}
	}
}

// prefillCycles is a dense model's prefill at peak, from its dimensions:
// per token the Q, K, V, O and feed-forward matrices; per sequence the
// scores and probability×V over every query and the keys it attends to
// (all of them: the model does not skip the causal half); the LM head on
// each sequence's last token; all over every PE. One physical limit is
// kept: a product whose reduction is head_dim long uses at most head_dim
// of an array's rows, so with heads narrower than the rows (llama-3.2-1b's
// 64 on 128-row units) attention runs at head_dim/rows of the peak.
func prefillCycles(m llm.Model, batch, prompt, rows int, pes float64) float64 {
	h, hd := float64(m.HiddenSize), float64(m.HeadSize())
	q, kv := float64(m.NumAttentionHeads)*hd, float64(m.KVHeads())*hd
	ffn := 2 * h * float64(m.IntermediateSize)
	if m.Gated {
		ffn = 3 * h * float64(m.IntermediateSize)
	}
	perToken := float64(m.NumHiddenLayers) * (h*(q+2*kv) + q*h + ffn)
	tokens := float64(batch * prompt)
	attn := float64(m.NumHiddenLayers) * 2 * float64(batch) * float64(m.NumAttentionHeads) * float64(prompt) *
		float64(m.AttentionLength(prompt)) * hd
	attnShare := min(1, hd/float64(rows))
	return (tokens*perToken+float64(batch)*h*float64(m.VocabSize))/pes + attn/(pes*attnShare)
}

// TestPrefillAtTheRoofline holds dense prefill on the TPU v5e-class
// config to its compute bound from 2048 tokens up: TTFT at least the MACs
// (counted here from the model's dimensions) over every PE, and at most
// 1.25× that (issue 26; prefillCycles says where narrow heads lower it).
func TestPrefillAtTheRoofline(t *testing.T) {
	if testing.Short() {
		t.Skip("prefill runs of up to 64K tokens")
	}
	cfg := loadCfg(t, "tpu-v5e", "dram.capacity_gb=0")
	pes := float64(cfg.PEArray.Rows * cfg.PEArray.Cols * cfg.PEArray.Units)
	for _, model := range []string{"llama-3.2-1b", "llama-3.1-8b", "mistral-7b"} {
		m := zooModel(t, model)
		for _, c := range [][2]int{{1, 2048}, {8, 2048}, {32, 2048}, {1, 8192}, {8, 8192}} {
			batch, prompt := c[0], c[1]
			r, err := SimulateLLM(cfg, m, LLMOptions{Phase: PhasePrefill, Prompt: prompt, Batch: batch, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			bound := prefillCycles(m, batch, prompt, cfg.PEArray.Rows, pes)
			ratio := float64(r.Prefill.Cycles) / bound
			if ratio < 1 || ratio > 1.25 {
				t.Errorf("%s batch %d prompt %d: TTFT %d cycles, %.3f× the compute bound %.0f, want 1 to 1.25",
					model, batch, prompt, r.Prefill.Cycles, ratio, bound)
			}
		}
	}
}
