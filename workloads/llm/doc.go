// Package llm describes decoder-only transformer language models with the
// fields of a Hugging Face config.json (hidden_size, num_key_value_heads,
// num_local_experts, ...), reads real config.json files, holds a zoo of
// published models, sizes the KV cache and checks that weights, cache and
// activations fit in memory, and lowers a prefill or a decode step to its
// ordered operators: weight GEMMs, attention GEMMs over the cache, vector
// operations and MoE layers (routed by workloads/moe).
//
// The package only describes work; arch.SimulateLLM runs it.
package llm
