package main

import "testing"

// Issue 17 speed target: mixtral-8x7b decode of 256 tokens at batch 64
// under 5 s (uniform routing, the default). The 93 GB of bf16 weights
// need the capacity raised past one 24 GB stack.
func BenchmarkRunMixtral8x7BDecode256Batch64(b *testing.B) {
	benchRun(b, "run", "--config", "llm-128x128", "--set", "dram.capacity_gb=128", "--workload", "mixtral-8x7b",
		"--phase", "decode", "--prompt", "256", "--gen", "256", "--batch", "64", "--format", "json")
}
