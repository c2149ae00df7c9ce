package llm

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sparsesim/sparsesim/workloads"
)

// hf is where every zoo entry's values come from: the model's config.json
// on the Hugging Face Hub, as published.
func hf(repo string) string { return "huggingface.co/" + repo + "/blob/main/config.json" }

// zoo holds the published configurations. GPT-2's n_embd/n_layer/n_head
// map onto hidden_size/num_hidden_layers/num_attention_heads.
var zoo = []Model{
	{Name: "llama-3.2-1b", Source: hf("meta-llama/Llama-3.2-1B"), ModelType: "llama",
		HiddenSize: 2048, IntermediateSize: 8192, NumHiddenLayers: 16, NumAttentionHeads: 32, NumKeyValueHeads: 8,
		HeadDim: 64, VocabSize: 128256, HiddenAct: "silu", TieWordEmbeddings: true, MaxPositionEmbeddings: 131072, Gated: true},
	{Name: "llama-3.1-8b", Source: hf("meta-llama/Llama-3.1-8B"), ModelType: "llama",
		HiddenSize: 4096, IntermediateSize: 14336, NumHiddenLayers: 32, NumAttentionHeads: 32, NumKeyValueHeads: 8,
		VocabSize: 128256, HiddenAct: "silu", MaxPositionEmbeddings: 131072, Gated: true},
	{Name: "mistral-7b", Source: hf("mistralai/Mistral-7B-v0.1"), ModelType: "mistral",
		HiddenSize: 4096, IntermediateSize: 14336, NumHiddenLayers: 32, NumAttentionHeads: 32, NumKeyValueHeads: 8,
		VocabSize: 32000, HiddenAct: "silu", MaxPositionEmbeddings: 32768, SlidingWindow: 4096, Gated: true},
	// Qwen2.5-7B publishes sliding_window 131072 with use_sliding_window
	// false: no window applies.
	{Name: "qwen2.5-7b", Source: hf("Qwen/Qwen2.5-7B"), ModelType: "qwen2",
		HiddenSize: 3584, IntermediateSize: 18944, NumHiddenLayers: 28, NumAttentionHeads: 28, NumKeyValueHeads: 4,
		VocabSize: 152064, HiddenAct: "silu", MaxPositionEmbeddings: 131072, Gated: true},
	{Name: "mixtral-8x7b", Source: hf("mistralai/Mixtral-8x7B-v0.1"), ModelType: "mixtral",
		HiddenSize: 4096, IntermediateSize: 14336, NumHiddenLayers: 32, NumAttentionHeads: 32, NumKeyValueHeads: 8,
		VocabSize: 32000, HiddenAct: "silu", MaxPositionEmbeddings: 32768, Gated: true,
		NumExperts: 8, NumExpertsPerTok: 2},
	{Name: "olmoe-1b-7b", Source: hf("allenai/OLMoE-1B-7B-0924"), ModelType: "olmoe",
		HiddenSize: 2048, IntermediateSize: 1024, NumHiddenLayers: 16, NumAttentionHeads: 16, NumKeyValueHeads: 16,
		VocabSize: 50304, HiddenAct: "silu", MaxPositionEmbeddings: 4096, Gated: true,
		NumExperts: 64, NumExpertsPerTok: 8},
	{Name: "gpt2-small", Source: hf("openai-community/gpt2"), ModelType: "gpt2",
		HiddenSize: 768, IntermediateSize: 3072, NumHiddenLayers: 12, NumAttentionHeads: 12,
		VocabSize: 50257, HiddenAct: "gelu_new", TieWordEmbeddings: true, MaxPositionEmbeddings: 1024},
	{Name: "gpt2-medium", Source: hf("openai-community/gpt2-medium"), ModelType: "gpt2",
		HiddenSize: 1024, IntermediateSize: 4096, NumHiddenLayers: 24, NumAttentionHeads: 16,
		VocabSize: 50257, HiddenAct: "gelu_new", TieWordEmbeddings: true, MaxPositionEmbeddings: 1024},
}

// The GPT-2 descriptions are also the model zoo's one-pass GPT-2 workloads
// (`--workload gpt2-small` on a one-pass engine): a single pass over
// max_position_embeddings tokens.
func init() {
	for _, m := range zoo {
		if m.ModelType != "gpt2" {
			continue
		}
		desc := fmt.Sprintf("GPT-2 %s (%d layers, d=%d, %d heads), one full-context pass", strings.TrimPrefix(m.Name, "gpt2-"),
			m.NumHiddenLayers, m.HiddenSize, m.NumAttentionHeads)
		workloads.RegisterTransformer(m.Name, desc, m.Source+" (Radford et al. 2019, Table 2)",
			m.NumHiddenLayers, m.HiddenSize, m.NumAttentionHeads, m.IntermediateSize, m.MaxPositionEmbeddings)
	}
}

// Lookup finds a zoo model by name.
func Lookup(name string) (Model, bool) {
	for _, m := range zoo {
		if m.Name == strings.ToLower(name) {
			return m, true
		}
	}
	return Model{}, false
}

// Models lists the zoo sorted by name.
func Models() []Model {
	out := append([]Model(nil), zoo...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names lists the zoo's names, sorted.
func Names() []string {
	var s []string
	for _, m := range Models() {
		s = append(s, m.Name)
	}
	return s
}
