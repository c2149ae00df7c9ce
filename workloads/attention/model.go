package attention

import (
	"math"
	"math/rand"

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

// synth makes seeded synthetic activations with the structure attention
// has in trained models: a few heavy-hitter tokens (log-normal key scale)
// and peaked scores (see DefaultQueryScale), so pruning has something to
// find.
type synth struct {
	q, k, v [][][][]float64 // [layer][head][token][d]
}

func newSynth(p Params, tokens int) synth {
	r := rand.New(rand.NewSource(p.Seed))
	scale := make([]float64, tokens)
	for t := range scale {
		scale[t] = math.Exp(0.5 * r.NormFloat64())
	}
	gen := func(mul func(t int) float64) [][][][]float64 {
		x := make([][][][]float64, p.Layers)
		for l := range x {
			x[l] = make([][][]float64, p.Heads)
			for h := range x[l] {
				x[l][h] = make([][]float64, tokens)
				for t := range x[l][h] {
					row := make([]float64, p.D)
					m := mul(t)
					for i := range row {
						row[i] = r.NormFloat64() * m
					}
					x[l][h][t] = row
				}
			}
		}
		return x
	}
	return synth{q: gen(func(int) float64 { return p.queryScale() }), k: gen(func(t int) float64 { return scale[t] }), v: gen(func(int) float64 { return 1 })}
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
				row, out, gain, hg := p.head(data, l, h, alive, ps.queries, rand.New(rand.NewSource(p.Seed+int64(1000*it+100*l+h))))
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
					rows[len(rows)-1].TokenRounds = append(rounds, len(alive))
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
					keep := TopKBySort(hscores, want)
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
// (Σ|output|).
func (p Params) head(data synth, l, h int, alive, queries []int, rng *rand.Rand) (workloads.AttnRow, []float64, []float64, float64) {
	k, v := data.k[l][h], data.v[l][h]
	row := workloads.AttnRow{D: p.D, Queries: len(queries), KeyFetch: len(alive), AccumImportance: true}
	bits := p.FullBits
	if p.PQuant {
		bits = p.MSB
		row.LSBBits, row.Threshold = p.LSB, p.Tau
	}
	row.KeyBits, row.ValueBits, row.QueryBits = bits, bits, 0
	// Scores through gonum: Q (queries×d) · K_aliveᵀ, with MSB-only keys
	// when progressive quantization is on.
	kq := kMatrix(k, alive, p, true)
	qm := nm.NewMatrix[float64](len(queries), p.D)
	for i, t := range queries {
		copy(qm.Data[i*p.D:], data.q[l][h][t])
	}
	scale := 1 / math.Sqrt(float64(p.D))
	scores := nm.DenseGEMM(qm, kq)
	gain := make([]float64, len(alive))
	vUnion := make([]bool, len(alive))
	var last []float64
	var headGain float64
	keepV := len(alive)
	if p.LocalV {
		keepV = max(1, int(math.Ceil((1-p.VPrune)*float64(len(alive)))))
	}
	var kFull nm.Matrix[float64]
	for i := range queries {
		pr := make([]float64, len(alive))
		for j := range pr {
			pr[j] = scores.Data[i*len(alive)+j] * scale
		}
		Softmax(pr)
		if p.PQuant && MaxOf(pr) < p.Tau {
			if kFull.Data == nil {
				kFull = kMatrix(k, alive, p, false)
			}
			row.RequantQueries++
			for j := range pr {
				pr[j] = dot(qm.Data[i*p.D:(i+1)*p.D], kFull.Data[j*p.D:(j+1)*p.D]) * scale
			}
			Softmax(pr)
		}
		var sel []int
		if keepV < len(alive) {
			var rounds []int
			sel, rounds = QuickSelect(pr, keepV, rng)
			row.VRounds = append(row.VRounds, append(rounds, len(pr))...)
		}
		out := weighted(pr, v, alive, sel)
		if sel == nil {
			for j := range vUnion {
				vUnion[j] = true
			}
		}
		for _, j := range sel {
			vUnion[j] = true
		}
		for j, x := range pr {
			gain[j] += x
		}
		for _, x := range out {
			headGain += math.Abs(x)
		}
		last = out
	}
	for _, u := range vUnion {
		if u {
			row.ValueFetch++
		}
	}
	return row, last, gain, headGain
}

// kMatrix lays the alive keys out as a d×n matrix (for Q·Kᵀ), quantized
// to the MSBs only or at full precision when progressive quantization is
// on; unquantized otherwise.
func kMatrix(k [][]float64, alive []int, p Params, msbOnly bool) nm.Matrix[float64] {
	m := nm.NewMatrix[float64](p.D, len(alive))
	var quant Quantizer
	if p.PQuant {
		quant = NewQuantizer(k, p.MSB+p.LSB, p.LSB)
	}
	for j, t := range alive {
		for c, x := range k[t] {
			if p.PQuant {
				code := quant.Code(x)
				if msbOnly {
					code = quant.MSBOnly(code)
				}
				x = quant.Dequant(code)
			}
			m.Data[c*len(alive)+j] = x
		}
	}
	if !msbOnly {
		return m.T() // rows are tokens, for per-query dot products
	}
	return m
}

// MaxOf is the largest element (−Inf for none): the max-probability the
// progressive-quantization decision compares with τ.
func MaxOf(x []float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	return m
}
