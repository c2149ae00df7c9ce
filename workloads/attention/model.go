package attention

import (
	"math"
	"math/rand"
	randv2 "math/rand/v2"
	"sync"

	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

// Params describe a model run and which SpAtten techniques it uses.
type Params struct {
	Layers, Heads, D int
	Context          int  // prompt tokens
	Summarize        bool // run the prompt's tokens as queries (BERT; GPT-2's summarization stage)
	Generate         int  // generation steps after the prompt, one query each (GPT-2: 32)

	TokenPruning bool
	TokenPrune   float64 // fraction of the context pruned by the last layer
	TokenStart   float64 // fraction of layers left unpruned first (SpAtten: ~15%)
	HeadPruning  bool
	HeadPrune    float64 // fraction of heads pruned by the last layer
	HeadStart    float64 // fraction of layers before head pruning starts (SpAtten: ~30%)
	LocalV       bool
	VPrune       float64 // per query, fraction of V rows not fetched
	PQuant       bool
	MSB, LSB     int // bits fetched first, and on demand
	FullBits     int // bits of an unquantized word (when PQuant is off)
	Tau          float64
	Seed         int64
	// QueryScale is the synthetic queries' standard deviation (the
	// attention "temperature"); 0 means DefaultQueryScale.
	QueryScale float64
	// SampleQueries > 0 computes at most that many of a pass's queries per
	// head (evenly spaced) and scales the row to all of them.
	SampleQueries int
}

// DefaultQueryScale makes about 6% of 384-token rows peak below τ = 0.1,
// the rate SpAtten reports (5.9%), so progressive quantization sees
// realistic work. It shapes the synthetic data, not the hardware model.
const DefaultQueryScale = 1.3

func (p Params) queryScale() float64 {
	if p.QueryScale > 0 {
		return p.QueryScale
	}
	return DefaultQueryScale
}

// Result is the model's trace and its outputs.
type Result struct {
	Rows []workloads.AttnRow
	// Out[iter][layer][head] is the head output of the last query of the
	// pass (nil for pruned heads): what functional checks compare.
	Out [][][][]float64
	// KeptTokens[iter][layer] and KeptHeads[iter][layer] are the alive
	// sets each layer used.
	KeptTokens [][][]int
	KeptHeads  [][][]int
	// TokenScore and HeadScore are the final cumulative importances.
	TokenScore []float64
	HeadScore  []float64
	// TokenScoresAt[iter][layer] are the alive tokens' cumulative scores
	// when layer's pruning decision was taken (aligned with KeptTokens);
	// HeadScoresAt likewise for heads.
	TokenScoresAt [][][]float64
	HeadScoresAt  [][][]float64
}

// schedule is the cascade ramp: 1 before start·layers, then linearly down
// to 1 − final at the last layer.
func schedule(l, layers int, start, final float64) float64 {
	s0 := int(math.Ceil(start * float64(layers)))
	if l < s0 || layers-s0 <= 0 {
		return 1
	}
	return 1 - final*float64(l-s0+1)/float64(layers-s0)
}

// scratch is one goroutine's reusable working memory for build and head:
// every element is written before it is read (selected is cleared), so
// reuse changes no result, only the garbage (which the collector's
// marking of the K/V codes made expensive).
type scratch struct {
	kf, vf          []float32
	kMSB, kFull, pr []float64
	selected        []int
	sel             Selector
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

var srcPool = sync.Pool{New: func() any { return rand.NewSource(0) }}

// grow returns (*buf)[:n], reallocating when it is too short.
func grow[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	return (*buf)[:n]
}

// synth makes seeded synthetic activations with the structure attention
// has in trained models: a few heavy-hitter tokens (log-normal key scale)
// and peaked scores (see DefaultQueryScale), so pruning has something to
// find. Each (tensor, layer, head) — and each query token — has its own
// seeded stream, so a (layer, head)'s keys and
// values are built when first used and held as 16-bit codes (K and V of
// GPT-2-medium: 100 MB instead of 400 MB of float64), and queries are
// made only for the tokens that query.
type synth struct {
	p      Params
	tokens int
	scale  []float64 // per-token key scale
	// kv[l][h] holds K then V codes of all tokens (lazily built).
	kv     [][]*headData
	once   [][]sync.Once
	qScale float64
}

type headData struct {
	k, v         []int16
	kStep, vStep float64
}

func newSynth(p Params, tokens int) *synth {
	s := &synth{p: p, tokens: tokens, scale: make([]float64, tokens), qScale: p.queryScale()}
	r := stream(p.Seed, 0, 0, 0, 0)
	for t := range s.scale {
		s.scale[t] = math.Exp(0.5 * r.NormFloat64())
	}
	s.kv = make([][]*headData, p.Layers)
	s.once = make([][]sync.Once, p.Layers)
	for l := range s.kv {
		s.kv[l] = make([]*headData, p.Heads)
		s.once[l] = make([]sync.Once, p.Heads)
	}
	return s
}

// head returns (building on first use) a head's key and value codes.
func (s *synth) head(l, h int) *headData {
	s.once[l][h].Do(func() { s.kv[l][h] = s.build(l, h) })
	return s.kv[l][h]
}

func (s *synth) build(l, h int) *headData {
	d := s.p.D
	hd := &headData{k: make([]int16, s.tokens*d), v: make([]int16, s.tokens*d)}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	kf := grow(&sc.kf, s.tokens*d)
	vf := grow(&sc.vf, s.tokens*d)
	var km, vm float64
	rk, rv := stream(s.p.Seed, 2, l, h, 0), stream(s.p.Seed, 3, l, h, 0)
	for t := 0; t < s.tokens; t++ {
		for i := 0; i < d; i++ {
			k, v := rk.NormFloat64()*s.scale[t], rv.NormFloat64()
			kf[t*d+i], vf[t*d+i] = float32(k), float32(v)
			// the scales come from the stored (float32) values, so no
			// code overflows 16 bits
			if a := math.Abs(float64(kf[t*d+i])); a > km {
				km = a
			}
			if a := math.Abs(float64(vf[t*d+i])); a > vm {
				vm = a
			}
		}
	}
	hd.kStep, hd.vStep = math.Max(km, 1e-300)/32767, math.Max(vm, 1e-300)/32767
	var quant Quantizer
	if s.p.PQuant {
		// Keys are only ever used through the progressive quantizer
		// (fitted to the head's largest |k|): hold its codes.
		quant = Quantizer{Bits: s.p.MSB + s.p.LSB, LSB: s.p.LSB, Scale: math.Max(km, 1e-300) / float64(int(1)<<(s.p.MSB+s.p.LSB-1)-1)}
		hd.kStep = quant.Scale
	}
	for i := range kf {
		if s.p.PQuant {
			hd.k[i] = int16(quant.Code(float64(kf[i])))
		} else {
			hd.k[i] = int16(math.Round(float64(kf[i]) / hd.kStep))
		}
		hd.v[i] = int16(math.Round(float64(vf[i]) / hd.vStep))
	}
	return hd
}

// keys and values are a head's rows for the given tokens (all when nil).
func (s *synth) keys(l, h int, toks []int) [][]float64 {
	hd := s.head(l, h)
	return rows(hd.k, hd.kStep, s.p.D, s.tokens, toks)
}

func (s *synth) values(l, h int, toks []int) [][]float64 {
	hd := s.head(l, h)
	return rows(hd.v, hd.vStep, s.p.D, s.tokens, toks)
}

func rows(codes []int16, step float64, d, tokens int, toks []int) [][]float64 {
	if toks == nil {
		toks = make([]int, tokens)
		for i := range toks {
			toks[i] = i
		}
	}
	out := make([][]float64, len(toks))
	flat := make([]float64, len(toks)*d)
	for j, t := range toks {
		r := flat[j*d : (j+1)*d]
		for i := range r {
			r[i] = float64(codes[t*d+i]) * step
		}
		out[j] = r
	}
	return out
}

// query is token t's query in (l, h).
func (s *synth) query(l, h, t int) []float64 {
	q := make([]float64, s.p.D)
	r := stream(s.p.Seed, 1, l, h, t)
	for i := range q {
		q[i] = r.NormFloat64() * s.qScale
	}
	return q
}

// stream is the random stream of one tensor's (layer, head, token): a PCG
// keyed by a hash of them, so any part of the data can be made alone.
func stream(seed int64, tensor, l, h, t int) *randv2.Rand {
	key := splitmix(uint64(tensor)<<56 ^ uint64(l)<<44 ^ uint64(h)<<32 ^ uint64(t))
	return randv2.New(randv2.NewPCG(splitmix(uint64(seed)), key))
}

func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ x>>30) * 0xBF58476D1CE4E5B9
	x = (x ^ x>>27) * 0x94D049BB133111EB
	return x ^ x>>31
}

// RunModel runs the passes (summarization, then generation steps) with
// cascade token and head pruning, local V pruning and progressive
// quantization as enabled, and records one AttnRow per iteration, layer and
// alive head.
func RunModel(p Params) Result {
	total := p.Context + p.Generate
	data := newSynth(p, total)
	rng := rand.New(rand.NewSource(p.Seed + 1))
	res := Result{TokenScore: make([]float64, total), HeadScore: make([]float64, p.Heads)}
	type pass struct {
		context int
		queries []int
	}
	var passes []pass
	if p.Summarize {
		qs := make([]int, p.Context)
		for i := range qs {
			qs[i] = i
		}
		passes = append(passes, pass{p.Context, qs})
	}
	for g := 0; g < p.Generate; g++ {
		passes = append(passes, pass{p.Context + g + 1, []int{p.Context + g}})
	}
	for it, ps := range passes {
		alive := make([]int, ps.context)
		for i := range alive {
			alive[i] = i
		}
		heads := make([]int, p.Heads)
		for i := range heads {
			heads[i] = i
		}
		res.Out = append(res.Out, make([][][]float64, p.Layers))
		res.KeptTokens = append(res.KeptTokens, nil)
		res.KeptHeads = append(res.KeptHeads, nil)
		res.TokenScoresAt = append(res.TokenScoresAt, nil)
		res.HeadScoresAt = append(res.HeadScoresAt, nil)
		for l := 0; l < p.Layers; l++ {
			res.KeptTokens[it] = append(res.KeptTokens[it], alive)
			res.KeptHeads[it] = append(res.KeptHeads[it], heads)
			res.Out[it][l] = make([][]float64, p.Heads)
			rows := make([]workloads.AttnRow, len(heads))
			tokenGain := make([][]float64, len(heads))
			headGain := make([]float64, len(heads))
			nm.ParallelFor(len(heads), func(hi int) {
				h := heads[hi]
				// A pooled source re-seeded gives exactly NewSource's stream
				// without allocating its 4.9 KB state per head.
				src := srcPool.Get().(rand.Source)
				src.Seed(p.Seed + int64(1000*it+100*l+h))
				row, out, gain, hg := p.head(data, l, h, alive, ps.queries, rand.New(src))
				srcPool.Put(src)
				row.Iteration, row.Layer, row.Head, row.Context = it, l, h, ps.context
				rows[hi], tokenGain[hi], headGain[hi] = row, gain, hg
				res.Out[it][l][h] = out
			})
			for hi, h := range heads {
				for j, t := range alive {
					res.TokenScore[t] += tokenGain[hi][j]
				}
				res.HeadScore[h] += headGain[hi]
			}
			// Cascade token pruning for the next layer: keep the most
			// important of the tokens still alive.
			scores := make([]float64, len(alive))
			for j, t := range alive {
				scores[j] = res.TokenScore[t]
			}
			hscores := make([]float64, len(heads))
			for j, h := range heads {
				hscores[j] = res.HeadScore[h]
			}
			res.TokenScoresAt[it] = append(res.TokenScoresAt[it], scores)
			res.HeadScoresAt[it] = append(res.HeadScoresAt[it], hscores)
			if p.TokenPruning && l+1 < p.Layers {
				want := int(math.Ceil(schedule(l+1, p.Layers, p.TokenStart, p.TokenPrune) * float64(ps.context)))
				if want < len(alive) {
					keep, rounds := QuickSelect(scores, want, rng)
					rows[len(rows)-1].TopKSize = want
					rows[len(rows)-1].TokenRounds = rounds
					next := make([]int, len(keep))
					for j, i := range keep {
						next[j] = alive[i]
					}
					alive = next
				}
			}
			if p.HeadPruning && l+1 < p.Layers {
				want := int(math.Ceil(schedule(l+1, p.Layers, p.HeadStart, p.HeadPrune) * float64(p.Heads)))
				if want < len(heads) {
					keep, rounds := QuickSelect(hscores, want, rng)
					lastRow := &rows[len(rows)-1]
					lastRow.HeadCandidates, lastRow.HeadKeep, lastRow.HeadRounds = len(heads), want, rounds
					next := make([]int, len(keep))
					for j, i := range keep {
						next[j] = heads[i]
					}
					heads = next
				}
			}
			res.Rows = append(res.Rows, rows...)
		}
	}
	return res
}

// head runs one head of one layer for the queries over the alive tokens.
// It returns the row, the last query's output, each alive token's
// importance gain (Σ over queries of its probability) and the head's gain
// (Σ|output|). With p.SampleQueries > 0 and more queries than that, only an
// evenly spaced sample of the queries is computed and the row's counts
// and gains are scaled to all of them (docs/spatten.md gives the error
// bound, TestSampledSummaryError measures it).
func (p Params) head(data *synth, l, h int, alive, queries []int, rng *rand.Rand) (workloads.AttnRow, []float64, []float64, float64) {
	hd := data.head(l, h)
	d := p.D
	row := workloads.AttnRow{D: d, Queries: len(queries), KeyFetch: len(alive), AccumImportance: true, KeyTokens: alive}
	bits := p.FullBits
	if p.PQuant {
		bits = p.MSB
		row.LSBBits, row.Threshold = p.LSB, p.Tau
	}
	row.KeyBits, row.ValueBits, row.QueryBits = bits, bits, 0
	sample := queries
	if p.SampleQueries > 0 && len(queries) > p.SampleQueries {
		sample = make([]int, p.SampleQueries)
		for j := range sample {
			sample[j] = queries[(2*j+1)*len(queries)/(2*p.SampleQueries)]
		}
		row.VRoundQueries = len(sample)
	}
	weight := float64(len(queries)) / float64(len(sample))
	// The alive keys, MSB-only (progressive quantization) or as stored,
	// token-major for per-query dot products.
	n := len(alive)
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	var kMSB, kFull []float64
	if len(sample) > 1 { // reused by every query: lay it out once
		kMSB = grow(&sc.kMSB, n*d)
		for j, t := range alive {
			for c, code := range hd.k[t*d : (t+1)*d] {
				cd := int32(code)
				if p.PQuant {
					cd = cd >> p.LSB << p.LSB
				}
				kMSB[j*d+c] = float64(cd) * hd.kStep
			}
		}
	}
	mask := int32(-1)
	if p.PQuant {
		mask = int32(-1) << p.LSB // the MSBs (arithmetic: the sign stays)
	}
	// msbScore is q·k_t over the MSB-only codes, straight from storage.
	msbScore := func(qv []float64, t int) float64 {
		k := hd.k[t*d : (t+1)*d]
		qv = qv[:len(k)]
		var s0, s1, s2, s3 float64
		c := 0
		for ; c+4 <= len(k); c += 4 {
			s0 += qv[c] * float64(int32(k[c])&mask)
			s1 += qv[c+1] * float64(int32(k[c+1])&mask)
			s2 += qv[c+2] * float64(int32(k[c+2])&mask)
			s3 += qv[c+3] * float64(int32(k[c+3])&mask)
		}
		for ; c < len(k); c++ {
			s0 += qv[c] * float64(int32(k[c])&mask)
		}
		return (s0 + s1 + s2 + s3) * hd.kStep
	}
	scale := 1 / math.Sqrt(float64(d))
	gain := make([]float64, n)
	selected := grow(&sc.selected, n) // sampled queries whose top-k kept the token's value
	clear(selected)
	var last []float64
	var headGain float64
	keepV := n
	if p.LocalV {
		keepV = max(1, int(math.Ceil((1-p.VPrune)*float64(n))))
	}
	pr := grow(&sc.pr, n)
	sel0 := &sc.sel
	var requant int
	for _, qt := range sample {
		qv := data.query(l, h, qt)
		for j := range pr {
			if kMSB != nil {
				pr[j] = dotF(qv, kMSB[j*d:(j+1)*d]) * scale
			} else {
				pr[j] = msbScore(qv, alive[j]) * scale
			}
		}
		Softmax(pr)
		if p.PQuant && MaxOf(pr) < p.Tau {
			if kFull == nil && kMSB != nil { // several queries: lay it out once
				kFull = grow(&sc.kFull, n*d)
				for j, t := range alive {
					for c, code := range hd.k[t*d : (t+1)*d] {
						kFull[j*d+c] = float64(code) * hd.kStep
					}
				}
			}
			requant++
			for j := range pr {
				if kFull != nil {
					pr[j] = dotF(qv, kFull[j*d:(j+1)*d]) * scale
				} else {
					pr[j] = fullScore(qv, hd.k[alive[j]*d:(alive[j]+1)*d], hd.kStep) * scale
				}
			}
			Softmax(pr)
		}
		var sel []int
		if keepV < n {
			var rounds []int
			sel, rounds = sel0.Select(pr, keepV, rng)
			row.VRounds = append(row.VRounds, rounds...)
		}
		out := make([]float64, d)
		add := func(j int) {
			t := alive[j]
			w := pr[j] * hd.vStep
			v := hd.v[t*d : (t+1)*d]
			o := out[:len(v)]
			for c, code := range v {
				o[c] += w * float64(code)
			}
		}
		if sel == nil {
			for j := range pr {
				add(j)
				selected[j]++
			}
		} else {
			for _, j := range sel {
				add(j)
				selected[j]++
			}
		}
		for j, x := range pr {
			gain[j] += x * weight
		}
		for _, x := range out {
			headGain += math.Abs(x) * weight
		}
		last = out
	}
	row.RequantQueries = int(math.Round(float64(requant) * weight))
	// Values fetched: the union of the queries' selections. Sampled, a
	// token kept by c of s queries is taken as kept by each query with
	// probability (c + ½)/(s + 1), and so by at least one of all q of
	// them with probability 1 − (1 − that)^q.
	var union float64
	for j, c := range selected {
		switch {
		case len(sample) == len(queries):
			if c > 0 {
				union++
				// Every query computed: the fetched values are known.
				row.ValueTokens = append(row.ValueTokens, alive[j])
			}
		default:
			f := (float64(c) + 0.5) / float64(len(sample)+1)
			union += 1 - math.Pow(1-f, float64(len(queries)))
		}
	}
	row.ValueFetch = min(n, int(math.Round(union)))
	return row, last, gain, headGain
}

// fullScore is dotF(qv, k·step) with the products made on the fly, the
// same operations in the same order (bit-identical), without laying the
// keys out: a single query uses them once.
func fullScore(a []float64, k []int16, step float64) float64 {
	k = k[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * float64(float64(k[i])*step)
		s1 += a[i+1] * float64(float64(k[i+1])*step)
		s2 += a[i+2] * float64(float64(k[i+2])*step)
		s3 += a[i+3] * float64(float64(k[i+3])*step)
	}
	for ; i < len(a); i++ {
		s0 += a[i] * float64(float64(k[i])*step)
	}
	return s0 + s1 + s2 + s3
}

func dotF(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

// MaxOf is the largest element (−Inf for none): the max-probability the
// progressive-quantization decision compares with τ.
func MaxOf(x []float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	return m
}
