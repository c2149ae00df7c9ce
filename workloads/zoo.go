package workloads

import (
	"fmt"
	"sort"
	"strings"
)

// Params are the knobs a zoo model takes. Zero values mean the model's
// documented default.
type Params struct {
	Batch  int // images or sequences per run (default 1)
	SeqLen int // transformer tokens (default per model)
}

// Model is one entry of the built-in zoo.
type Model struct {
	Name        string
	Description string
	Source      string // where the shapes come from
	DefaultSeq  int    // 0 for CNNs
	build       func(p Params) ([]Layer, error)
}

// Build lowers the model to layers with the given parameters.
func (m Model) Build(p Params) (Workload, error) {
	if p.Batch <= 0 {
		p.Batch = 1
	}
	if p.SeqLen <= 0 {
		p.SeqLen = m.DefaultSeq
	}
	layers, err := m.build(p)
	if err != nil {
		return Workload{}, err
	}
	name := m.Name
	if m.DefaultSeq > 0 {
		name = fmt.Sprintf("%s(seq=%d,batch=%d)", m.Name, p.SeqLen, p.Batch)
	} else if p.Batch > 1 {
		name = fmt.Sprintf("%s(batch=%d)", m.Name, p.Batch)
	}
	return Workload{Name: name, Source: "zoo:" + m.Name, Layers: layers}, nil
}

var zoo = map[string]Model{}

func register(m Model) { zoo[m.Name] = m }

// Lookup finds a zoo model by name.
func Lookup(name string) (Model, bool) {
	m, ok := zoo[strings.ToLower(name)]
	return m, ok
}

// Models lists the zoo sorted by name.
func Models() []Model {
	out := make([]Model, 0, len(zoo))
	for _, m := range zoo {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names lists zoo model names, sorted.
func Names() []string {
	var s []string
	for _, m := range Models() {
		s = append(s, m.Name)
	}
	return s
}

// convBuilder accumulates conv layers while tracking the feature-map size,
// so model tables read like the papers' (kernel, channels, stride, padding).
type convBuilder struct {
	batch  int
	layers []Layer
	err    error
}

// conv adds a conv on an h×h input with padding pad and returns the output
// size. The IFMAP handed to the SCALE-Sim lowering is trimmed to the rows
// and columns the filter actually visits, (OH−1)·S + F, so SCALE-Sim's
// ceil((H − F + S)/S) equals PyTorch's floor((H + 2p − F)/S) + 1.
func (b *convBuilder) conv(name string, h, k, cin, cout, stride, pad, groups int) int {
	oh := (h+2*pad-k)/stride + 1
	used := (oh-1)*stride + k
	l, err := ConvSpec{Name: name, IfmapH: used, IfmapW: used, FilterH: k, FilterW: k,
		Channels: cin, Filters: cout, Stride: stride, Groups: groups, Batch: b.batch,
		InH: h, InW: h, Pad: pad}.Lower()
	if err != nil && b.err == nil {
		b.err = err
	}
	b.layers = append(b.layers, l)
	return oh
}

func (b *convBuilder) fc(name string, in, out int) {
	l := GEMM(name, b.batch, out, in)
	l.Kind = "fc"
	b.layers = append(b.layers, l)
}

func pool(h, k, stride, pad int) int { return (h+2*pad-k)/stride + 1 }

func init() {
	register(Model{Name: "resnet18", Description: "ResNet-18, 224×224 ImageNet",
		Source: "He et al., CVPR 2016, Table 1; torchvision resnet18 (stride on the 3×3 conv)",
		build:  func(p Params) ([]Layer, error) { return resnet(p, []int{2, 2, 2, 2}, false) }})
	register(Model{Name: "resnet50", Description: "ResNet-50 v1.5, 224×224 ImageNet",
		Source: "He et al., CVPR 2016, Table 1; torchvision resnet50 (v1.5: stride on the 3×3 conv)",
		build:  func(p Params) ([]Layer, error) { return resnet(p, []int{3, 4, 6, 3}, true) }})
	register(Model{Name: "vgg16", Description: "VGG-16 (configuration D), 224×224",
		Source: "Simonyan & Zisserman, ICLR 2015, Table 1 column D", build: vgg16})
	register(Model{Name: "alexnet", Description: "AlexNet as in torchvision (64-192-384-256-256 channels)",
		Source: "Krizhevsky et al. 2012; torchvision alexnet (one-GPU variant)", build: alexnet})
	register(Model{Name: "mobilenet", Description: "MobileNet v1 1.0-224 with true depthwise convs",
		Source: "Howard et al., arXiv 1704.04861, Table 1", build: mobilenetV1})
	for _, t := range transformers {
		t.register()
	}
}

func (t transformer) register() {
	register(Model{Name: t.name, Description: t.desc, Source: t.source, DefaultSeq: t.seq,
		build: func(p Params) ([]Layer, error) { return t.layers(p), nil }})
}

// RegisterTransformer adds a one-pass transformer (blocks of QKV, per-head
// scores and prob×V, projection, two FFN GEMMs over seq tokens) to the
// zoo. The LLM package registers its GPT-2 descriptions this way, so the
// one-pass entries and the decoder runs share one description.
func RegisterTransformer(name, desc, source string, blocks, dModel, heads, ffn, seq int) {
	t := transformer{name: name, desc: desc, source: source, blocks: blocks, dModel: dModel, heads: heads, ffn: ffn, seq: seq}
	transformers = append(transformers, t)
	t.register()
}

func resnet(p Params, blocks []int, bottleneck bool) ([]Layer, error) {
	b := &convBuilder{batch: p.Batch}
	h := b.conv("conv1", 224, 7, 3, 64, 2, 3, 1)
	h = pool(h, 3, 2, 1)
	in := 64
	for stage, n := range blocks {
		width := 64 << stage
		for blk := 0; blk < n; blk++ {
			stride := 1
			if blk == 0 && stage > 0 {
				stride = 2
			}
			pre := fmt.Sprintf("layer%d.%d.", stage+1, blk)
			out := width
			hin := h
			if bottleneck {
				out = 4 * width
				b.conv(pre+"conv1", h, 1, in, width, 1, 0, 1)
				h = b.conv(pre+"conv2", h, 3, width, width, stride, 1, 1)
				b.conv(pre+"conv3", h, 1, width, out, 1, 0, 1)
			} else {
				h = b.conv(pre+"conv1", h, 3, in, width, stride, 1, 1)
				b.conv(pre+"conv2", h, 3, width, width, 1, 1, 1)
			}
			if stride != 1 || in != out {
				b.conv(pre+"downsample", hin, 1, in, out, stride, 0, 1)
			}
			in = out
		}
	}
	b.fc("fc", in, 1000)
	return b.layers, b.err
}

func vgg16(p Params) ([]Layer, error) {
	b := &convBuilder{batch: p.Batch}
	h, in := 224, 3
	for i, stage := range [][]int{{64, 64}, {128, 128}, {256, 256, 256}, {512, 512, 512}, {512, 512, 512}} {
		for j, c := range stage {
			h = b.conv(fmt.Sprintf("conv%d_%d", i+1, j+1), h, 3, in, c, 1, 1, 1)
			in = c
		}
		h = pool(h, 2, 2, 0)
	}
	b.fc("fc6", in*h*h, 4096)
	b.fc("fc7", 4096, 4096)
	b.fc("fc8", 4096, 1000)
	return b.layers, b.err
}

func alexnet(p Params) ([]Layer, error) {
	b := &convBuilder{batch: p.Batch}
	h := b.conv("conv1", 224, 11, 3, 64, 4, 2, 1)
	h = pool(h, 3, 2, 0)
	h = b.conv("conv2", h, 5, 64, 192, 1, 2, 1)
	h = pool(h, 3, 2, 0)
	h = b.conv("conv3", h, 3, 192, 384, 1, 1, 1)
	h = b.conv("conv4", h, 3, 384, 256, 1, 1, 1)
	h = b.conv("conv5", h, 3, 256, 256, 1, 1, 1)
	h = pool(h, 3, 2, 0)
	b.fc("fc6", 256*h*h, 4096)
	b.fc("fc7", 4096, 4096)
	b.fc("fc8", 4096, 1000)
	return b.layers, b.err
}

func mobilenetV1(p Params) ([]Layer, error) {
	b := &convBuilder{batch: p.Batch}
	h := b.conv("conv1", 224, 3, 3, 32, 2, 1, 1)
	in := 32
	for i, s := range []struct{ out, stride int }{
		{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2},
		{512, 1}, {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1},
	} {
		h = b.conv(fmt.Sprintf("dw%d", i+1), h, 3, in, in, s.stride, 1, in)
		b.conv(fmt.Sprintf("pw%d", i+1), h, 1, in, s.out, 1, 0, 1)
		in = s.out
	}
	b.fc("fc", in, 1000)
	return b.layers, b.err
}

// transformer is an encoder/decoder stack described by its hyper-parameters.
type transformer struct {
	name, desc, source string
	blocks, dModel     int
	heads, ffn, seq    int
	patchEmbed         bool // ViT: a 16×16/16 conv turns the image into tokens
}

var transformers = []transformer{
	{name: "bert-base", desc: "BERT-Base encoder (12 layers, d=768, 12 heads)", seq: 384,
		source: "Devlin et al., NAACL 2019, §3", blocks: 12, dModel: 768, heads: 12, ffn: 3072},
	{name: "bert-large", desc: "BERT-Large encoder (24 layers, d=1024, 16 heads)", seq: 384,
		source: "Devlin et al., NAACL 2019, §3", blocks: 24, dModel: 1024, heads: 16, ffn: 4096},
	// gpt2-small and gpt2-medium are the LLM zoo's decoder descriptions
	// (workloads/llm), registered from there as one full-context pass.
	{name: "vit-b16", desc: "ViT-B/16 at 224×224 (196 patches + class token)", seq: 197,
		source: "Dosovitskiy et al., ICLR 2021, Table 1", blocks: 12, dModel: 768, heads: 12, ffn: 3072, patchEmbed: true},
}

// layers lowers every block to its six GEMMs; the two attention products are
// per head (Groups = batch·heads) and have no weight operand.
func (t transformer) layers(p Params) []Layer {
	var out []Layer
	if t.patchEmbed {
		b := &convBuilder{batch: p.Batch}
		b.conv("patch_embed", 224, 16, 3, t.dModel, 16, 0, 1)
		out = append(out, b.layers...)
	}
	tokens := p.Batch * p.SeqLen
	dh := t.dModel / t.heads
	for i := 0; i < t.blocks; i++ {
		pre := fmt.Sprintf("block%d.", i)
		out = append(out,
			GEMM(pre+"qkv", tokens, 3*t.dModel, t.dModel),
			Layer{Name: pre + "attn_qk", Kind: "attn_qk", M: p.SeqLen, N: p.SeqLen, K: dh, Groups: p.Batch * t.heads},
			Layer{Name: pre + "attn_av", Kind: "attn_av", M: p.SeqLen, N: dh, K: p.SeqLen, Groups: p.Batch * t.heads},
			GEMM(pre+"proj", tokens, t.dModel, t.dModel),
			GEMM(pre+"ffn1", tokens, t.ffn, t.dModel),
			GEMM(pre+"ffn2", tokens, t.dModel, t.ffn),
		)
	}
	return out
}

// TransformerShape returns a zoo transformer's depth, heads and width.
func TransformerShape(name string) (layers, heads, dModel int, ok bool) {
	for _, t := range transformers {
		if t.name == name {
			return t.blocks, t.heads, t.dModel, true
		}
	}
	return 0, 0, 0, false
}
