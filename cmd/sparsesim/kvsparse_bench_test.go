package main

import "testing"

// Issue 16 speed target: llama-3.1-8b decode of 1024 tokens at a 32K
// context with one technique on, selections included: under 5 s and
// 300 MB (docs/kv-sparsity.md, Speed).
func BenchmarkRunLlama31_8BDecode32KEvict(b *testing.B) {
	benchRun(b, "run", "--config", "llm-128x128", "--workload", "llama-3.1-8b", "--phase", "decode",
		"--prompt", "32768", "--gen", "1024", "--set", "kv_sparsity.method=evict", "--format", "json")
}

func BenchmarkRunLlama31_8BDecode32KHISA(b *testing.B) {
	benchRun(b, "run", "--config", "llm-128x128", "--workload", "llama-3.1-8b", "--phase", "decode",
		"--prompt", "32768", "--gen", "1024", "--set", "kv_sparsity.method=hisa", "--format", "json")
}

func BenchmarkRunLlama31_8BDecode32KMustafar(b *testing.B) {
	benchRun(b, "run", "--config", "llm-128x128", "--workload", "llama-3.1-8b", "--phase", "decode",
		"--prompt", "32768", "--gen", "1024", "--set", "kv_sparsity.method=mustafar", "--format", "json")
}

func BenchmarkRunLlama31_8BDecode32KDense(b *testing.B) {
	benchRun(b, "run", "--config", "llm-128x128", "--workload", "llama-3.1-8b", "--phase", "decode",
		"--prompt", "32768", "--gen", "1024", "--format", "json")
}
