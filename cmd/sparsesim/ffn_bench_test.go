package main

import "testing"

// Issue 17 speed target: llama-3.1-8b decode of 1024 tokens, batch 16,
// thresholding on (the sparse run and the dense one it is compared with):
// under 5 s.
func BenchmarkRunLlama31_8BDecode1024Batch16Threshold(b *testing.B) {
	benchRun(b, "run", "--config", "llm-128x128", "--workload", "llama-3.1-8b", "--phase", "decode",
		"--prompt", "1024", "--gen", "1024", "--batch", "16", "--set", "activation_sparsity.method=threshold", "--format", "json")
}
