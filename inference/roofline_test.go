package inference

import (
	"testing"

	"github.com/sparsesim/sparsesim/configs"
)

// The bounds below are computed here from the config's numbers, not by
// the report's roofline code: a decode step can move its DRAM bytes no
// faster than the peak bandwidth, do its MACs no faster than every PE at
// once, and take its weight and KV elements into the arrays no faster
// than one element per edge PE a cycle.

func dramBytesPerCycle(cfg *configs.Config) float64 {
	return cfg.DRAM.BandwidthGBps * 1e9 / (cfg.ClockMHz * 1e6)
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
