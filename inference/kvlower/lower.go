package kvlower

import (
	"slices"

	"github.com/sparsesim/sparsesim/inference/ops"
	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/kvsparse"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// Byte kinds of the kv_sparsity report (ops.Gather.Tag).
const (
	TagKV         = "kv"
	TagMetadata   = "metadata"
	TagLabelCache = "label_cache"
	TagIndexer    = "indexer"
)

// Vector-unit operations per element, assumptions like inference/ops'
// (docs/kv-sparsity.md): softmax and the split-K combine as there, one
// fused multiply-add per MAC, Quest's bound as two products, a max and an
// add, the indexer's ReLU and weighted add, one add to accumulate a
// probability.
const (
	opsSoftmax    = 5
	opsCombine    = 2
	opsMAC        = 1
	opsPageBound  = 4
	opsReLUWeight = 2
	opsAccumulate = 1
	opsDecode     = 1 // one element expanded per decoder slot
)

// layerAttn is one layer's attention in one step, being lowered.
type layerAttn struct {
	kl      *Lowering
	m       llm.Model
	p       string
	s       ops.StepSpec
	L       int
	out     []ops.Op
	g, hd   int
	kv, seq int
}

func (lw *layerAttn) add(o ...ops.Op) { lw.out = append(lw.out, o...) }

func (lw *layerAttn) vec(name string, elems int64, perElem int) {
	lw.add(ops.Op{Kind: ops.OpVector, Class: ops.ClassAttention, Name: lw.p + name, Elems: elems, OpsPerElem: perElem})
}

func (lw *layerAttn) topk(name string, rounds []int) {
	if len(rounds) > 0 {
		lw.add(ops.Op{Kind: ops.OpTopK, Class: ops.ClassAttention, Name: lw.p + name, Rounds: rounds})
	}
}

func (lw *layerAttn) gather(name, tag string, t memory.Tensor, r memory.Region) {
	if r.Empty() {
		return
	}
	c := ops.MeasureGather(t, r, lw.kl.requestBytes)
	lw.add(ops.GatherOp(ops.ClassAttention, lw.p+name, ops.Gather{Tensor: t, Rows: r, Bytes: ops.BytesKV, Tag: tag, Cost: &c}))
}

// gatherOwned is gather of a region the lowering keeps (cachedRows,
// cachedTokenRows), measured once for all the steps that read it.
func (lw *layerAttn) gatherOwned(name, tag string, t memory.Tensor, r memory.Region) {
	if r.Empty() {
		return
	}
	k := costKey{seg: &r.Segs[0], segs: len(r.Segs), t: t}
	k.t.Name = ""
	c, ok := lw.kl.costs[k]
	if !ok {
		c = ops.MeasureGather(t, r, lw.kl.requestBytes)
		lw.kl.costs[k] = c
	}
	lw.add(ops.GatherOp(ops.ClassAttention, lw.p+name, ops.Gather{Tensor: t, Rows: r, Bytes: ops.BytesKV, Tag: tag, Cost: &c}))
}

// costKey identifies a kept region (its segments, which the lowering
// holds and never changes, so no other region shares their address) and
// the tensor it is measured in (the name aside: Runs does not read it).
type costKey struct {
	seg  *memory.Seg
	segs int
	t    memory.Tensor
}

// writeRows scatters the new token's rows of t — pixel rows[i], all
// channels — from SRAM to DRAM (metadata, label-cache rows, index keys).
func (lw *layerAttn) writeRows(name, tag string, t memory.Tensor, rows []int64) {
	pix := make([]memory.Span, len(rows))
	for i, r := range rows {
		pix[i] = memory.Span{Lo: r, Hi: r + 1}
	}
	reg := memory.NewRegion([]memory.Seg{{C: memory.Span{Lo: 0, Hi: t.Channels}, Pix: pix}})
	c := ops.MeasureGather(t, reg, lw.kl.requestBytes)
	lw.add(ops.GatherOp(ops.ClassAttention, lw.p+name, ops.Gather{Tensor: t, Rows: reg, Bytes: ops.BytesKV, Tag: tag, Write: true, Cost: &c}))
}

// gemm appends blocks of an (M×K)·(K×n) product per group, n split in
// blocks of chunk (the dense decode's split-K), reading its K×n operand
// from the filter buffer where a gather left it.
func (lw *layerAttn) gemm(name, kind string, M, K, n, groups, chunk int, kOnN bool) {
	if n <= 0 {
		return
	}
	mk := func(suffix string, nn, g int) {
		l := workloads.Layer{Name: lw.p + name + suffix, Kind: kind, M: M, N: nn, K: K, Groups: g, FilterOnChip: true}
		if kOnN { // PV: the tokens are the K dimension
			l.N, l.K = K, nn
		}
		lw.add(ops.Op{Kind: ops.OpGEMM, Class: ops.ClassAttention, Name: l.Name, KVOperand: true, Layer: l})
	}
	if full := n / chunk; full > 0 {
		mk("", chunk, groups*full)
	}
	if r := n % chunk; r > 0 {
		mk("_tail", r, groups)
	}
}

// chunkTokens is how many tokens of an operand of bytesPerToken on-chip
// bytes fit the filter buffer, a multiple of block when at least one
// block fits.
func (lw *layerAttn) chunkTokens(bytesPerToken int64, block int) int {
	c := int(lw.kl.filterBytes / max(bytesPerToken, 1))
	if c >= block {
		c -= c % block
	}
	return max(c, 1)
}

// attend is attention over n tokens per head: per chunk that fits the
// filter buffer, read (gather, and decode for mustafar) the keys and run
// QKᵀ from SRAM; softmax; per chunk, read the values and run P·V; combine
// the split-K partial outputs.
//
// rowBytes, when given, says every chunk reads contiguous rows of these
// widths: if a chunk's bytes are whole DRAM requests for each, all full
// chunks are the same work and run as one repeated group of operators.
func (lw *layerAttn) attend(n int, read func(values bool, lo, hi int), rowBytes ...int64) {
	hd, bk := lw.hd, lw.seq*lw.kv
	perToken := int64(bk) * int64(hd) * int64(lw.kl.wordBytes)
	for _, values := range []bool{false, true} {
		chunk := lw.s.ChunkN
		if values {
			chunk = lw.s.ChunkK
		}
		c := lw.chunkTokens(perToken, chunk)
		uniform := len(rowBytes) > 0
		for _, rb := range rowBytes {
			uniform = uniform && int64(c)*rb%lw.kl.requestBytes == 0
		}
		for lo := 0; lo < n; {
			hi := min(lo+c, n)
			rep := 1
			if uniform {
				rep = max(1, (n-lo)/c)
			}
			first := len(lw.out)
			read(values, lo, hi)
			if values {
				lw.gemm("attn_pv", "attn_av", lw.g, hd, hi-lo, bk, chunk, true)
			} else {
				lw.gemm("attn_qk", "attn_qk", lw.g, hd, hi-lo, bk, chunk, false)
			}
			if rep > 1 {
				for i := first; i < len(lw.out); i++ {
					lw.out[i].Repeat = rep
				}
			}
			lo += rep * (hi - lo)
		}
		if !values {
			lw.vec("softmax", int64(lw.seq)*int64(lw.m.NumAttentionHeads)*int64(n), opsSoftmax)
		}
	}
	if blocks := (n + lw.s.ChunkK - 1) / lw.s.ChunkK; blocks > 1 {
		lw.vec("attn_combine", int64(lw.seq)*int64(lw.m.NumAttentionHeads)*int64(hd)*int64(blocks), opsCombine)
	}
}

// attendTokens is attention over selected cache rows: tokens[h] per KV
// head (one list: shared by every head, read as whole rows), in a cache
// of stride rows per sequence. Heads keep the shortest head's count.
func (lw *layerAttn) attendTokens(tokens [][]int32, stride int, owned bool) {
	n := len(tokens[0])
	for _, t := range tokens {
		n = min(n, len(t))
	}
	K := lw.tensor("k_cache", int64(lw.seq*stride), int64(lw.kv*lw.hd), lw.kl.kvBits)
	V := K
	V.Name = lw.p + "v_cache"
	lw.attend(n, func(values bool, lo, hi int) {
		part := make([][]int32, len(tokens))
		for h := range tokens {
			part[h] = tokens[h][lo:hi]
		}
		t, name := K, "k_gather"
		if values {
			t, name = V, "v_gather"
		}
		if len(tokens) > 1 {
			t = headRows(t, lw.kv)
		}
		if owned {
			lw.gatherOwned(name, TagKV, t, lw.cachedRows(part, lw.hd, int64(stride)))
		} else {
			lw.gather(name, TagKV, t, lw.rowsOf(part, lw.hd, int64(stride)))
		}
	})
}

// mustafar reads every token's pruned K and V rows (packed kept values
// and a bitmap per head), expands them on chip with the bitmap decoder,
// and attends densely; the new token's rows are pruned on the top-k
// engine.
func (lw *layerAttn) mustafar(layer, step int) {
	kl, P := lw.kl, lw.kl.pl.P
	kept := kvsparse.Kept(lw.hd, P.Sparsity)
	stride := kl.cap
	vals := lw.tensor("k_values", int64(lw.seq*stride), int64(lw.kv*kept), kl.kvBits)
	bits := lw.tensor("k_bitmap", int64(lw.seq*stride), int64(lw.kv*lw.hd), 1)
	lw.attend(lw.L, func(values bool, lo, hi int) {
		v, b := vals, bits
		if values {
			v.Name, b.Name = lw.p+"v_values", lw.p+"v_bitmap"
		}
		lw.gather(v.Name[len(lw.p):]+"_gather", TagKV, v, lw.seqRows(lo, hi, stride, lw.kv*kept))
		lw.gather(b.Name[len(lw.p):]+"_gather", TagMetadata, b, lw.seqRows(lo, hi, stride, lw.kv*lw.hd))
		lw.add(ops.Op{Kind: ops.OpVector, Class: ops.ClassAttention, Name: lw.p + "bitmap_decode",
			Elems: int64(lw.seq*lw.kv*lw.hd) * int64(hi-lo), OpsPerElem: opsDecode, PerCycle: int64(P.BitmapDecodeElems)})
	}, vals.Bytes(vals.Channels), bits.Bytes(bits.Channels))
	sm := kl.pl.SampleAt(layer, 0, step)
	lw.topk("prune_topk", repeat(sm.Sel.Rounds, lw.seq*lw.kv))
}

// score is a scoring product (label cache or indexer) of M queries of
// depth K against n keys per group whose keys were gathered chunk by
// chunk: on the array as GEMMs from SRAM, or on the vector unit. owned
// says keys' regions are kept by the lowering (gatherOwned).
func (lw *layerAttn) score(name, tag string, t memory.Tensor, M, K, groups int, keys func(lo, hi int) memory.Region, n int, owned bool) {
	perToken := int64(groups) * int64(K) * int64(lw.kl.wordBytes)
	c := lw.chunkTokens(perToken, lw.s.ChunkN)
	if lw.kl.pl.P.Unit == "vector" {
		c = n
	}
	for lo := 0; lo < n; lo += c {
		hi := min(lo+c, n)
		if owned {
			lw.gatherOwned(name+"_gather", tag, t, keys(lo, hi))
		} else {
			lw.gather(name+"_gather", tag, t, keys(lo, hi))
		}
		if lw.kl.pl.P.Unit == "array" {
			lw.gemm(name, "gemm", M, K, hi-lo, groups, lw.s.ChunkN, false)
		}
	}
	if lw.kl.pl.P.Unit == "vector" {
		lw.vec(name, int64(M)*int64(K)*int64(n)*int64(groups), opsMAC)
	}
}

// rebase adapts a sampled step's top-k rounds to this step's candidates:
// the first round and the final pass see every candidate; the rounds in
// between are the sample's.
func rebase(r []int, n int) []int {
	out := slices.Clone(r)
	if len(out) == 0 {
		return out
	}
	for i := range out {
		out[i] = min(out[i], n)
	}
	out[0], out[len(out)-1] = n, n
	return out
}

// Lowering lowers every decode step's attention under a KV-sparsity
// plan (ops.AttentionLowering): each (layer, KV head, step) reuses the
// selection the plan sampled for it. It keeps what it built for the steps
// that follow — the step's templates, the regions of the plan's token
// lists and their measured costs, operator names — so one Lowering serves
// one decode at a time.
type Lowering struct {
	pl                *kvsparse.Plan
	kvBits, wordBytes int
	filterBytes       int64
	requestBytes      int64
	cap               int // cache slots per sequence: prompt + steps
	slots             []int32
	regions           map[regionKey]memory.Region
	pages             map[pageKey][]int32
	tokenRegions      map[tokenRowsKey]memory.Region
	// tmpls are the step tmplAt's lowerings, one per sampled layer
	// (AppendAttention); names and costs are the operator names and
	// kept regions' measurements made so far.
	tmplAt tmplKey
	tmpls  [][]ops.Op
	names  map[[2]string]string
	costs  map[costKey]ops.GatherCost
}

// New is the lowering of plan pl's selections, sized by the machine
// numbers of the setup pl was made for.
func New(pl *kvsparse.Plan) *Lowering {
	setup := pl.Setup()
	p := setup.Params
	// Cache slots per sequence in whole pages and blocks, so a whole
	// newest page or block never runs into the next sequence's slots.
	unit := p.PageSize / gcd(p.PageSize, p.Block) * p.Block
	if unit > 1<<16 {
		unit = 1
	}
	slots := (pl.Prompt + pl.Steps + unit - 1) / unit * unit
	kl := &Lowering{pl: pl, kvBits: setup.KVBits, wordBytes: setup.WordBytes, filterBytes: setup.FilterBytes,
		requestBytes: setup.RequestBytes, cap: slots,
		regions: map[regionKey]memory.Region{}, pages: map[pageKey][]int32{},
		tokenRegions: map[tokenRowsKey]memory.Region{}, names: map[[2]string]string{}, costs: map[costKey]ops.GatherCost{}}
	kl.slots = make([]int32, p.Budget)
	for i := range kl.slots {
		kl.slots[i] = int32(i)
	}
	return kl
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Attention lowers one decoder layer's attention at one decode step
// (ops.AttentionLowering): the method's selection work, the gathers of
// what it reads, and attention over it.
func (kl *Lowering) Attention(m llm.Model, layer int, p string, s ops.StepSpec, L int) []ops.Op {
	return kl.AppendAttention(nil, m, layer, p, s, L)
}

// tmplKey is the decode step a lowering's templates are for: what a
// layer's lowering reads of the step besides the layer.
type tmplKey struct {
	m                                   llm.Model
	ctx, step, batch, chunkN, chunkK, L int
}

// AppendAttention is Attention appending to dst (ops.AttentionAppender).
//
// A layer's lowering depends on the layer only through the sampled layer
// whose selections it reuses (nearest) and its operators' names: within a
// step, the layers that reuse one sampled layer lower alike. So each step
// lowers once per sampled layer, without names (the template), and every
// layer copies its sampled layer's template under its own names — what
// lowering it afresh gives (TestAppendAttentionIsAFreshLowering), for a
// sixteenth of the work with two sampled layers of 32.
func (kl *Lowering) AppendAttention(dst []ops.Op, m llm.Model, layer int, p string, s ops.StepSpec, L int) []ops.Op {
	pl := kl.pl
	if len(pl.Layers) == 0 || !lowered(pl.P.Method) {
		return append(dst, kl.lower(m, layer, p, s, L)...)
	}
	k := tmplKey{m: m, ctx: s.Context, step: s.Step, batch: s.Batch, chunkN: s.ChunkN, chunkK: s.ChunkK, L: L}
	if k != kl.tmplAt || kl.tmpls == nil {
		kl.tmplAt, kl.tmpls = k, make([][]ops.Op, len(pl.Layers))
	}
	li := pl.SampledLayer(layer)
	t := kl.tmpls[li]
	if t == nil {
		t = kl.lower(m, layer, "", s, L)
		kl.tmpls[li] = t
	}
	for _, op := range t {
		op.Name = kl.name(p, op.Name)
		if op.Kind == ops.OpGEMM {
			op.Layer.Name = op.Name
		}
		if op.Gather != nil {
			g := *op.Gather
			g.Tensor.Name = kl.name(p, g.Tensor.Name)
			op.Gather = &g
		}
		dst = append(dst, op)
	}
	return dst
}

// lowered reports whether the method has a lowering of its own (else
// the dense one).
func lowered(method string) bool {
	switch method {
	case kvsparse.MethodEvict, kvsparse.MethodQuest, kvsparse.MethodDoubleSparsity, kvsparse.MethodDSA, kvsparse.MethodHISA, kvsparse.MethodMustafar:
		return true
	}
	return false
}

// name is prefix p and operator name s, made once per pair.
func (kl *Lowering) name(p, s string) string {
	if p == "" {
		return s
	}
	k := [2]string{p, s}
	if n, ok := kl.names[k]; ok {
		return n
	}
	n := p + s
	kl.names[k] = n
	return n
}

// lower is one layer's attention at one step, lowered afresh.
func (kl *Lowering) lower(m llm.Model, layer int, p string, s ops.StepSpec, L int) []ops.Op {
	pl := kl.pl
	lw := &layerAttn{kl: kl, m: m, p: p, s: s, L: L, g: m.QueryGroup(), hd: m.HeadSize(), kv: m.KVHeads(), seq: s.Batch}
	ctx, P := s.Context, pl.P
	perHead := func(f func(sm *kvsparse.Sample) []int32) [][]int32 {
		out := make([][]int32, lw.kv)
		for h := range out {
			out[h] = f(pl.SampleAt(layer, h, s.Step))
		}
		return out
	}
	roundsAll := func(f func(sm *kvsparse.Sample) []int) []int {
		var r []int
		for b := 0; b < lw.seq; b++ {
			for h := 0; h < lw.kv; h++ {
				r = append(r, f(pl.SampleAt(layer, h, s.Step))...)
			}
		}
		return r
	}
	heads := int64(lw.seq) * int64(m.NumAttentionHeads)
	switch P.Method {
	case kvsparse.MethodEvict:
		// The kept tokens sit compacted in budget slots per head (an
		// evicted slot takes the new token), so they read contiguously.
		n := min(P.Budget, ctx)
		tk := make([][]int32, lw.kv)
		for h := range tk {
			tk[h] = kl.slots[:n]
		}
		lw.attendTokens(tk, P.Budget, true)
		lw.vec("evict_accumulate", heads*int64(n), opsAccumulate)
		cands := n - min(P.Sink, n) - min(P.Recent, n)
		if ctx > P.Budget && cands > 0 {
			r := make([]int, 0, lw.seq*lw.kv)
			for i := 0; i < lw.seq*lw.kv; i++ {
				r = append(r, cands)
			}
			lw.topk("evict_min", r)
		}
	case kvsparse.MethodQuest:
		np := (ctx + P.PageSize - 1) / P.PageSize
		capPages := (kl.cap + P.PageSize - 1) / P.PageSize
		meta := lw.tensor("quest_meta", int64(lw.seq*lw.kv*capPages), int64(2*lw.hd), kl.kvBits)
		var pix []memory.Span
		for i := 0; i < lw.seq*lw.kv; i++ {
			pix = append(pix, memory.Span{Lo: int64(i * capPages), Hi: int64(i*capPages + np)})
		}
		lw.gather("quest_meta_gather", TagMetadata, meta, memory.NewRegion([]memory.Seg{{C: memory.Span{Lo: 0, Hi: int64(2 * lw.hd)}, Pix: pix}}))
		lw.vec("quest_bound", heads*int64(np)*int64(lw.hd), opsPageBound)
		lw.topk("quest_topk", roundsAll(func(sm *kvsparse.Sample) []int { return rebase(sm.Sel.Rounds, np) }))
		tk := perHead(func(sm *kvsparse.Sample) []int32 { return kl.pagesNow(sm, P.PageSize, ctx) })
		lw.attendTokens(tk, kl.cap, true)
		// The newest page's min and max take the new key and are written
		// back (read every step with the other pages).
		lw.vec("quest_meta_update", int64(lw.seq*lw.kv)*int64(2*lw.hd), 1)
		lw.writeRows("quest_meta_write", TagMetadata, meta, strided(lw.seq*lw.kv, capPages, np-1))
	case kvsparse.MethodDoubleSparsity:
		label := lw.tensor("label_cache", int64(lw.seq*lw.kv*kl.cap), int64(P.Channels), kl.kvBits)
		lw.score("ds_scores", TagLabelCache, label, lw.g, P.Channels, lw.seq*lw.kv, func(lo, hi int) memory.Region {
			var pix []memory.Span
			for i := 0; i < lw.seq*lw.kv; i++ {
				pix = append(pix, memory.Span{Lo: int64(i*kl.cap + lo), Hi: int64(i*kl.cap + hi)})
			}
			return memory.NewRegion([]memory.Seg{{C: memory.Span{Lo: 0, Hi: int64(P.Channels)}, Pix: pix}})
		}, L, false)
		lw.vec("ds_softmax", heads*int64(L), opsSoftmax)
		lw.topk("ds_topk", roundsAll(func(sm *kvsparse.Sample) []int { return rebase(sm.Sel.Rounds, L) }))
		lw.attendTokens(perHead(func(sm *kvsparse.Sample) []int32 { return sm.Sel.Tokens }), kl.cap, true)
		// The new token's label channels join the label cache.
		lw.writeRows("ds_label_write", TagLabelCache, label, strided(lw.seq*lw.kv, kl.cap, ctx-1))
	case kvsparse.MethodDSA, kvsparse.MethodHISA:
		h := m.HiddenSize
		// The indexer's query (and head weights) and key projections of
		// the new token: weights read like any projection's.
		lw.add(ops.Op{Kind: ops.OpGEMM, Class: ops.ClassAttention, Name: p + "index_q_proj",
			Layer: workloads.Layer{Name: p + "index_q_proj", Kind: "gemm", M: lw.seq, N: P.IndexHeads*P.IndexDim + P.IndexHeads, K: h, Groups: 1, WeightOperand: true}})
		lw.add(ops.Op{Kind: ops.OpGEMM, Class: ops.ClassAttention, Name: p + "index_k_proj",
			Layer: workloads.Layer{Name: p + "index_k_proj", Kind: "gemm", M: lw.seq, N: P.IndexDim, K: h, Groups: 1, WeightOperand: true}})
		keys := lw.tensor("index_keys", int64(lw.seq*kl.cap), int64(P.IndexDim), P.IndexBits)
		sm := pl.SampleAt(layer, 0, s.Step) // one selection per layer
		if P.Method == kvsparse.MethodDSA {
			lw.score("index_scores", TagIndexer, keys, P.IndexHeads, P.IndexDim, lw.seq, func(lo, hi int) memory.Region {
				return lw.seqRows(lo, hi, kl.cap, P.IndexDim)
			}, L, false)
			lw.vec("index_relu", int64(lw.seq)*int64(P.IndexHeads)*int64(L), opsReLUWeight)
			lw.topk("index_topk", repeat(rebase(sm.Sel.Rounds, L), lw.seq))
		} else {
			B := P.Block
			nb := (ctx + B - 1) / B
			capB := (kl.cap + B - 1) / B
			bkeys := lw.tensor("block_keys", int64(lw.seq*capB), int64(P.IndexDim), P.IndexBits)
			lw.score("block_scores", TagIndexer, bkeys, P.IndexHeads, P.IndexDim, lw.seq, func(lo, hi int) memory.Region {
				return lw.seqRows(lo, hi, capB, P.IndexDim)
			}, nb, false)
			lw.vec("block_relu", int64(lw.seq)*int64(P.IndexHeads)*int64(nb), opsReLUWeight)
			lw.topk("block_topk", repeat(rebase(sm.Sel.Rounds[:sm.Sel.Split], nb), lw.seq))
			cand := kl.pagesNow(sm, B, ctx)
			nc := len(cand)
			lw.score("index_scores", TagIndexer, keys, P.IndexHeads, P.IndexDim, lw.seq, func(lo, hi int) memory.Region {
				return lw.cachedTokenRows(cand[lo:hi], kl.cap, P.IndexDim)
			}, nc, true)
			lw.vec("index_relu", int64(lw.seq)*int64(P.IndexHeads)*int64(nc), opsReLUWeight)
			lw.topk("index_topk", repeat(rebase(sm.Sel.Rounds[sm.Sel.Split:], nc), lw.seq))
			// The newest block's pooled key takes the new index key and is
			// written back.
			lw.vec("block_key_update", int64(lw.seq)*int64(P.IndexDim), 1)
			lw.writeRows("block_key_write", TagIndexer, bkeys, strided(lw.seq, capB, nb-1))
		}
		lw.writeRows("index_key_write", TagIndexer, keys, strided(lw.seq, kl.cap, ctx-1))
		lw.attendTokens([][]int32{sm.Sel.Tokens}, kl.cap, true)
	case kvsparse.MethodMustafar:
		lw.mustafar(layer, s.Step)
	default:
		return ops.DenseAttention(m, p, s, L)
	}
	return lw.out
}

func repeat(r []int, n int) []int {
	var out []int
	for i := 0; i < n; i++ {
		out = append(out, r...)
	}
	return out
}
