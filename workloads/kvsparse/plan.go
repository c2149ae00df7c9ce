package kvsparse

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// Sample is one (layer, KV head, decode step) the reference kernel ran on.
type Sample struct {
	Layer, Head, Step int // model layer, KV head, decode step (1-based)
	Context           int // tokens in the cache at that step
	Sel               Selection
	Quality           Quality
	// IoU is HISA's selection against the flat indexer's at the same
	// step (hisa only; 0 otherwise).
	IoU float64
}

// Plan is a method's selections on the sampled (layer, head, step)
// points, which every decode step's attention reuses (SampleAt):
// inference/kvlower lowers them to gathers and attention operators.
type Plan struct {
	P      Params
	Model  llm.Model
	Prompt int
	Steps  int // decode steps
	// Layers, Heads and StepsAt are the sampled model layers, KV heads
	// and decode steps, ascending.
	Layers, Heads, StepsAt []int
	Samples                []Sample // layer-major, then head, then step
	// Labels are Double Sparsity's calibrated channels per sampled
	// (layer, head).
	Labels [][]int

	setup Setup
	// perHeadDumps: kv_sparsity.data holds a dump per sampled (layer,
	// KV head) (HeadDumpDir), not one head for all.
	perHeadDumps bool
	indexer      string // IndexerSource
	// pruneK and pruneV are Mustafar's pruned K and V of the head being
	// measured, reused head to head (layers run one at a time).
	pruneK, pruneV *pruned
	// headBufs are the sampled heads' arrays, redrawn layer by layer.
	headBufs []*Head
	// measured is closed once every sample's quality is in (StartPlan;
	// nil: always), kernelSeconds the host time it took.
	measured      chan struct{}
	kernelSeconds float64
}

// spread picks n of count indices, evenly spaced and centred.
func spread(n, count int) []int {
	n = min(n, count)
	out := make([]int, n)
	for i := range out {
		out[i] = (2*i + 1) * count / (2 * n)
	}
	return out
}

// sampleSteps picks n decode steps of steps, the first and last included.
func sampleSteps(n, steps int) []int {
	n = min(n, steps)
	if n == 1 {
		return []int{1}
	}
	out := make([]int, n)
	for i := range out {
		out[i] = 1 + int(math.Round(float64(i)*float64(steps-1)/float64(n-1)))
	}
	return out
}

// NewPlan runs the configured method's reference kernel on synthetic
// Q/K/V (DefaultSynth) for the sampled layers, heads and steps of a
// decode of steps steps after a prompt-token cache.
func NewPlan(setup Setup, m llm.Model, prompt, steps int) (*Plan, error) {
	return NewPlanSynth(setup, m, prompt, steps, DefaultSynth)
}

// StartPlan is NewPlan returning as soon as every sample's selection is
// made, the last sampled layer's quality measurements still running
// beside the caller: a lowering reads selections only, so a decode can
// run on the plan meanwhile. Quality, WriteTrace and Wait wait for the
// measurements; nothing else of the plan changes after StartPlan returns.
func StartPlan(setup Setup, m llm.Model, prompt, steps int) (*Plan, error) {
	return startPlan(setup, m, prompt, steps, DefaultSynth)
}

// NewPlanSynth is NewPlan on synthetic tensors drawn from syn.
func NewPlanSynth(setup Setup, m llm.Model, prompt, steps int, syn Synth) (*Plan, error) {
	pl, err := startPlan(setup, m, prompt, steps, syn)
	if err != nil {
		return nil, err
	}
	pl.Wait()
	return pl, nil
}

// Wait blocks until every sample's quality is measured (StartPlan) and
// returns the kernels' host seconds, selections and measurements (0 for
// a replayed plan).
func (pl *Plan) Wait() float64 {
	if pl.measured != nil {
		<-pl.measured
	}
	return pl.kernelSeconds
}

func startPlan(setup Setup, m llm.Model, prompt, steps int, syn Synth) (*Plan, error) {
	start := time.Now()
	p := setup.Params
	pl := newPlan(setup, m, prompt, steps)
	pl.Layers = spread(p.SampleLayers, m.NumHiddenLayers)
	pl.Heads = spread(p.SampleHeads, m.KVHeads())
	pl.StepsAt = sampleSteps(p.SampleSteps, steps)
	g, D := m.QueryGroup(), m.HeadSize()
	sampled := map[int]bool{}
	for _, s := range pl.StepsAt {
		sampled[s] = true
	}
	if p.Method == MethodDSA || p.Method == MethodHISA {
		pl.indexer = "synthetic"
	}
	var dumped *Head
	if p.Data != "" {
		one, err := OneHeadDump(p.Data)
		if err != nil {
			return nil, err
		}
		if one {
			if dumped, err = LoadHead(p.Data, D, g, prompt+steps); err != nil {
				return nil, err
			}
		} else if err := CheckHeadDumps(p.Data, pl.Layers, pl.Heads); err != nil {
			return nil, err
		}
		pl.perHeadDumps = !one
		if p.Method == MethodDSA || p.Method == MethodHISA {
			n := 0
			for _, li := range pl.Layers {
				if _, ok := pl.indexDump(li); ok {
					n++
				}
			}
			if n == len(pl.Layers) {
				pl.indexer = "dumps"
			}
			if n > 0 && n < len(pl.Layers) {
				return nil, usererr.New("kv_sparsity.data: %s: indexer dumps for %d of the %d sampled layers %v (%s/k.npy each, or none)",
					p.Data, n, len(pl.Layers), pl.Layers, IndexDumpDir(p.Data, pl.Layers[0], one))
			}
		}
	}
	// Sampled layers run one after another, each drawing its heads into
	// the same arrays: two layers' heads at once took a 32K-context run
	// past its 300 MB target. A layer's selections come first, then its
	// measurements; the last layer's run on after this returns.
	pl.Samples = make([]Sample, len(pl.Layers)*len(pl.Heads)*len(pl.StepsAt))
	var last func()
	for i, li := range pl.Layers {
		o := pl.layerSamples(i, li, syn, dumped, sampled, prompt, steps)
		if o.err != nil {
			return nil, o.err
		}
		pl.Labels = append(pl.Labels, o.labels...)
		if i < len(pl.Layers)-1 {
			o.measure()
		} else {
			last = o.measure
		}
	}
	pl.measured = make(chan struct{})
	go func() {
		if last != nil {
			last()
		}
		pl.pruneK, pl.pruneV, pl.headBufs = nil, nil, nil
		pl.kernelSeconds = time.Since(start).Seconds()
		close(pl.measured)
	}()
	return pl, nil
}

// layerOut is a sampled layer's labels (double_sparsity) and what is
// left to do once its selections are in the plan: its measurements.
type layerOut struct {
	labels  [][]int
	measure func()
	err     error
}

// indexDump is the directory of layer li's dumped indexer, if
// kv_sparsity.data has one (IndexDumpDir).
func (pl *Plan) indexDump(li int) (string, bool) {
	if pl.P.Data == "" {
		return "", false
	}
	dir := IndexDumpDir(pl.P.Data, li, !pl.perHeadDumps)
	_, err := os.Stat(filepath.Join(dir, "k.npy"))
	return dir, err == nil
}

// IndexerSource says where the dsa/hisa selections' indexer came from:
// "dumps" when every sampled layer had an indexer dump, "synthetic" when
// none had (a mix is refused); "" for the other methods.
func (pl *Plan) IndexerSource() string { return pl.indexer }

// layerSamples runs the kernel on one sampled layer's heads and steps
// (model layer li, the plan's layer li0): the selections into the plan's
// samples, and the measurements as out.measure.
func (pl *Plan) layerSamples(li0, li int, syn Synth, dumped *Head, sampled map[int]bool, prompt, steps int) (out layerOut) {
	p := pl.P
	g, D := pl.Model.QueryGroup(), pl.Model.HeadSize()
	heads := make([]*Head, len(pl.Heads))
	var draw []int // the heads to draw (synthetic)
	for i, h := range pl.Heads {
		if dumped != nil {
			heads[i] = dumped
			continue
		}
		if pl.perHeadDumps {
			d, err := LoadHead(HeadDumpDir(p.Data, li, h), D, g, prompt+steps)
			if err != nil {
				out.err = err
				return out
			}
			heads[i] = d
			continue
		}
		if i >= len(pl.headBufs) {
			pl.headBufs = append(pl.headBufs, nil)
		}
		draw = append(draw, i)
	}
	// Each synthetic head has its own random source: drawn at once.
	parallel(len(draw), func(j int) {
		i := draw[j]
		heads[i] = newHeadInto(pl.headBufs[i], syn, p.Seed, li, pl.Heads[i], D, prompt+steps)
	})
	for _, i := range draw {
		pl.headBufs[i] = heads[i]
	}
	rng := rand.New(rand.NewSource(mix(p.Seed, int64(li), 99)))
	var ix *Indexer
	if p.Method == MethodDSA || p.Method == MethodHISA {
		if dir, ok := pl.indexDump(li); ok {
			var err error
			if ix, err = LoadIndexer(dir, p, D, prompt+steps); err != nil {
				out.err = err
				return out
			}
		} else {
			ix = NewIndexer(heads, p.IndexDim, mix(p.Seed, int64(li), 5))
		}
	}
	var shared []Selection // dsa/hisa: one selection per step for the layer
	var iou []float64
	if ix != nil {
		for _, st := range pl.StepsAt {
			ctx := prompt + st
			w := window{0, ctx}
			qs := ix.queries(ctx-1, g)
			scores := ix.scores(qs, w)
			flat := ix.dsa(scores, w, p.K, rng)
			if p.Method == MethodDSA {
				shared = append(shared, flat)
				continue
			}
			// HISA's candidates are scored as the flat indexer scored
			// them at this step: its scores are reused, not remade.
			h := ix.hisa(qs, scores, w, p, rng)
			shared = append(shared, h)
			iou = append(iou, IoU(h.Tokens, flat.Tokens))
		}
	}
	// Eviction follows every step and draws nothing at random: each
	// head's run alone, the heads at once.
	var evicted [][]Selection
	if p.Method == MethodEvict {
		evicted = make([][]Selection, len(heads))
		parallel(len(heads), func(hi int) {
			ev := newEvictor(heads[hi], p, g, prompt)
			for st := 1; st <= steps && len(evicted[hi]) < len(pl.StepsAt); st++ {
				ev.step(prompt + st)
				if sampled[st] {
					evicted[hi] = append(evicted[hi], ev.selection(prompt+st))
				}
			}
		})
	}
	type job struct {
		s  *Sample
		qs [][]float32
		w  window
	}
	jobs := make([][]job, len(heads))
	for hi, h := range heads {
		var labels []int
		if p.Method == MethodDoubleSparsity {
			labels = labelChannels(h, g, p.Channels, prompt)
			out.labels = append(out.labels, labels)
		}
		var pb *pageBounds
		if p.Method == MethodQuest {
			pb = newPageBounds(h, p.PageSize)
		}
		si := 0
		for st := 1; st <= steps && si < len(pl.StepsAt); st++ {
			if !sampled[st] {
				continue
			}
			ctx := prompt + st
			w := window{0, ctx}
			qs := groupQueries(h, g, ctx-1)
			s := &pl.Samples[(li0*len(heads)+hi)*len(pl.StepsAt)+si]
			*s = Sample{Layer: li, Head: pl.Heads[hi], Step: st, Context: ctx}
			switch p.Method {
			case MethodEvict:
				s.Sel = evicted[hi][si]
			case MethodQuest:
				s.Sel = quest(h, qs, w, p, pb, rng)
			case MethodDoubleSparsity:
				s.Sel = doubleSparsity(h, qs, w, labels, p, rng)
			case MethodDSA, MethodHISA:
				s.Sel = shared[si]
				if iou != nil {
					s.IoU = iou[si]
				}
			case MethodMustafar:
				// The new token's rows are pruned on the top-k engine:
				// a quick-select over each row's magnitudes.
				for _, x := range [][]float32{row(h.K, D, ctx-1), row(h.V, D, ctx-1)} {
					mag := make([]float64, D)
					for c, v := range x {
						mag[c] = math.Abs(float64(v))
					}
					_, r := topK(mag, Kept(D, p.Sparsity), rng)
					s.Sel.Rounds = append(s.Sel.Rounds, r...)
				}
			default:
				out.err = fmt.Errorf("kv_sparsity.method %s has no kernel", p.Method)
				return out
			}
			jobs[hi] = append(jobs[hi], job{s, qs, w})
			si++
		}
		if si != len(pl.StepsAt) {
			out.err = fmt.Errorf("layer %d head %d: %d of %d sampled steps", li, pl.Heads[hi], si, len(pl.StepsAt))
			return out
		}
	}
	out.measure = func() {
		for hi, h := range heads {
			var mk, mv *pruned // nil: the dense cache
			if p.Method == MethodMustafar {
				pl.pruneK, pl.pruneV = mustafarPruneInto(pl.pruneK, h.K, D, p.Sparsity), mustafarPruneInto(pl.pruneV, h.V, D, p.Sparsity)
				mk, mv = pl.pruneK, pl.pruneV
			}
			// The head's measurements draw nothing and depend on nothing
			// but their sample: all at once, before the next head's
			// pruning overwrites mk and mv.
			parallel(len(jobs[hi]), func(j int) {
				jb := jobs[hi][j]
				jb.s.Quality = measure(h, mk, mv, jb.qs, jb.w, jb.s.Sel.Tokens)
			})
		}
	}
	return out
}

// newPlan is an empty plan for setup.
func newPlan(setup Setup, m llm.Model, prompt, steps int) *Plan {
	return &Plan{P: setup.Params, Model: m, Prompt: prompt, Steps: steps, setup: setup}
}

// Setup is what the plan was made for: its parameters and the machine
// numbers a lowering sizes its operators and gathers with.
func (pl *Plan) Setup() Setup { return pl.setup }

// SampleAt is the selection a (layer, KV head, step) reuses: the sampled
// layer and head nearest by index, and the latest sampled step at or
// before step. A lowering may key what it builds on the sample's address
// and its token lists': they do not change once StartPlan returns.
func (pl *Plan) SampleAt(layer, head, step int) *Sample {
	li := pl.SampledLayer(layer)
	hi := nearest(pl.Heads, head)
	si := sort.SearchInts(pl.StepsAt, step+1) - 1
	si = max(si, 0)
	return &pl.Samples[(li*len(pl.Heads)+hi)*len(pl.StepsAt)+si]
}

// SampledLayer is the index in Layers of the sampled layer whose
// selections model layer layer reuses (the nearest).
func (pl *Plan) SampledLayer(layer int) int { return nearest(pl.Layers, layer) }

func nearest(xs []int, x int) int {
	best := 0
	for i, v := range xs {
		if abs(v-x) < abs(xs[best]-x) {
			best = i
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Stats are the quality proxies over every sample with their 95%
// confidence half-widths (1.96·sd/√n: the sampling error of the mean).
type Stats struct {
	Samples            int
	MassRecall, MRCI95 float64
	RelError, RECI95   float64
	IoU, IoUMin        float64 // hisa
}

// Quality averages the samples (once measured: Wait).
func (pl *Plan) Quality() Stats {
	pl.Wait()
	var st Stats
	n := float64(len(pl.Samples))
	st.Samples = len(pl.Samples)
	if n == 0 {
		return st
	}
	var mr, mr2, re, re2 float64
	st.IoUMin = 1
	for _, s := range pl.Samples {
		mr += s.Quality.MassRecall
		mr2 += s.Quality.MassRecall * s.Quality.MassRecall
		re += s.Quality.OutputRelError
		re2 += s.Quality.OutputRelError * s.Quality.OutputRelError
		st.IoU += s.IoU
		st.IoUMin = min(st.IoUMin, s.IoU)
	}
	ci := func(s, s2 float64) float64 {
		if n < 2 {
			return math.NaN()
		}
		v := (s2 - s*s/n) / (n - 1)
		return 1.96 * math.Sqrt(max(v, 0)/n)
	}
	st.MassRecall, st.MRCI95 = mr/n, ci(mr, mr2)
	st.RelError, st.RECI95 = re/n, ci(re, re2)
	st.IoU /= n
	if pl.P.Method != MethodHISA {
		st.IoU, st.IoUMin = 0, 0
	}
	return st
}
