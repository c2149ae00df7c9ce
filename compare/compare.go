package compare

import (
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"sort"
	"time"

	attnengine "github.com/sparsesim/sparsesim/arch/attention"
	"github.com/sparsesim/sparsesim/arch/engines"
	"github.com/sparsesim/sparsesim/arch/systolic"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/energy"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/attention"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

// DefaultCPUWatts is the CPU power the energy ratio assumes: a desktop
// processor's package power under an all-core load (assumption; set it with
// --cpu-watts for your machine).
const DefaultCPUWatts = 65.0

// Result is one comparison.
type Result struct {
	Case        string  `json:"case"`
	Config      string  `json:"config"`
	Shape       string  `json:"shape"`
	DType       string  `json:"dtype"`
	Match       bool    `json:"match"`
	Exact       bool    `json:"exact"` // integers: bit-exact required
	MaxAbsError float64 `json:"max_abs_error"`
	MaxRelError float64 `json:"max_rel_error"`
	Tolerance   string  `json:"tolerance"`
	CPUSeconds  float64 `json:"cpu_seconds"` // median of Runs
	CPUThreads  int     `json:"cpu_threads"`
	Runs        int     `json:"runs"`
	SimSeconds  float64 `json:"sim_seconds"` // simulated accelerator time
	SimCycles   int64   `json:"sim_cycles"`
	Speedup     float64 `json:"speedup"`
	CPUWatts    float64 `json:"cpu_watts"`
	CPUEnergyJ  float64 `json:"cpu_energy_j"`
	SimEnergyJ  float64 `json:"sim_energy_j"`
	EnergyRatio float64 `json:"energy_ratio"` // CPU energy / accelerator energy
	Detail      string  `json:"detail,omitempty"`
}

// Options are shared by the cases.
type Options struct {
	Runs     int
	CPUWatts float64
	Seed     int64
}

func medianTime(runs int, f func()) float64 {
	runs = max(runs, 1)
	t := make([]float64, runs)
	for i := range t {
		start := time.Now()
		f()
		t[i] = time.Since(start).Seconds()
	}
	sort.Float64s(t)
	return t[runs/2]
}

// timing simulates the op on the config and prices it.
func timing(cfg *configs.Config, w workloads.Workload, r *Result, o Options) error {
	res, err := engines.Simulate(cfg, w)
	if err != nil {
		return err
	}
	e, err := energy.Estimate(cfg, res)
	if err != nil {
		return err
	}
	for _, l := range res.Layers {
		r.SimCycles += l.Elapsed
	}
	r.SimSeconds = float64(r.SimCycles) / (cfg.ClockMHz * 1e6)
	r.SimEnergyJ = e.TotalPJ * 1e-12
	r.CPUThreads, r.Runs, r.CPUWatts = runtime.GOMAXPROCS(0), max(o.Runs, 1), o.CPUWatts
	r.CPUEnergyJ = r.CPUSeconds * o.CPUWatts
	if r.SimSeconds > 0 {
		r.Speedup = r.CPUSeconds / r.SimSeconds
	}
	if r.SimEnergyJ > 0 {
		r.EnergyRatio = r.CPUEnergyJ / r.SimEnergyJ
	}
	return nil
}

// RandomInts fills a matrix with seeded integers in [-lim, lim].
func RandomInts(rows, cols int, seed int64, lim int) nm.Matrix[float64] {
	r := rand.New(rand.NewSource(seed))
	m := nm.NewMatrix[float64](rows, cols)
	for i := range m.Data {
		m.Data[i] = float64(r.Intn(2*lim+1) - lim)
	}
	return m
}

// GEMM compares Y = X·W: the CPU reference through gonum (dense) or the
// compressed sparse kernel (N:M, W pruned first), and the functional PE
// array. Integer data types must match exactly (int8/int16 products and
// sums are exact in float64); float types within K·u·Σ|x·w| per output,
// u the unit round-off of the fp32 accumulator.
func GEMM(cfg *configs.Config, x, w nm.Matrix[float64], pattern nm.Pattern, o Options) (Result, error) {
	r := Result{Case: "gemm", Config: cfg.Name, DType: cfg.PEArray.DType,
		Shape: fmt.Sprintf("M=%d N=%d K=%d", x.Rows, w.Cols, x.Cols)}
	if !pattern.Dense() {
		r.Case = "nm-gemm " + pattern.String()
		w, _ = nm.Prune(w, pattern, true)
	}
	var ref nm.Matrix[float64]
	var cw nm.Compressed[float64]
	if !pattern.Dense() {
		var err error
		if cw, err = nm.Compress(w, pattern); err != nil {
			return r, err
		}
	}
	r.CPUSeconds = medianTime(o.Runs, func() {
		if pattern.Dense() {
			ref = nm.DenseGEMM(x, w)
		} else {
			ref = nm.SparseGEMM(x, cw)
		}
	})
	got, err := systolic.FunctionalGEMM(cfg, x, w, pattern)
	if err != nil {
		return r, err
	}
	r.Exact = cfg.PEArray.DType == "int8" || cfg.PEArray.DType == "int16" || cfg.PEArray.DType == "int32"
	u := map[string]float64{"fp32": math.Pow(2, -24), "fp16": math.Pow(2, -24), "bf16": math.Pow(2, -24)}[cfg.PEArray.DType]
	inRound := map[string]float64{"fp16": math.Pow(2, -11), "bf16": math.Pow(2, -8), "fp32": math.Pow(2, -24)}[cfg.PEArray.DType]
	if r.Exact {
		r.Tolerance = "bit-exact (integer data type)"
	} else {
		r.Tolerance = fmt.Sprintf("per output (K·u + 2·v)·Σ|x·w|, u = 2^-24 (fp32 accumulation), v = %g (%s operand rounding)", inRound, cfg.PEArray.DType)
	}
	r.Match = true
	K := x.Cols
	for i := 0; i < x.Rows; i++ {
		for j := 0; j < w.Cols; j++ {
			a, b := got.Data[i*w.Cols+j], ref.Data[i*w.Cols+j]
			d := math.Abs(a - b)
			r.MaxAbsError = math.Max(r.MaxAbsError, d)
			if b != 0 {
				r.MaxRelError = math.Max(r.MaxRelError, d/math.Abs(b))
			}
			if r.Exact {
				if d != 0 {
					r.Match = false
				}
				continue
			}
			var mag float64
			for k := 0; k < K; k++ {
				mag += math.Abs(x.Data[i*K+k] * w.Data[k*w.Cols+j])
			}
			if d > (float64(K)*u+2*inRound)*mag+1e-300 {
				r.Match = false
			}
		}
	}
	l := workloads.GEMM("compare", x.Rows, w.Cols, x.Cols)
	if !pattern.Dense() {
		l.NM = pattern.String()
	}
	return r, timing(cfg, workloads.Workload{Name: "compare", Layers: []workloads.Layer{l}}, &r, o)
}

// AttentionCase is a pruned attention head.
type AttentionCase struct {
	Tokens, Queries, D int
	TokenKeep          float64 // fraction of tokens the cascade kept
	VKeep              float64 // fraction of kept values each query uses
	MSB, LSB           int
	Tau                float64
}

// DefaultAttention is the default pruned attention layer.
var DefaultAttention = AttentionCase{Tokens: 512, Queries: 64, D: 64, TokenKeep: 0.5, VKeep: 0.2, MSB: 6, LSB: 4, Tau: 0.1}

// Attention compares one pruned head: the CPU reference (float64 on the
// same dequantized codes, sort-based top-k) against the engine's datapath
// (MSB-first Q×K, τ decision, LSB recombination, quick-select top-k). The
// refetch decisions and the selected values must be identical; outputs
// agree within 1e-9 (float64 re-association over at most Tokens terms of
// magnitude ≤ 1: Tokens·2^-53 ≈ 1e-13, with margin).
func Attention(cfg *configs.Config, c AttentionCase, o Options) (Result, error) {
	r := Result{Case: "pruned-attention", Config: cfg.Name, DType: "fixed-point K/V codes",
		Shape:     fmt.Sprintf("tokens=%d queries=%d d=%d keep=%g v=%g %d+%d bits τ=%g", c.Tokens, c.Queries, c.D, c.TokenKeep, c.VKeep, c.MSB, c.LSB, c.Tau),
		Tolerance: "refetch decisions and selected values identical; |Δout| ≤ 1e-9"}
	rng := rand.New(rand.NewSource(o.Seed))
	gen := func(n int, s func(i int) float64) [][]float64 {
		m := make([][]float64, n)
		for i := range m {
			m[i] = make([]float64, c.D)
			for j := range m[i] {
				m[i][j] = rng.NormFloat64() * s(i)
			}
		}
		return m
	}
	keyScale := make([]float64, c.Tokens)
	for i := range keyScale {
		keyScale[i] = math.Exp(0.5 * rng.NormFloat64())
	}
	q := gen(c.Queries, func(int) float64 { return attention.DefaultQueryScale })
	k := gen(c.Tokens, func(i int) float64 { return keyScale[i] })
	v := gen(c.Tokens, func(int) float64 { return 1 })
	// The cascade's decision, an input to both paths: the most important
	// tokens by the dense probabilities' column sums.
	probs, _ := attention.Head(q, k, v, nil)
	imp := make([]float64, c.Tokens)
	for _, row := range probs {
		for j, p := range row {
			imp[j] += p
		}
	}
	keep := attention.TopKBySort(imp, int(math.Ceil(c.TokenKeep*float64(c.Tokens))))
	vkeep := max(1, int(math.Ceil(c.VKeep*float64(len(keep)))))
	in := attnengine.AttnHeadInput{Q: q, K: k, V: v, Keep: keep, VKeep: vkeep, MSB: c.MSB, LSB: c.LSB, Tau: c.Tau, Seed: o.Seed}
	var refOut [][]float64
	var refSel [][]int
	var refRefetch []bool
	r.CPUSeconds = medianTime(o.Runs, func() { refOut, refSel, refRefetch = referenceHead(in) })
	got := attnengine.FunctionalAttention(in)
	r.Match = true
	union := map[int]bool{}
	requant := 0
	for i := range refOut {
		if got.Refetch[i] != refRefetch[i] {
			r.Match = false
			r.Detail = fmt.Sprintf("query %d: refetch %v, reference %v", i, got.Refetch[i], refRefetch[i])
		}
		if fmt.Sprint(got.VSel[i]) != fmt.Sprint(refSel[i]) {
			r.Match = false
			r.Detail = fmt.Sprintf("query %d: top-k engine selected %v, reference %v", i, got.VSel[i], refSel[i])
		}
		for c2, x := range refOut[i] {
			d := math.Abs(got.Out[i][c2] - x)
			r.MaxAbsError = math.Max(r.MaxAbsError, d)
			if x != 0 {
				r.MaxRelError = math.Max(r.MaxRelError, d/math.Abs(x))
			}
			if d > 1e-9 {
				r.Match = false
			}
		}
		for _, j := range got.VSel[i] {
			union[j] = true
		}
		if got.Refetch[i] {
			requant++
		}
	}
	row := workloads.AttnRow{D: c.D, Context: c.Tokens, Queries: c.Queries, KeyFetch: len(keep), KeyBits: c.MSB,
		QueryBits: 16, ValueFetch: len(union), ValueBits: c.MSB + c.LSB, RequantQueries: requant, LSBBits: c.LSB,
		Threshold: c.Tau, VRounds: got.Rounds}
	return r, timing(cfg, workloads.Workload{Name: "compare", Attention: []workloads.AttnRow{row}}, &r, o)
}

// referenceHead is the CPU reference: the same codes in float64, the
// refetch decision, a sort-based top-k, and the weighted sum.
func referenceHead(in attnengine.AttnHeadInput) (out [][]float64, sel [][]int, refetch []bool) {
	quant := attention.NewQuantizer(in.K, in.MSB+in.LSB, in.LSB)
	scale := 1 / math.Sqrt(float64(len(in.Q[0])))
	msbK := make([][]float64, len(in.Keep))
	fullK := make([][]float64, len(in.Keep))
	for j, t := range in.Keep {
		msbK[j] = make([]float64, len(in.K[t]))
		fullK[j] = make([]float64, len(in.K[t]))
		for c, x := range in.K[t] {
			code := quant.Code(x)
			msbK[j][c] = quant.Dequant(quant.MSBOnly(code))
			fullK[j][c] = quant.Dequant(code)
		}
	}
	for _, q := range in.Q {
		row := func(keys [][]float64) []float64 {
			p := make([]float64, len(keys))
			for j, key := range keys {
				for c, x := range key {
					p[j] += q[c] * x
				}
				p[j] *= scale
			}
			attention.Softmax(p)
			return p
		}
		p := row(msbK)
		mx := 0.0
		for _, x := range p {
			mx = math.Max(mx, x)
		}
		rf := mx < in.Tau
		if rf {
			p = row(fullK)
		}
		s := attention.TopKBySort(p, min(in.VKeep, len(p)))
		o := make([]float64, len(in.V[0]))
		for _, j := range s {
			for c, x := range in.V[in.Keep[j]] {
				o[c] += p[j] * x
			}
		}
		out, sel, refetch = append(out, o), append(sel, s), append(refetch, rf)
	}
	return out, sel, refetch
}

// Summary is `run --functional`: every GEMM layer small enough run through
// the functional datapath and checked against the CPU kernel.
type Summary struct {
	LayersChecked int     `json:"layers_checked"`
	LayersSkipped int     `json:"layers_skipped"` // above MaxCheckMACs
	Match         bool    `json:"match"`
	MaxAbsError   float64 `json:"max_abs_error"`
	MaxRelError   float64 `json:"max_rel_error"`
	FirstMismatch string  `json:"first_mismatch,omitempty"`
}

// MaxCheckMACs bounds the layers `run --functional` checks (small and
// medium layers; larger ones are counted as skipped).
const MaxCheckMACs = 1 << 27

// CheckWorkload runs every GEMM group of w with seeded integer (or float)
// data through the functional datapath and the CPU kernel.
func CheckWorkload(cfg *configs.Config, w workloads.Workload, seed int64) (Summary, error) {
	s := Summary{Match: true}
	for i, l := range w.Layers {
		if l.Kind == "update" || int64(l.M)*int64(l.N)*int64(l.K) > MaxCheckMACs {
			s.LayersSkipped++
			continue
		}
		lim := 100
		if cfg.PEArray.DType == "int8" {
			lim = 127
		}
		x := RandomInts(l.M, l.K, seed+int64(2*i), lim)
		wt := RandomInts(l.K, l.N, seed+int64(2*i+1), lim)
		p, err := cfg.LayerPattern(l.WeightOperand, l.NM)
		if err != nil {
			return s, fmt.Errorf("layer %s: %w", l.Name, err)
		}
		c := *cfg
		c.Sparsity.NM = p.String()
		r, err := GEMM(&c, x, wt, p, Options{Runs: 1, CPUWatts: DefaultCPUWatts, Seed: seed})
		if err != nil {
			return s, fmt.Errorf("layer %s: %w", l.Name, err)
		}
		s.LayersChecked++
		s.MaxAbsError = math.Max(s.MaxAbsError, r.MaxAbsError)
		s.MaxRelError = math.Max(s.MaxRelError, r.MaxRelError)
		if !r.Match && s.Match {
			s.Match, s.FirstMismatch = false, l.Name
		}
	}
	return s, nil
}
