package llm

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/internal/usererr"
)

// Published config.json files, copied as the Hub serves them (every key,
// including those the simulator ignores).
const llama31_8B = `{
  "architectures": [
    "LlamaForCausalLM"
  ],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "bos_token_id": 128000,
  "eos_token_id": 128001,
  "hidden_act": "silu",
  "hidden_size": 4096,
  "initializer_range": 0.02,
  "intermediate_size": 14336,
  "max_position_embeddings": 131072,
  "mlp_bias": false,
  "model_type": "llama",
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_scaling": {
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 8192,
    "rope_type": "llama3"
  },
  "rope_theta": 500000.0,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.43.0.dev0",
  "use_cache": true,
  "vocab_size": 128256
}
`

const mixtral8x7B = `{
  "architectures": [
    "MixtralForCausalLM"
  ],
  "attention_dropout": 0.0,
  "bos_token_id": 1,
  "eos_token_id": 2,
  "hidden_act": "silu",
  "hidden_size": 4096,
  "initializer_range": 0.02,
  "intermediate_size": 14336,
  "max_position_embeddings": 32768,
  "model_type": "mixtral",
  "num_attention_heads": 32,
  "num_experts_per_tok": 2,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "num_local_experts": 8,
  "output_router_logits": false,
  "rms_norm_eps": 1e-05,
  "rope_theta": 1000000.0,
  "router_aux_loss_coef": 0.02,
  "sliding_window": null,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.36.0.dev0",
  "use_cache": true,
  "vocab_size": 32000
}
`

const qwen25_7B = `{
  "architectures": [
    "Qwen2ForCausalLM"
  ],
  "attention_dropout": 0.0,
  "bos_token_id": 151643,
  "eos_token_id": 151643,
  "hidden_act": "silu",
  "hidden_size": 3584,
  "initializer_range": 0.02,
  "intermediate_size": 18944,
  "max_position_embeddings": 131072,
  "max_window_layers": 28,
  "model_type": "qwen2",
  "num_attention_heads": 28,
  "num_hidden_layers": 28,
  "num_key_value_heads": 4,
  "rms_norm_eps": 1e-06,
  "rope_theta": 1000000.0,
  "sliding_window": 131072,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.43.1",
  "use_cache": true,
  "use_mrope": false,
  "use_sliding_window": false,
  "vocab_size": 152064
}
`

const gpt2 = `{
  "activation_function": "gelu_new",
  "architectures": [
    "GPT2LMHeadModel"
  ],
  "attn_pdrop": 0.1,
  "bos_token_id": 50256,
  "embd_pdrop": 0.1,
  "eos_token_id": 50256,
  "initializer_range": 0.02,
  "layer_norm_epsilon": 1e-05,
  "model_type": "gpt2",
  "n_ctx": 1024,
  "n_embd": 768,
  "n_head": 12,
  "n_layer": 12,
  "n_positions": 1024,
  "resid_pdrop": 0.1,
  "summary_activation": null,
  "summary_first_dropout": 0.1,
  "summary_proj_to_labels": true,
  "summary_type": "cls_index",
  "summary_use_proj": true,
  "task_specific_params": {
    "text-generation": {
      "do_sample": true,
      "max_length": 50
    }
  },
  "vocab_size": 50257
}
`

// TestHFConfigGivesZooWorkload writes published config.json files and
// checks each reads to its zoo entry, field for field (so it lowers to the
// same operators: inference/ops lowers a model from its fields alone).
func TestHFConfigGivesZooWorkload(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ zoo, text string }{
		{"llama-3.1-8b", llama31_8B}, {"mixtral-8x7b", mixtral8x7B}, {"qwen2.5-7b", qwen25_7B}, {"gpt2-small", gpt2},
	} {
		path := filepath.Join(dir, c.zoo, "config.json")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := Resolve(path)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := Lookup(c.zoo)
		if got.Name != c.zoo {
			t.Errorf("%s: named %q after its directory", path, got.Name)
		}
		got.Name, got.Source = want.Name, want.Source
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\nconfig.json %+v\nzoo         %+v", c.zoo, got, want)
		}
	}
}

// TestHFConfigErrors: a missing required key or a wrongly typed one is a
// user error naming the file, the line where it can, and the key.
func TestHFConfigErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{strings.Replace(llama31_8B, `"hidden_size": 4096,`, "", 1), "field hidden_size: required"},
		{strings.Replace(llama31_8B, `"vocab_size": 128256`, `"x": 1`, 1), "field vocab_size: required"},
		{strings.Replace(llama31_8B, `"num_key_value_heads": 8,`, `"num_key_value_heads": "8",`, 1), "c.json:18: field num_key_value_heads"},
		{strings.Replace(llama31_8B, `"num_key_value_heads": 8,`, `"num_key_value_heads": 5,`, 1), "field num_key_value_heads: 5 does not divide"},
		{strings.Replace(mixtral8x7B, `"num_experts_per_tok": 2,`, `"num_experts_per_tok": 9,`, 1), "field num_experts_per_tok"},
		{"{", "malformed JSON"},
	} {
		_, err := ParseHFConfig("c.json", []byte(c.text))
		var ue *usererr.Error
		if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want a user error with %q, got %v", c.want, err)
		}
	}
}

// TestZooCounts checks the zoo against published parameter counts
// (model cards; not derived from the same formula as the config values).
func TestZooCounts(t *testing.T) {
	for _, c := range []struct {
		name     string
		billions float64
		tol      float64
	}{
		{"llama-3.2-1b", 1.24, 0.01}, // model card: 1.23B
		{"llama-3.1-8b", 8.03, 0.01}, // 8.03B
		{"mistral-7b", 7.24, 0.01},   // 7.24B
		{"qwen2.5-7b", 7.61, 0.02},   // 7.61B (Qwen adds QKV biases, ignored here)
		{"mixtral-8x7b", 46.7, 0.01}, // 46.7B
		{"olmoe-1b-7b", 6.92, 0.02},  // 6.9B total
		{"gpt2-small", 0.124, 0.02},  // 124M
	} {
		m, _ := Lookup(c.name)
		got := float64(m.Params()) / 1e9
		if d := got/c.billions - 1; d > c.tol || d < -c.tol {
			t.Errorf("%s: %.3fB parameters, published %.3fB", c.name, got, c.billions)
		}
	}
}

// TestKVBytesPerToken: 2 · kv_heads · head_dim · bytes, worked by hand.
func TestKVBytesPerToken(t *testing.T) {
	m, _ := Lookup("llama-3.1-8b")
	for bits, want := range map[int]int64{16: 4096, 8: 2048, 4: 1024} { // 2·8·128·bits/8
		if got := m.KVBytesPerTokenLayer(bits); got != want {
			t.Errorf("%d bits: %d bytes per token per layer, want %d", bits, got, want)
		}
	}
	// Mistral's 4096-token sliding window caps the cache.
	mi, _ := Lookup("mistral-7b")
	if a, b := mi.KVCacheBytes(1, 4096, 16), mi.KVCacheBytes(1, 9000, 16); a != b || a != 4096*32*4096 {
		t.Errorf("mistral cache at 4096 and 9000 tokens: %d, %d; want both %d", a, b, 4096*32*4096)
	}
}

// TestHFConfigNamed: a config.json is named by its _name_or_path's last
// element, else its file's stem; a file called config.json by its folder
// (issue 27: my/qwen05.json was named "my"). A folder, or a config.json
// anywhere else, is named for what it is.
func TestHFConfigNamed(t *testing.T) {
	dir := t.TempDir()
	body := `"hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 1000}`
	for _, c := range []struct{ path, head, want string }{
		{"my/qwen05.json", `{`, "qwen05"},
		{"my/qwen05.json", `{"_name_or_path": "Qwen/Qwen2.5-0.5B", `, "Qwen2.5-0.5B"},
		{"snap/config.json", `{"_name_or_path": "/home/me/ckpt/step-100/", `, "step-100"},
		{"snap/config.json", `{`, "snap"},
		{"snap/config.json", `{"_name_or_path": "", `, "snap"},
	} {
		p := filepath.Join(dir, c.path)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(c.head+body), 0o644)
		m, err := Resolve(p)
		if err != nil || m.Name != c.want {
			t.Errorf("%s %s: named %q (%v), want %q", c.path, c.head, m.Name, err, c.want)
		}
		if !LooksLikeHFConfig([]byte(c.head + body)) {
			t.Errorf("%s: not taken for a config.json", c.path)
		}
	}
	for _, s := range []string{`name: x`, `{"name": "systolic", "pe_array": {"rows": 8}}`, `[1, 2]`, ``} {
		if LooksLikeHFConfig([]byte(s)) {
			t.Errorf("%q taken for a config.json", s)
		}
	}
	if _, err := Resolve(filepath.Join(dir, "snap")); err == nil || !strings.Contains(err.Error(), "is a directory; did you mean its Hugging Face config (--workload "+filepath.Join(dir, "snap", "config.json")) {
		t.Errorf("a model folder: %v", err)
	}
}
