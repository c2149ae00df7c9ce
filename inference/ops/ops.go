package ops

import (
	"fmt"
	"sync/atomic"

	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/llm"
	"github.com/sparsesim/sparsesim/workloads/moe"
)

// Operator classes, the rows of the per-class report.
const (
	ClassQKV       = "qkv"
	ClassAttention = "attention"
	ClassOutProj   = "out_proj"
	ClassFFN       = "ffn"
	ClassRouter    = "router"
	ClassExperts   = "experts"
	ClassLMHead    = "lm_head"
	ClassVector    = "vector"
)

// Classes lists the operator classes in report order.
var Classes = []string{ClassQKV, ClassAttention, ClassOutProj, ClassFFN, ClassRouter, ClassExperts, ClassLMHead, ClassVector}

// OpKind says which unit runs an operator.
type OpKind int

// Operator kinds.
const (
	OpGEMM      OpKind = iota // the systolic array
	OpVector                  // the vector unit
	OpTopK                    // the top-k engine
	OpGather                  // the gather DMA (Op.Gather)
	OpAttention               // the attention engine (Op.Attn)
)

// Operation counts per element on the vector unit. They are assumptions
// (a plain implementation of each function), documented in docs/llm.md.
const (
	opsRMSNorm   = 4 // square, accumulate, scale by 1/rms, multiply by the weight
	opsLayerNorm = 6 // mean, subtract, square, accumulate, scale, affine
	opsRoPE      = 3 // x·cos, rotate(x)·sin, add
	opsSoftmax   = 5 // max, subtract, exp, accumulate, divide
	opsSiLUGate  = 5 // exp, add, divide (SiLU), multiply by the up projection
	opsGELU      = 8 // tanh approximation
	opsResidual  = 1
	opsCombine   = 2 // attention partial-result rescale and add; expert weight and add
)

// Operation counts of fused attention's online softmax (FlashAttention-2's
// recurrence: m is a query row's running max, l its running sum, O its
// partial output). Fused attention does no per-score divide: it divides
// each output once instead.
const (
	opsOnlineSoftmax  = 4 // per score: fold into the block's row max, subtract the max, exp, add to the block's row sum
	opsFlashRowStats  = 4 // per query row and KV block after the first: new max, subtract, exp (the correction c), l = c·l + sum
	opsFlashRescale   = 2 // per partial-output element and KV block after the first: multiply O by c, add the block's P·V
	opsFlashNormalize = 1 // per output element, once: divide by l
)

// Op is one operator of a step, run after the previous one finishes.
type Op struct {
	Kind  OpKind
	Class string
	Name  string
	// Routing is the MoE layer's routing decision (the OpTopK of a MoE
	// layer), for the routing statistics.
	Routing *moe.Decision
	// Expert is 1 + the routed expert an operator belongs to, 0 for
	// every other operator.
	Expert int
	// Layer is the GEMM (OpGEMM).
	Layer workloads.Layer
	// KVOperand marks attention GEMMs whose K×N operand is the KV cache
	// (read from DRAM: KV traffic, stored at the KV cache's type).
	KVOperand bool
	// KVWriteCols is how many of the N output columns are keys and values
	// appended to the cache (the QKV projection).
	KVWriteCols int
	// Elems and OpsPerElem size a vector operation.
	Elems      int64
	OpsPerElem int
	// PerCycle, when above 0, runs the vector operation on a
	// fixed-function unit of PerCycle operations a cycle (a bitmap
	// decoder) instead of the vector unit's lanes.
	PerCycle int64
	// Rounds are the top-k engine's quick-select candidate counts (OpTopK).
	Rounds []int
	// Gather is what an OpGather reads.
	Gather *Gather
	// Repeat > 1 runs the operator that many times back to back (chunks
	// of identical work); inference.SimulateLLM measures each run.
	Repeat int
	// Attn is what an OpAttention computes.
	Attn *AttnSpec
	// OverlapsArray marks vector work that runs while the array computes
	// the GEMMs just before it (a fused attention's online softmax works
	// on one tile while the array does the next): it costs only what it
	// takes beyond them.
	OverlapsArray bool
}

// StepSpec is one forward pass of the model.
type StepSpec struct {
	Prefill bool
	Batch   int // sequences
	New     int // tokens per sequence processed now (prompt length, or 1)
	// Context is the tokens per sequence in the cache once this step's
	// keys and values are appended (what attention runs over, before the
	// sliding window).
	Context int
	Step    int   // decode step index (routing seed), -1 for prefill
	Seed    int64 // routing seed
	// Router routes MoE layers (nil: uniform routing from Seed); SeqLen
	// is the positions a sequence has over the run (prompt + gen), which
	// maps positions to routing-trace tokens.
	Router *moe.Router
	SeqLen int
	// ChunkN and ChunkK are the decode attention's KV block along the
	// array's columns (QKᵀ) and rows (PV): the array's cols and rows.
	ChunkN, ChunkK int
	// FFN, when set, lowers a dense layer's feed-forward instead of the
	// dense up, activation and down (activation sparsity,
	// workloads/actsparse): prefix names the layer's operators.
	FFN func(prefix string, layer, step, tokens int) []Op
	// Attention, when set, lowers this decode step's attention instead of
	// the dense split-K GEMMs (KV-cache sparsity).
	Attention AttentionLowering
	// FlashKeys, when above 0, runs attention fused (one
	// workloads.KindAttnFused GEMM and the online softmax on the vector
	// unit): it is the KV block the engine tiles the fused layer with
	// (arch/systolic.FlashTiling), which sets how often the partial
	// output is rescaled. 0: unfused.
	FlashKeys int
	// KVBits is the KV cache's element width and WordBits the array's
	// operand width (0: the same). A narrower cache is read and written at
	// KVBits: the projection of keys and values runs apart from the
	// queries' so that its output can be stored narrow.
	KVBits, WordBits int
}

// narrowKV is the cache's width when it is narrower than the array's
// operands, else 0 (stored at the operand width).
func (s StepSpec) narrowKV() int {
	if s.KVBits > 0 && s.KVBits < s.WordBits {
		return s.KVBits
	}
	return 0
}

// AttentionLowering lowers one decoder layer's attention over L cached
// tokens in a decode step (p is the layer's name prefix).
type AttentionLowering interface {
	Attention(m llm.Model, layer int, p string, s StepSpec, L int) []Op
}

// AttentionAppender is an AttentionLowering that can append its
// operators to dst (Append) instead of returning a slice of its own:
// a decode step's operators then go into one reused buffer.
type AttentionAppender interface {
	AppendAttention(dst []Op, m llm.Model, layer int, p string, s StepSpec, L int) []Op
}

// DenseAttention is the dense lowering Lower uses without an
// AttentionLowering (a sparse lowering may fall back to it): m's
// attention over L cached tokens, its operators named with prefix p.
func DenseAttention(m llm.Model, p string, s StepSpec, L int) []Op {
	return appendAttention(nil, m, newLayerNames(p), s, L)
}

func gemm(class, name string, l workloads.Layer) Op {
	l.Name = name
	return Op{Kind: OpGEMM, Class: class, Name: name, Layer: l}
}

func vec(name string, elems int64, ops int) Op {
	return Op{Kind: OpVector, Class: ClassVector, Name: name, Elems: elems, OpsPerElem: ops}
}

// attnGEMM is an activation×KV product, Groups independent GEMMs.
func (s StepSpec) attnGEMM(name, kind string, m, n, k, groups int) Op {
	return Op{Kind: OpGEMM, Class: ClassAttention, Name: name, KVOperand: true,
		Layer: workloads.Layer{Name: name, Kind: kind, M: m, N: n, K: k, Groups: groups, FilterBits: s.narrowKV()}}
}

// Lower lowers one step of m to its operators in execution order: per
// decoder layer norm, QKV, RoPE, attention, output projection, residual,
// norm, feed-forward (or router, top-k, experts, shared experts),
// residual; then the final norm and the LM head for the last token of each
// sequence.
func Lower(m llm.Model, s StepSpec) []Op { return Append(nil, m, s) }

// Append appends Lower(m, s) to dst: a run that lowers step after step
// reuses one buffer (a 32-layer decode step is hundreds of operators, and
// growing a fresh slice for each step was most of a long decode's
// allocation).
func Append(dst []Op, m llm.Model, s StepSpec) []Op {
	ops := dst
	T := s.Batch * s.New // tokens in flight
	h, hd := m.HiddenSize, m.HeadSize()
	heads, kv := m.NumAttentionHeads, m.KVHeads()
	L := m.AttentionLength(s.Context)
	norm := opsRMSNorm
	if m.ModelType == "gpt2" {
		norm = opsLayerNorm
	}
	t64 := int64(T)
	for li := 0; li < m.NumHiddenLayers; li++ {
		p := layerPrefix(li)
		n := layerNamesOf(li)
		ops = append(ops, vec(n.attnNorm, t64*int64(h), norm))
		if nb := s.narrowKV(); nb > 0 {
			q := gemm(ClassQKV, n.qProj, workloads.GEMM("", T, heads*hd, h))
			kvp := gemm(ClassQKV, n.kvProj, workloads.GEMM("", T, 2*kv*hd, h))
			kvp.Layer.OutBits, kvp.KVWriteCols = nb, 2*kv*hd
			ops = append(ops, q, kvp)
		} else {
			qkv := gemm(ClassQKV, n.qkv, workloads.GEMM("", T, (heads+2*kv)*hd, h))
			qkv.KVWriteCols = 2 * kv * hd
			ops = append(ops, qkv)
		}
		if m.ModelType != "gpt2" { // GPT-2 adds learned positions instead
			ops = append(ops, vec(n.rope, t64*int64((heads+kv)*hd), opsRoPE))
		}
		if a, ok := s.Attention.(AttentionAppender); ok && !s.Prefill {
			ops = a.AppendAttention(ops, m, li, p, s, L)
		} else if s.Attention != nil && !s.Prefill {
			ops = append(ops, s.Attention.Attention(m, li, p, s, L)...)
		} else {
			ops = appendAttention(ops, m, n, s, L)
		}
		ops = append(ops,
			gemm(ClassOutProj, n.oProj, workloads.GEMM("", T, h, heads*hd)),
			vec(n.attnResidual, t64*int64(h), opsResidual),
			vec(n.ffnNorm, t64*int64(h), norm))
		if m.MoE() {
			ops = append(ops, moeLayer(m, p, s, li, T)...)
		} else if s.FFN != nil {
			ops = append(ops, s.FFN(p, li, s.Step, T)...)
		} else {
			ops = appendFFN(ops, m, ClassFFN, n.up, n.act, n.down, T, m.IntermediateSize)
		}
		ops = append(ops, vec(n.ffnResidual, t64*int64(h), opsResidual))
	}
	last := int64(s.Batch)
	ops = append(ops, vec("final_norm", last*int64(h), norm),
		gemm(ClassLMHead, "lm_head", workloads.GEMM("", s.Batch, m.VocabSize, h)))
	return ops
}

// layerNames are one decoder layer's operator names (its prefix and the
// operator's), made once per layer instead of once per step.
type layerNames struct {
	attnNorm, qProj, kvProj, qkv, rope, oProj, attnResidual, ffnNorm, ffnResidual string
	attnQK, attnQKTail, softmax, attnPV, attnPVTail, attnCombine                  string
	attnFused, attnFusedTail, onlineSoftmax, attnRescale, attnNormalize           string
	up, act, down                                                                 string
}

func newLayerNames(p string) *layerNames {
	return &layerNames{attnNorm: p + "attn_norm", qProj: p + "q_proj", kvProj: p + "kv_proj", qkv: p + "qkv", rope: p + "rope",
		oProj: p + "o_proj", attnResidual: p + "attn_residual", ffnNorm: p + "ffn_norm", ffnResidual: p + "ffn_residual",
		attnQK: p + "attn_qk", attnQKTail: p + "attn_qk_tail", softmax: p + "softmax", attnPV: p + "attn_pv",
		attnPVTail: p + "attn_pv_tail", attnCombine: p + "attn_combine", up: p + "up", act: p + "act", down: p + "down",
		attnFused: p + "attn_fused", attnFusedTail: p + "attn_fused_tail", onlineSoftmax: p + "online_softmax", attnRescale: p + "attn_rescale", attnNormalize: p + "attn_normalize"}
}

// namedLayers is how many layers' names are made once.
const namedLayers = 512

// names caches the first layers' names (Append may run on several
// goroutines: a layer built twice at once is built alike).
var names [namedLayers]atomic.Pointer[layerNames]

func layerNamesOf(li int) *layerNames {
	if li >= len(names) {
		return newLayerNames(layerPrefix(li))
	}
	if n := names[li].Load(); n != nil {
		return n
	}
	n := newLayerNames(layerPrefix(li))
	names[li].Store(n)
	return n
}

// appendAttention appends m's attention operators, named by n, to ops:
// the scores, softmax and probability×V products over L cached tokens.
// Prefill runs each KV head's query group as one GEMM per product. Decode
// splits the cache into blocks of the array's width (split-K, as
// FlashDecoding does): whole blocks of every head are the groups of one
// GEMM, the partial block a second one, and the vector unit rescales and
// adds the per-block partial outputs.
func appendAttention(ops []Op, m llm.Model, n *layerNames, s StepSpec, L int) []Op {
	if s.FlashKeys > 0 {
		return appendFusedAttention(ops, m, n, s, L)
	}
	hd, kv, g := m.HeadSize(), m.KVHeads(), m.QueryGroup()
	bk := s.Batch * kv
	scores := int64(s.Batch) * int64(m.NumAttentionHeads) * int64(s.New) * int64(L)
	if s.Prefill || s.ChunkN <= 0 || s.ChunkK <= 0 {
		return append(ops,
			s.attnGEMM(n.attnQK, "attn_qk", g*s.New, L, hd, bk),
			vec(n.softmax, scores, opsSoftmax),
			s.attnGEMM(n.attnPV, "attn_av", g*s.New, hd, L, bk),
		)
	}
	if full := L / s.ChunkN; full > 0 {
		ops = append(ops, s.attnGEMM(n.attnQK, "attn_qk", g, s.ChunkN, hd, bk*full))
	}
	if r := L % s.ChunkN; r > 0 {
		ops = append(ops, s.attnGEMM(n.attnQKTail, "attn_qk", g, r, hd, bk))
	}
	ops = append(ops, vec(n.softmax, scores, opsSoftmax))
	blocks := 0
	if full := L / s.ChunkK; full > 0 {
		ops = append(ops, s.attnGEMM(n.attnPV, "attn_av", g, hd, s.ChunkK, bk*full))
		blocks += full
	}
	if r := L % s.ChunkK; r > 0 {
		ops = append(ops, s.attnGEMM(n.attnPVTail, "attn_av", g, hd, r, bk))
		blocks++
	}
	if blocks > 1 {
		ops = append(ops, vec(n.attnCombine, int64(s.Batch)*int64(m.NumAttentionHeads)*int64(hd)*int64(blocks), opsCombine))
	}
	return ops
}

// FusedAttentionLayer is m's attention over L cached tokens as one fused
// layer: per sequence and KV head, the query group's queries (M) against
// the cached keys and values (N) of head dimension K.
func FusedAttentionLayer(m llm.Model, s StepSpec, L int) workloads.Layer {
	return workloads.Layer{Kind: workloads.KindAttnFused, M: m.QueryGroup() * s.New, N: L, K: m.HeadSize(),
		Groups: s.Batch * m.KVHeads(), FilterBits: s.narrowKV()}
}

// appendFusedAttention appends fused attention (s.FlashKeys > 0): the
// fused layer on the array, whose scores never reach DRAM, then the
// online softmax's work on the vector unit (after it: operators do not
// overlap). Prefill and decode lower alike; in decode the KV blocks are
// FlashDecoding's split, their partial outputs rescaled on chip.
func appendFusedAttention(ops []Op, m llm.Model, n *layerNames, s StepSpec, L int) []Op {
	rows := int64(s.Batch) * int64(m.NumAttentionHeads) * int64(s.New) // query rows
	hd := m.HeadSize()
	pack := 1
	if !s.Prefill {
		pack = headPack(m, s)
	}
	fused := func(name string, keys, blocks int) Op {
		l := FusedAttentionLayer(m, s, keys)
		l.Name, l.Groups = name, l.Groups*blocks/pack
		l.M, l.K = l.M*pack, l.K*pack
		return Op{Kind: OpGEMM, Class: ClassAttention, Name: name, KVOperand: true, Layer: l}
	}
	if s.Prefill || s.ChunkN <= 0 {
		ops = append(ops, fused(n.attnFused, L, 1))
	} else {
		// Decode splits the cache into blocks of the array's width
		// (FlashDecoding): whole blocks are the groups of one fused layer,
		// the partial block a second, each block's scores on chip and its
		// partial output rescaled and added on the vector unit. The whole
		// blocks' layer changes only when a block fills, so decode steps
		// reuse its simulation as they do the unfused split-K GEMMs'.
		if full := L / s.ChunkN; full > 0 {
			ops = append(ops, fused(n.attnFused, s.ChunkN, full))
		}
		if r := L % s.ChunkN; r > 0 {
			ops = append(ops, fused(n.attnFusedTail, r, 1))
		}
	}
	soft := vec(n.onlineSoftmax, rows*int64(L), opsOnlineSoftmax)
	soft.OverlapsArray = true
	ops = append(ops, soft)
	if blocks := (L + s.FlashKeys - 1) / s.FlashKeys; blocks > 1 {
		rescale := vec(n.attnRescale, rows*int64(blocks-1), opsFlashRowStats+opsFlashRescale*hd)
		rescale.OverlapsArray = true
		ops = append(ops, rescale)
	}
	return append(ops, vec(n.attnNormalize, rows*int64(hd), opsFlashNormalize))
}

// headPack is how many KV heads a decode step's fused attention lays
// side by side on the array when a head is narrower than its edge (head
// dimension 64 on a 128-wide array): keys and values stream in through
// the whole edge, the query rows of each head zero outside its own
// columns, and only each head's own block of the output is kept. The
// products do pack× the MACs (decode attention is bound by loading K and
// V, not by MACs); Q and O are pack× as wide. It divides the sequences ×
// KV heads.
func headPack(m llm.Model, s StepSpec) int {
	hd := m.HeadSize()
	edge := min(s.ChunkK, s.ChunkN)
	if hd <= 0 || edge < 2*hd {
		return 1
	}
	groups := s.Batch * m.KVHeads()
	for c := edge / hd; c > 1; c-- {
		if groups%c == 0 {
			return c
		}
	}
	return 1
}

// ActivationOps is the vector operations per element of a dense
// feed-forward's activation: SiLU and the gate product for a gated (GLU)
// one, GELU otherwise (a sparse FFN's dense activations cost the same).
func ActivationOps(gated bool) int {
	if gated {
		return opsSiLUGate
	}
	return opsGELU
}

// ffn is m's dense feed-forward of width inter over T tokens.
func ffn(m llm.Model, p, class, tag string, T, inter int) []Op {
	return appendFFN(nil, m, class, p+tag+"up", p+tag+"act", p+tag+"down", T, inter)
}

// appendFFN appends ffn's up, activation and down operators, so named.
func appendFFN(ops []Op, m llm.Model, class, up, act, down string, T, inter int) []Op {
	h := m.HiddenSize
	cols := inter
	if m.Gated {
		cols = 2 * inter
	}
	return append(ops,
		gemm(class, up, workloads.GEMM("", T, cols, h)),
		vec(act, int64(T)*int64(inter), ActivationOps(m.Gated)),
		gemm(class, down, workloads.GEMM("", T, h, inter)),
	)
}

// moeLayer is m's MoE layer: the router GEMM and softmax, top-k per
// token on the top-k engine (workloads/moe decides the routing), each
// expert's FFN over the tokens it runs (experts that run none are
// skipped: their weights are not read), shared experts over every token,
// and the weighted combination of the kept assignments.
func moeLayer(m llm.Model, p string, s StepSpec, layer, T int) []Op {
	r := s.Router
	if r == nil {
		r, _ = moe.NewRouter(moe.Spec{Routing: moe.Uniform}, m.NumExperts, m.NumExpertsPerTok, m.NumHiddenLayers, s.Seed)
	}
	d := r.Route(layer, moe.Step{Batch: s.Batch, New: s.New, Pos: s.Context - s.New, SeqLen: max(s.SeqLen, s.Context), Index: max(s.Step, 0)})
	ops := []Op{
		gemm(ClassRouter, p+"router", workloads.GEMM("", T, m.NumExperts, m.HiddenSize)),
		vec(p+"router_softmax", int64(T)*int64(m.NumExperts), opsSoftmax),
		{Kind: OpTopK, Class: ClassRouter, Name: p + "topk", Rounds: d.Rounds, Routing: d},
	}
	kept := 0
	for i, c := range d.Run {
		kept += d.Kept[i]
		if c > 0 {
			for _, op := range ffn(m, p, ClassExperts, expertTag(i), c, m.ExpertSize()) {
				op.Expert = i + 1
				ops = append(ops, op)
			}
		}
	}
	if m.NumSharedExperts > 0 {
		ops = append(ops, ffn(m, p, ClassExperts, "shared.", T, m.NumSharedExperts*m.ExpertSize())...)
	}
	return append(ops, vec(p+"expert_combine", int64(kept)*int64(m.HiddenSize), opsCombine))
}

// expertTag names expert i's operators ("expert3."), made once.
func expertTag(i int) string {
	if i < len(expertTags) {
		return expertTags[i]
	}
	return fmt.Sprintf("expert%d.", i)
}

var expertTags = func() []string {
	s := make([]string, 256)
	for i := range s {
		s[i] = fmt.Sprintf("expert%d.", i)
	}
	return s
}()

// prefixes are the layer name prefixes, made once (decode makes them for
// every step otherwise).
var prefixes = func() []string {
	s := make([]string, namedLayers)
	for i := range s {
		s[i] = fmt.Sprintf("L%d.", i)
	}
	return s
}()

func layerPrefix(i int) string {
	if i < len(prefixes) {
		return prefixes[i]
	}
	return fmt.Sprintf("L%d.", i)
}
