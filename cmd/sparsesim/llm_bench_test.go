package main

import (
	"io"
	"testing"
)

// benchRun times a whole `sparsesim run` (config, simulation, report).
func benchRun(b *testing.B, args ...string) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if code := execute(args, io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}

// Issue 15 speed target: under 3 s and 200 MB.
func BenchmarkRunLlama31_8BGenerate4096x1024(b *testing.B) {
	benchRun(b, "run", "--config", "llm-128x128", "--workload", "llama-3.1-8b", "--phase", "generate",
		"--prompt", "4096", "--gen", "1024", "--batch", "1", "--format", "json")
}

// Issue 15 speed target: under 5 s. Mixtral's 93 GB of bf16 weights do
// not fit one 24 GB stack: the capacity is raised to 128 GB.
func BenchmarkRunMixtral8x7BGenerate1024x256Batch8(b *testing.B) {
	benchRun(b, "run", "--config", "llm-128x128", "--set", "dram.capacity_gb=128", "--workload", "mixtral-8x7b",
		"--phase", "generate", "--prompt", "1024", "--gen", "256", "--batch", "8", "--format", "json")
}

// Issue 15 speed target: gpt2-medium at seq 1024 on systolic-32x32 took
// 12 s and 8.6 M events before identical layers were reused; under 1 s.
func BenchmarkRunGPT2MediumSystolic(b *testing.B) {
	benchRun(b, "run", "--workload", "gpt2-medium", "--format", "json")
}
