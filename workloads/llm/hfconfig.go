package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sparsesim/sparsesim/internal/usererr"
)

// hfConfig holds the config.json keys the model uses; every other key is
// ignored. Pointers tell a missing key from a zero; GPT-2's own names
// (n_embd, n_layer, ...) are read as aliases.
type hfConfig struct {
	ModelType             *string `json:"model_type"`
	HiddenSize            *int    `json:"hidden_size"`
	IntermediateSize      *int    `json:"intermediate_size"`
	NumHiddenLayers       *int    `json:"num_hidden_layers"`
	NumAttentionHeads     *int    `json:"num_attention_heads"`
	NumKeyValueHeads      *int    `json:"num_key_value_heads"`
	HeadDim               *int    `json:"head_dim"`
	VocabSize             *int    `json:"vocab_size"`
	HiddenAct             *string `json:"hidden_act"`
	TieWordEmbeddings     *bool   `json:"tie_word_embeddings"`
	MaxPositionEmbeddings *int    `json:"max_position_embeddings"`
	SlidingWindow         *int    `json:"sliding_window"`
	UseSlidingWindow      *bool   `json:"use_sliding_window"`
	NumLocalExperts       *int    `json:"num_local_experts"`
	NumExperts            *int    `json:"num_experts"`
	NRoutedExperts        *int    `json:"n_routed_experts"`
	NumExpertsPerTok      *int    `json:"num_experts_per_tok"`
	MoEIntermediateSize   *int    `json:"moe_intermediate_size"`
	NSharedExperts        *int    `json:"n_shared_experts"`
	// GPT-2 names.
	NEmbd              *int    `json:"n_embd"`
	NLayer             *int    `json:"n_layer"`
	NHead              *int    `json:"n_head"`
	NInner             *int    `json:"n_inner"`
	NPositions         *int    `json:"n_positions"`
	ActivationFunction *string `json:"activation_function"`
}

// plainMLP lists model types whose feed-forward is up → activation → down
// with no gate; every other type is read as gated (SwiGLU/GeGLU), as the
// Llama family, Mistral, Qwen2, Mixtral and OLMoE are.
var plainMLP = []string{"gpt2", "gpt_neox", "gptj", "opt", "bloom", "falcon", "phi", "gpt_bigcode"}

// ReadHFConfig reads a Hugging Face config.json file.
func ReadHFConfig(path string) (Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Model{}, usererr.New("--workload %s: %v", path, err)
	}
	m, err := ParseHFConfig(path, b)
	if err != nil {
		return Model{}, err
	}
	m.Name = hfName(path, b)
	m.Source = "config.json: " + path
	return m, nil
}

// hfName names a config.json's model: the last element of its
// _name_or_path (the Hub id or the directory it was saved from), else the
// file's stem (my/qwen05.json is qwen05, not my). A file called
// config.json, as the Hub and save_pretrained write it, has no name of
// its own: its directory names it, as a downloaded snapshot's does.
func hfName(path string, text []byte) string {
	var c struct {
		NameOrPath string `json:"_name_or_path"`
	}
	if json.Unmarshal(text, &c) == nil {
		p := strings.TrimRight(strings.ReplaceAll(c.NameOrPath, "\\", "/"), "/")
		if n := p[strings.LastIndex(p, "/")+1:]; n != "" && n != "." && n != ".." {
			return n
		}
	}
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if stem == "config" {
		if dir := filepath.Base(filepath.Dir(path)); dir != "." && dir != string(filepath.Separator) {
			return dir
		}
	}
	return stem
}

// hfMarkers are config.json keys no architecture config has, one of which
// every decoder's config.json carries.
var hfMarkers = []string{"model_type", "architectures", "_name_or_path", "hidden_size", "num_hidden_layers", "n_embd", "n_layer", "vocab_size"}

// LooksLikeHFConfig reports whether text is a JSON object with a key of a
// Hugging Face config.json, so a file given where another kind is
// expected (no --phase; --config) can be named for what it is.
func LooksLikeHFConfig(text []byte) bool {
	var keys map[string]json.RawMessage
	if json.Unmarshal(text, &keys) != nil {
		return false
	}
	for _, k := range hfMarkers {
		if _, ok := keys[k]; ok {
			return true
		}
	}
	return false
}

// ParseHFConfig decodes config.json text named file. Unknown keys are
// ignored; a missing required key or a wrongly typed one is a user error
// naming the file (and line) and the key.
func ParseHFConfig(file string, text []byte) (Model, error) {
	var c hfConfig
	if err := json.Unmarshal(text, &c); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return Model{}, usererr.New("%s:%d: field %s: expected %s, got a JSON %s", file, lineOf(text, te.Offset), te.Field, te.Type, te.Value)
		case errors.As(err, &se):
			return Model{}, usererr.New("%s:%d: malformed JSON: %v", file, lineOf(text, se.Offset), err)
		}
		return Model{}, usererr.New("%s: malformed JSON: %v", file, err)
	}
	pick := func(vs ...*int) *int {
		for _, v := range vs {
			if v != nil {
				return v
			}
		}
		return nil
	}
	var missing []string
	need := func(name string, v *int) int {
		if v == nil {
			missing = append(missing, name)
			return 0
		}
		return *v
	}
	opt := func(v *int) int {
		if v == nil {
			return 0
		}
		return *v
	}
	m := Model{}
	if c.ModelType != nil {
		m.ModelType = *c.ModelType
	}
	m.HiddenSize = need("hidden_size", pick(c.HiddenSize, c.NEmbd))
	m.NumHiddenLayers = need("num_hidden_layers", pick(c.NumHiddenLayers, c.NLayer))
	m.NumAttentionHeads = need("num_attention_heads", pick(c.NumAttentionHeads, c.NHead))
	m.VocabSize = need("vocab_size", c.VocabSize)
	m.NumKeyValueHeads = opt(c.NumKeyValueHeads)
	m.HeadDim = opt(c.HeadDim)
	m.MaxPositionEmbeddings = opt(pick(c.MaxPositionEmbeddings, c.NPositions))
	m.NumExperts = opt(pick(c.NumLocalExperts, c.NumExperts, c.NRoutedExperts))
	m.NumExpertsPerTok = opt(c.NumExpertsPerTok)
	m.MoEIntermediateSize = opt(c.MoEIntermediateSize)
	m.NumSharedExperts = opt(c.NSharedExperts)
	switch {
	case c.IntermediateSize != nil:
		m.IntermediateSize = *c.IntermediateSize
	case c.NInner != nil:
		m.IntermediateSize = *c.NInner
	case c.NEmbd != nil: // GPT-2: n_inner null means 4·n_embd
		m.IntermediateSize = 4 * m.HiddenSize
	case m.MoEIntermediateSize == 0:
		missing = append(missing, "intermediate_size")
	}
	if len(missing) > 0 {
		return Model{}, usererr.New("%s: field %s: required by a decoder-only model, missing", file, missing[0])
	}
	// Hugging Face's PretrainedConfig default is tied embeddings.
	m.TieWordEmbeddings = c.TieWordEmbeddings == nil || *c.TieWordEmbeddings
	if c.SlidingWindow != nil && (c.UseSlidingWindow == nil || *c.UseSlidingWindow) {
		m.SlidingWindow = *c.SlidingWindow
	}
	switch {
	case c.HiddenAct != nil:
		m.HiddenAct = *c.HiddenAct
	case c.ActivationFunction != nil:
		m.HiddenAct = *c.ActivationFunction
	default:
		m.HiddenAct = "silu"
	}
	m.Gated = true
	for _, t := range plainMLP {
		if m.ModelType == t {
			m.Gated = false
		}
	}
	if err := m.Validate(); err != nil {
		return Model{}, usererr.New("%s: %v", file, err)
	}
	return m, nil
}

func lineOf(text []byte, offset int64) int {
	if offset > int64(len(text)) {
		offset = int64(len(text))
	}
	return bytes.Count(text[:offset], []byte("\n")) + 1
}

// Resolve finds a model: a zoo name or a path to a config.json.
func Resolve(ref string) (Model, error) {
	if m, ok := Lookup(ref); ok {
		return m, nil
	}
	if fi, err := os.Stat(ref); err == nil {
		if fi.IsDir() {
			return Model{}, DirError(ref)
		}
		return ReadHFConfig(ref)
	}
	return Model{}, usererr.New("--workload %s: not an LLM zoo model (%s) and no such config.json", ref, strings.Join(Names(), ", "))
}

// DirError refuses a directory given as --workload: it names the
// directory's config.json when it has one (a downloaded model's folder).
func DirError(dir string) error {
	cj := filepath.Join(dir, "config.json")
	if fi, err := os.Stat(cj); err == nil && !fi.IsDir() {
		return usererr.New("--workload %s: is a directory; did you mean its Hugging Face config (--workload %s, with --phase prefill, decode or generate)?", dir, cj)
	}
	return usererr.New("--workload %s: is a directory, not a workload file (a SCALE-Sim topology .csv, a SpAtten trace .csv, or an LLM's config.json with --phase)", dir)
}

// String names the model with its source.
func (m Model) String() string { return fmt.Sprintf("%s (%s)", m.Name, m.Source) }
