package moe

import (
	"fmt"
	"math"
	"math/rand"
	"slices"

	"github.com/sparsesim/sparsesim/workloads/attention"
)

// Routing distributions (moe.routing).
const (
	Uniform   = "uniform"
	Balanced  = "balanced"
	Zipf      = "zipf"
	Dirichlet = "dirichlet"
	FromTrace = "trace"
)

// Routings lists the distributions in documentation order.
var Routings = []string{Uniform, Balanced, Zipf, Dirichlet, FromTrace}

// Executions (moe.execution): what the experts run.
const (
	// Dynamic runs each expert over exactly the tokens kept for it and
	// skips experts no token chose (their weights are not read).
	Dynamic = "dynamic"
	// Padded runs every expert over the same number of token slots, as
	// static-shape implementations (GShard, Switch) do: the capacity
	// when moe.capacity_factor is set, else the step's largest load.
	Padded = "padded"
)

// Executions lists the execution modes.
var Executions = []string{Dynamic, Padded}

// Spec is the routing configuration (the config's moe block).
type Spec struct {
	Routing string
	// Imbalance is the Zipf exponent s (popularity of the r-th expert ∝
	// r^-s; 0 is uniform) or the Dirichlet concentration α (small α:
	// few experts take most tokens; large α: near uniform).
	Imbalance float64
	// CapacityFactor bounds each expert's tokens per layer and step at
	// ⌈factor · T · k / E⌉; 0: no limit.
	CapacityFactor float64
	Execution      string
	// Locality is the probability that a token keeps its predecessor's
	// router logits (same sequence and layer): consecutive tokens then
	// share experts, as BlockFFN observes. Uniform, Zipf and Dirichlet
	// only.
	Locality float64
	// Chunk is the consecutive tokens of a sequence whose union Stats
	// measures (BlockFFN's chunk-level sparsity; 8 in the paper).
	Chunk int
	// Trace is the routing of FromTrace.
	Trace *Trace
}

// Step is which tokens a forward pass routes: New consecutive tokens of
// each of Batch sequences, the first at position Pos; SeqLen is the
// positions a sequence has over the whole run (it maps positions to trace
// tokens). Index is the decode step (0 for prefill); only balanced
// routing uses it.
type Step struct {
	Batch, New, Pos, SeqLen, Index int
}

// Tokens is the tokens in flight.
func (s Step) Tokens() int { return s.Batch * s.New }

// Decision is one MoE layer's routing of one step's tokens.
type Decision struct {
	Layer, Experts, K int
	Step              Step
	// Choice holds each token's k experts, token-major (token t =
	// sequence t / New at position Pos + t % New), each token's in
	// descending logit order.
	Choice []int
	// Counts is tokens routed to each expert, Kept what capacity leaves.
	Counts, Kept []int
	// Capacity is the per-expert limit (0: none); Dropped the
	// (token, expert) assignments over it.
	Capacity, Dropped int
	// Rounds are the top-k engine's quick-select candidate counts and one
	// final pass over the experts per token (arch.TopKCycles).
	Rounds []int
	// Run is the tokens each expert's FFN runs over (0: not run).
	Run []int
}

// Router routes tokens for one model and run.
type Router struct {
	spec             Spec
	experts, k, seed int64
	layers           int
	logp             [][]float64 // per layer log-popularity (zipf, dirichlet)
	g                stream
	rng              *rand.Rand
	vals, draws      []float64
}

// NewRouter prepares routing for a model of layers MoE layers with experts
// routed experts and k per token.
func NewRouter(spec Spec, experts, k, layers int, seed int64) (*Router, error) {
	if experts < 1 || k < 1 || k > experts || layers < 1 {
		return nil, fmt.Errorf("moe: %d experts, top-%d, %d layers", experts, k, layers)
	}
	if spec.Execution == "" {
		spec.Execution = Dynamic
	}
	if spec.Chunk < 1 {
		spec.Chunk = 1
	}
	r := &Router{spec: spec, experts: int64(experts), k: int64(k), seed: seed, layers: layers,
		vals: make([]float64, experts), draws: make([]float64, experts)}
	r.rng = rand.New(&r.g)
	switch spec.Routing {
	case Uniform, Balanced:
	case Zipf, Dirichlet:
		r.logp = make([][]float64, layers)
		for l := range r.logp {
			r.logp[l] = r.popularity(l)
		}
	case FromTrace:
		if spec.Trace == nil {
			return nil, fmt.Errorf("moe: trace routing without a trace")
		}
		if err := spec.Trace.Check(experts, k, layers); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("moe: unknown routing %q", spec.Routing)
	}
	return r, nil
}

// Spec is the router's configuration.
func (r *Router) Spec() Spec { return r.spec }

// popularity is layer l's log-probability of each expert: Zipf over a
// seeded ranking of the experts, or one Dirichlet draw. Each layer has its
// own, fixed over the run (a layer's favourite experts persist).
func (r *Router) popularity(l int) []float64 {
	E := int(r.experts)
	r.g.reset(key(r.seed, int64(l), -1))
	p := make([]float64, E)
	if r.spec.Routing == Zipf {
		rank := r.rng.Perm(E)
		for e := range p {
			p[e] = math.Pow(float64(rank[e]+1), -r.spec.Imbalance)
		}
	} else {
		for e := range p {
			// A floor keeps log finite when α is tiny and a draw
			// underflows; such an expert is then practically never
			// chosen, as intended.
			p[e] = max(r.g.gamma(r.spec.Imbalance), 1e-300)
		}
	}
	var sum float64
	for _, v := range p {
		sum += v
	}
	for e := range p {
		p[e] = math.Log(p[e] / sum)
	}
	return p
}

// Route decides layer's routing of the step's tokens.
func (r *Router) Route(layer int, s Step) *Decision {
	E, k := int(r.experts), int(r.k)
	T := s.Tokens()
	d := &Decision{Layer: layer, Experts: E, K: k, Step: s, Choice: make([]int, 0, T*k),
		Counts: make([]int, E), Kept: make([]int, E), Run: make([]int, E),
		Rounds: make([]int, 0, T*3)}
	var perm []int
	if r.spec.Routing == Balanced {
		r.g.reset(key(r.seed, int64(layer), int64(s.Index), -2))
		perm = r.rng.Perm(E)
	}
	for t := 0; t < T; t++ {
		seq, pos := t/s.New, s.Pos+t%s.New
		switch r.spec.Routing {
		case Balanced:
			r.balancedLogits(layer, seq, pos, t, perm)
		case FromTrace:
			r.traceLogits(layer, seq, pos, s.SeqLen)
		default:
			r.sampledLogits(layer, seq, pos)
		}
		// The top-k engine's pivots come from the token's own stream.
		r.g.reset(key(r.seed, int64(layer), int64(seq), int64(pos), -3))
		keep, rounds := attention.QuickSelect(r.vals, k, r.rng)
		d.Rounds = append(append(d.Rounds, rounds...), E)
		// Order the k by logit, highest first: the first choice has
		// priority for capacity (GShard's slot order).
		first := len(d.Choice)
		d.Choice = append(d.Choice, keep...)
		mine := d.Choice[first:]
		slices.SortStableFunc(mine, func(a, b int) int {
			switch va, vb := r.vals[a], r.vals[b]; {
			case va > vb:
				return -1
			case va < vb:
				return 1
			}
			return 0
		})
		for _, e := range mine {
			d.Counts[e]++
		}
	}
	d.applyCapacity(r.spec.CapacityFactor, r.spec.Execution)
	return d
}

// Capacity is the per-expert token limit ⌈factor·tokens·k/experts⌉, 0
// without a factor.
func Capacity(factor float64, tokens, experts, k int) int {
	if factor <= 0 {
		return 0
	}
	// A tiny epsilon keeps an exact product (1.25 · 64 · 2 / 8 = 20)
	// from rounding up through floating-point noise.
	return max(1, int(math.Ceil(factor*float64(tokens*k)/float64(experts)-1e-9)))
}

// applyCapacity keeps at most Capacity tokens per expert, first choices of
// every token (in token order) before second choices, and so on; the rest
// are dropped (the token skips that expert: its residual passes through
// and the expert's gate weight is lost). Then it sets what each expert
// runs.
func (d *Decision) applyCapacity(factor float64, exec string) {
	T := d.Step.Tokens()
	d.Capacity = Capacity(factor, T, d.Experts, d.K)
	if d.Capacity == 0 {
		copy(d.Kept, d.Counts)
	} else {
		for j := 0; j < d.K; j++ {
			for t := 0; t < T; t++ {
				e := d.Choice[t*d.K+j]
				if d.Kept[e] < d.Capacity {
					d.Kept[e]++
				} else {
					d.Dropped++
				}
			}
		}
	}
	if exec == Padded {
		slots := d.Capacity
		if slots == 0 {
			slots = slices.Max(d.Kept)
		}
		for e := range d.Run {
			d.Run[e] = slots
		}
		return
	}
	copy(d.Run, d.Kept)
}

// sampledLogits draws the token's router logits: i.i.d. standard normal
// (uniform: every k-subset equally likely, independently per token), or
// the layer's log-popularity plus Gumbel noise (Zipf, Dirichlet: the top-k
// is then k experts drawn without replacement in proportion to their
// popularity). With locality the token reuses the logits of the latest
// earlier position of its sequence that drew fresh ones.
func (r *Router) sampledLogits(layer, seq, pos int) {
	src := pos
	if r.spec.Locality > 0 {
		for src > 0 {
			r.g.reset(key(r.seed, int64(layer), int64(seq), int64(src), -4))
			if r.g.float() >= r.spec.Locality {
				break
			}
			src--
		}
	}
	r.g.reset(key(r.seed, int64(layer), int64(seq), int64(src)))
	if r.logp == nil {
		for e := range r.vals {
			r.vals[e] = r.g.normal()
		}
		return
	}
	lp := r.logp[layer]
	for e := range r.vals {
		r.vals[e] = lp[e] + r.g.gumbel()
	}
}

// balancedLogits gives token t (the step's t-th) experts perm[(t·k + j)
// mod E], j < k, so every expert gets ⌊T·k/E⌋ or ⌈T·k/E⌉ tokens, and
// logits whose k largest (seeded normals) belong to those experts.
func (r *Router) balancedLogits(layer, seq, pos, t int, perm []int) {
	chosen := make([]bool, len(r.vals))
	for j := 0; j < int(r.k); j++ {
		chosen[perm[(t*int(r.k)+j)%len(perm)]] = true
	}
	r.assign(key(r.seed, int64(layer), int64(seq), int64(pos)), chosen, nil)
}

// traceLogits gives the token the experts its trace token lists, in the
// trace's order (first = largest logit). Sequence seq's position pos is
// trace token seq·SeqLen + pos of the layer, wrapping around.
func (r *Router) traceLogits(layer, seq, pos, seqLen int) {
	tr := r.spec.Trace
	ex := tr.Token(layer, seq*seqLen+pos)
	r.assign(key(r.seed, int64(layer), int64(seq), int64(pos)), nil, ex)
}

// assign draws E seeded normals and gives the k largest to the chosen
// experts (order: the order listed, else a seeded one) and the rest to the
// others in a seeded order, so the top-k engine's quick-select finds
// exactly the chosen experts from realistic-looking logits.
func (r *Router) assign(k uint64, chosen []bool, order []int) {
	E, K := len(r.vals), int(r.k)
	r.g.reset(k)
	for i := range r.draws {
		r.draws[i] = r.g.normal()
	}
	slices.SortFunc(r.draws, func(a, b float64) int {
		switch {
		case a > b:
			return -1
		case a < b:
			return 1
		}
		return 0
	})
	if order != nil {
		chosen = make([]bool, E)
		for i, e := range order {
			chosen[e] = true
			r.vals[e] = r.draws[i]
		}
	}
	hi, lo := r.rng.Perm(K), r.rng.Perm(E-K)
	a, b := 0, 0
	for e := range r.vals {
		switch {
		case chosen[e] && order == nil:
			r.vals[e] = r.draws[hi[a]]
			a++
		case !chosen[e]:
			r.vals[e] = r.draws[K+lo[b]]
			b++
		}
	}
}
