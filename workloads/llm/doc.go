// Package llm describes decoder-only transformer language models with the
// fields of a Hugging Face config.json (hidden_size, num_key_value_heads,
// num_local_experts, ...), reads real config.json files, holds a zoo of
// published models, sizes the KV cache and checks that weights, cache and
// activations fit in memory.
//
// The package only describes work: inference/ops lowers a prefill or a
// decode step of a model to its ordered operators and inference.SimulateLLM
// runs them.
package llm
