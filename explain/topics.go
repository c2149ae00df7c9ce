package explain

import (
	"fmt"
	"math"
	"math/rand"
	"strings"

	attnengine "github.com/sparsesim/sparsesim/arch/attention"
	"github.com/sparsesim/sparsesim/arch/engines"
	"github.com/sparsesim/sparsesim/arch/systolic"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/mapping"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/attention"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

func init() {
	register(Topic{"nm", "N:M pruning, the compressed format, index selection in a PE, why 2:8 training gives less than 4x", explainNM})
	register(Topic{"topk", "a quick-select top-k run round by round: pivot, comparators, zero elimination, cycles", explainTopK})
	register(Topic{"pquant", "progressive quantization: MSB/LSB split, the threshold decision, bytes saved, recompute paid", explainPQuant})
	register(Topic{"systolic", "a small GEMM folding onto an array in os/ws/is, cycle by cycle", explainSystolic})
	register(Topic{"cascade", "cascade token and head pruning, layer by layer", explainCascade})
}

func idealCfg(sets ...string) (*configs.Config, error) {
	return configs.Load("scalesim-32x32", sets)
}

func cyclesOf(cfg *configs.Config, l workloads.Layer) (int64, error) {
	r, err := engines.Simulate(cfg, workloads.Workload{Layers: []workloads.Layer{l}})
	if err != nil {
		return 0, err
	}
	return r.Layers[0].Cycles(), nil
}

func explainNM(o Options) (*Doc, error) {
	k := max(o.Size, 8)
	k = (k + 3) / 4 * 4
	const n = 4
	p := nm.Pattern{N: 2, M: 4}
	d := &Doc{Title: "N:M structured sparsity (2:4) on a weight-stationary array", Size: k}
	r := rand.New(rand.NewSource(o.Seed))
	w := nm.NewMatrix[float64](k, n)
	for i := range w.Data {
		w.Data[i] = float64(r.Intn(19) - 9)
	}
	rows := func(m nm.Matrix[float64]) [][]float64 {
		out := make([][]float64, m.Rows)
		for i := range out {
			out[i] = m.Data[i*m.Cols : (i+1)*m.Cols]
		}
		return out
	}
	d.step("A weight tile W (K×N)", map[string]any{"w": rows(w)},
		append([]string{fmt.Sprintf("K = %d input channels down, N = %d outputs across; seeded integers.", k, n)}, matrix(rows(w), "%3.0f")...)...)
	pr, mask := nm.Prune(w, p, true)
	d.step("Prune 2:4 along K", map[string]any{"pruned": rows(pr), "mask": mask},
		append([]string{"In every group of 4 consecutive weights of a column, keep the 2 largest |w| (ties: the lower index). Pruned weights are 0:"},
			matrix(rows(pr), "%3.0f")...)...)
	c, _ := nm.Compress(pr, p)
	var vals, idx []string
	for col := 0; col < n; col++ {
		per := c.Groups * p.N
		vals = append(vals, vector(c.Values[col*per:(col+1)*per], "%3.0f"))
		idx = append(idx, fmt.Sprint(c.Index[col*per:(col+1)*per]))
	}
	packed := nm.PackIndices(c.Index, p.IndexBits())
	d.step("The compressed format", map[string]any{"values": c.Values, "indices": c.Index, "metadata_bytes": len(packed)},
		fmt.Sprintf("Each column keeps %d values and a %d-bit index per value (its position in the group of 4), like NVIDIA's 2:4 metadata.", c.Groups*p.N, p.IndexBits()),
		"column values:  "+strings.Join(vals, "  "),
		"column indices: "+strings.Join(idx, "  "),
		fmt.Sprintf("Dense weights: %d words. Compressed: %d words + %d metadata bytes.", k*n, len(c.Values), len(packed)))
	x := make([]float64, k)
	for i := range x {
		x[i] = float64(r.Intn(9) - 4)
	}
	y := nm.SparseGEMM(nm.Matrix[float64]{Rows: 1, Cols: k, Data: x}, c)
	ref := nm.DenseGEMM(nm.Matrix[float64]{Rows: 1, Cols: k, Data: x}, pr)
	g0 := x[:4]
	sel := []string{}
	for s := 0; s < p.N; s++ {
		i := c.Index[s]
		sel = append(sel, fmt.Sprintf("w=%v selects x[%d]=%v", c.Values[s], i, g0[i]))
	}
	d.step("How a PE selects activations", map[string]any{"x": x, "y": y.Data, "dense_y": ref.Data},
		"The activations of one group of 4 arrive together; each kept weight's index drives a 4:1 multiplexer:",
		"group 0 of column 0: x = "+vector(g0, "%2.0f")+": "+strings.Join(sel, "; "),
		"y = x·W over the compressed weights: "+vector(y.Data, "%4.0f"),
		"the same on the dense pruned W:      "+vector(ref.Data, "%4.0f"))
	// Timing: dense vs 2:4 on the simulator, and the training bound.
	cfgDense, err := idealCfg("dataflow=ws")
	if err != nil {
		return nil, err
	}
	cfgSparse, _ := idealCfg("dataflow=ws", "sparsity.nm=2:8")
	l := workloads.GEMM("layer", 128, 64, 256)
	dc, err := cyclesOf(cfgDense, l)
	if err != nil {
		return nil, err
	}
	sc, _ := cyclesOf(cfgSparse, l)
	d.step("Why 2:8 training gives less than 4x", map[string]any{"dense_cycles": dc, "nm_2_8_cycles": sc, "ideal_training_speedup": 3.0 / (2*0.25 + 1)},
		fmt.Sprintf("Forward GEMM 128x64x256 on a 32x32 ws array (simulated, ideal DRAM): dense %d cycles, 2:8 %d cycles (%.2fx, K shrinks to K/4 but every fold still pays its fill and drain).", dc, sc, float64(dc)/float64(sc)),
		"Training runs three GEMMs per layer: forward and input gradient use the N:M weights (BDWP), but the weight gradient dW = Xᵀ·dY has no weight operand and stays dense.",
		fmt.Sprintf("So even with perfect 4x on two of three equal GEMMs the step speeds up 3/(2/4 + 1) = %.2fx; SAT reports 1.75x.", 3.0/(2*0.25+1)))
	if err := d.figure(o, "nm_mask.png", maskFigure(mask, k, n)); err != nil {
		return nil, err
	}
	return d, nil
}

func explainTopK(o Options) (*Doc, error) {
	n := max(o.Size, 24)
	k := max(1, n/5)
	d := &Doc{Title: fmt.Sprintf("The top-k engine: quick-select of the %d largest of %d scores", k, n), Size: n}
	r := rand.New(rand.NewSource(o.Seed))
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = float64(r.Intn(100))
	}
	d.step("The scores", map[string]any{"scores": vals}, "16 comparators compare 16 candidates with the pivot per cycle.", vector(vals, "%2.0f"))
	var rounds []attention.Round
	rng := rand.New(rand.NewSource(o.Seed + 1))
	keep, sizes := attention.QuickSelectObserved(vals, k, rng, func(rd attention.Round) { rounds = append(rounds, rd) })
	sizes = append(sizes, n) // the final order-preserving pass
	var total int64
	for i, rd := range rounds {
		cyc := attnengine.TopKCycles([]int{len(rd.Candidates)}, 16)
		total += cyc
		next := "the k-th value is the pivot: done"
		switch {
		case rd.Rank <= len(rd.Hi):
			next = fmt.Sprintf("rank %d lies above the pivot: continue with the %d larger", rd.Rank, len(rd.Hi))
		case rd.Rank > len(rd.Hi)+rd.Eq:
			next = fmt.Sprintf("rank %d lies below: continue with the %d smaller", rd.Rank, len(rd.Lo))
		}
		d.step(fmt.Sprintf("Round %d: %d candidates, pivot %.0f", i+1, len(rd.Candidates), rd.Pivot),
			map[string]any{"candidates": rd.Candidates, "pivot": rd.Pivot, "greater": rd.Hi, "less": rd.Lo, "equal": rd.Eq, "cycles": cyc},
			"compare:   "+compareMarks(rd.Candidates, rd.Pivot),
			"> pivot (zero eliminator compacts, order kept): "+vector(rd.Hi, "%2.0f"),
			"< pivot: "+vector(rd.Lo, "%2.0f")+fmt.Sprintf("   = pivot: %d", rd.Eq),
			fmt.Sprintf("cycles: ceil(%d/16) + 3 = %d (compare, prefix sum, compact)", len(rd.Candidates), cyc),
			next)
	}
	final := attnengine.TopKCycles([]int{n}, 16)
	total += final
	kept := make([]float64, len(keep))
	for i, j := range keep {
		kept[i] = vals[j]
	}
	d.step("Final pass and total", map[string]any{"kept_indices": keep, "kept": kept, "total_cycles": total, "engine_cycles": attnengine.TopKCycles(sizes, 16)},
		fmt.Sprintf("A last pass over all %d keeps everything above the k-th value plus ties up to k, in original order: %d cycles.", n, final),
		"kept: "+vector(kept, "%2.0f")+fmt.Sprint(" at ", keep),
		fmt.Sprintf("Total %d cycles — exactly what the simulator's top-k engine charges for these rounds (attnengine.TopKCycles = %d).", total, attnengine.TopKCycles(sizes, 16)))
	if err := d.figure(o, "topk_scores.png", scoresFigure(vals, keep)); err != nil {
		return nil, err
	}
	return d, nil
}

func compareMarks(c []float64, p float64) string {
	var b strings.Builder
	for _, v := range c {
		switch {
		case v > p:
			b.WriteByte('>')
		case v < p:
			b.WriteByte('<')
		default:
			b.WriteByte('=')
		}
	}
	return b.String()
}

func explainPQuant(o Options) (*Doc, error) {
	L := max(o.Size, 12)
	const dim, msb, lsb = 8, 6, 4
	tau := 0.1
	d := &Doc{Title: "Progressive quantization: fetch MSBs first, LSBs only when needed", Size: L}
	r := rand.New(rand.NewSource(o.Seed))
	keys := make([][]float64, L)
	for i := range keys {
		keys[i] = make([]float64, dim)
		for c := range keys[i] {
			keys[i][c] = r.NormFloat64()
		}
	}
	q := make([]float64, dim)
	for c := range q {
		q[c] = r.NormFloat64()
	}
	quant := attention.NewQuantizer(keys, msb+lsb, lsb)
	c0 := quant.Code(keys[0][0])
	d.step("The MSB/LSB split", map[string]any{"code": c0, "msb": quant.MSBOnly(c0), "lsb": attention.LSBs(c0, lsb)},
		fmt.Sprintf("Keys are %d-bit codes: %d MSBs stored apart from %d LSBs.", msb+lsb, msb, lsb),
		fmt.Sprintf("key[0][0] = %.4f → code %d = MSB part %d + LSBs %d (recombined: %d)", keys[0][0], c0, quant.MSBOnly(c0),
			attention.LSBs(c0, lsb), attention.Recombine(quant.MSBOnly(c0), attention.LSBs(c0, lsb), lsb)))
	all := make([]int, L)
	for i := range all {
		all[i] = i
	}
	probs, refetch := attention.Progressive(q, keys, all, quant, tau)
	msbProbs, _ := attention.Progressive(q, keys, all, quant, 0)
	mx := 0.0
	for _, p := range msbProbs {
		mx = math.Max(mx, p)
	}
	decision := "max ≥ τ: the MSB probabilities are used; the LSBs are never fetched."
	if refetch {
		decision = "max < τ: the row is too flat to trust; fetch the LSBs, recombine, recompute Q×K and softmax."
	}
	d.step("The threshold decision", map[string]any{"msb_probs": msbProbs, "max": mx, "tau": tau, "refetch": refetch, "probs": probs},
		"softmax with MSB keys: "+vector(msbProbs, "%.2f"),
		fmt.Sprintf("max probability %.3f vs τ = %.2f: %s", mx, tau, decision))
	cfg, err := configs.Load("spatten", nil)
	if err != nil {
		return nil, err
	}
	row := workloads.AttnRow{D: 64, Context: 1024, Queries: 1, KeyFetch: 1024, ValueFetch: 1024, KeyBits: msb, LSBBits: lsb, ValueBits: msb}
	res0, err := engines.Simulate(cfg, workloads.Workload{Name: "x", Attention: []workloads.AttnRow{row}})
	if err != nil {
		return nil, err
	}
	row.RequantQueries = 1
	res1, _ := engines.Simulate(cfg, workloads.Workload{Name: "x", Attention: []workloads.AttnRow{row}})
	// The saving is against the whole code the MSBs were cut from (the
	// msb+lsb bits the step above splits), not against another width.
	full := msb + lsb
	saved := 1024 * 64 * (full - msb) / 8
	d.step("Bytes saved and recompute paid (1,024 keys of 64 dims on spatten)", map[string]any{"cycles_msb_only": res0.Layers[0].Elapsed, "cycles_with_lsb": res1.Layers[0].Elapsed, "bytes_saved_vs_full_code": saved, "full_code_bits": full},
		fmt.Sprintf("MSB-only keys: %d bytes instead of %d for the whole %d-bit codes (%d saved).", 1024*64*msb/8, 1024*64*full/8, full, saved),
		fmt.Sprintf("A row that needs its LSBs fetches %d more bytes and runs Q×K and softmax again: %d cycles instead of %d (simulated).",
			1024*64*lsb/8, res1.Layers[0].Elapsed, res0.Layers[0].Elapsed),
		"SpAtten finds ~6% of GPT-2 rows need the LSBs, so on average most of the saving stays.")
	// τ above any probability forces the LSB refetch: the full-precision row.
	fullProbs, _ := attention.Progressive(q, keys, all, quant, 2)
	diff := 0.0
	for i := range fullProbs {
		diff = math.Max(diff, math.Abs(fullProbs[i]-msbProbs[i]))
	}
	d.step("What the LSBs change", map[string]any{"full_probs": fullProbs, "max_abs_diff": diff},
		"softmax with MSB + LSB keys: "+vector(fullProbs, "%.2f"),
		fmt.Sprintf("no probability moves by more than %.4f: for this peaked row the %d MSBs already give the softmax the LSBs would (the figure's two curves nearly coincide), which is what the max ≥ τ test bets on.", diff, msb))
	if err := d.figure(o, "pquant_probs.png", seriesFigure(fmt.Sprintf("one query's softmax over %d keys (τ = %.2f)", L, tau), "key", "probability",
		[]string{"MSB keys only", "MSB + LSB keys"}, [][]float64{msbProbs, fullProbs})); err != nil {
		return nil, err
	}
	return d, nil
}

func explainSystolic(o Options) (*Doc, error) {
	size := max(o.Size, 6)
	const R, C = 4, 4
	l := workloads.GEMM("g", size, size-1, size+1)
	d := &Doc{Title: fmt.Sprintf("A %dx%dx%d GEMM folding onto a %dx%d systolic array", l.M, l.N, l.K, R, C), Size: size}
	var busyPerDF [][]float64
	var dfNames []string
	for _, df := range dataflow.All() {
		cfg, err := idealCfg("dataflow="+df.Name, fmt.Sprintf("pe_array.rows=%d", R), fmt.Sprintf("pe_array.cols=%d", C))
		if err != nil {
			return nil, err
		}
		s, err := systolic.Plan(cfg, l)
		if err != nil {
			return nil, err
		}
		simCycles, err := cyclesOf(cfg, l)
		if err != nil {
			return nil, err
		}
		var lines []string
		lines = append(lines, fmt.Sprintf("%s: %s. Rows hold %s, columns %s, %s streams through time.", df.Name, df.Describe, df.RowDim, df.ColDim, df.TimeDim))
		var folds []map[string]any
		for i := 0; i < s.NumFolds(); i++ {
			f := s.Fold(i)
			folds = append(folds, map[string]any{"row": f.Row, "col": f.Col, "used_rows": f.UsedRows, "used_cols": f.UsedCols, "cycles": f.Cycles})
			lines = append(lines, fmt.Sprintf(" fold %d: %d×%d of the %dx%d PEs busy, %d cycles", i, f.UsedRows, f.UsedCols, R, C, f.Cycles))
		}
		lines = append(lines, fmt.Sprintf("cycles per fold = %s; total = %d folds × %d − 1 = %d (the simulator: %d)",
			foldFormula(df), s.NumFolds(), s.Fold(0).Cycles, s.ComputeCycles()-1, simCycles))
		wf, busy := wavefront(s, R, C)
		if df.Name == "ws" {
			lines = append(lines, "The first fold, cycle by cycle (weights preloaded over R cycles, then activations enter skewed; # = PE working):")
			lines = append(lines, wf...)
		}
		busyPerDF = append(busyPerDF, busy)
		dfNames = append(dfNames, df.Name)
		d.step(fmt.Sprintf("Dataflow %s", df.Name), map[string]any{"folds": folds, "total_cycles": s.ComputeCycles() - 1, "simulated_cycles": simCycles}, lines...)
	}
	if err := d.figure(o, "systolic_first_fold.png", seriesFigure(fmt.Sprintf("PEs working in each cycle of the first fold (%dx%d array)", R, C),
		"cycle", "PEs working", dfNames, busyPerDF)); err != nil {
		return nil, err
	}
	return d, nil
}

func foldFormula(df dataflow.Dataflow) string {
	if df.Preloads() {
		return "2R + C + T − 2"
	}
	return "T + R + C − 2"
}

// wavefront draws which PEs of the first fold work at each cycle, the
// whole fold: after the preload, PE (i, j) works while 0 ≤ t − i − j < T.
// It also returns how many PEs work per cycle.
func wavefront(s *mapping.Schedule, R, C int) ([]string, []float64) {
	f := s.Fold(0)
	pre := 0
	if s.DF.Preloads() {
		pre = R
	}
	T := int(f.Cycles) - pre - (R + C - 2)
	var out []string
	var busy []float64
	for t := 0; t < int(f.Cycles); t++ {
		working := 0
		var row []string
		for i := 0; i < R; i++ {
			var b strings.Builder
			for j := 0; j < C; j++ {
				u := t - pre - i - j
				if t < pre && i == R-1-t%R {
					b.WriteByte('w') // weights shifting in
				} else if u >= 0 && u < T && i < f.UsedRows && j < f.UsedCols {
					b.WriteByte('#')
					working++
				} else {
					b.WriteByte('.')
				}
			}
			row = append(row, b.String())
		}
		out = append(out, fmt.Sprintf(" t=%2d  %s", t, strings.Join(row, " ")))
		busy = append(busy, float64(working))
	}
	return out, busy
}

func explainCascade(o Options) (*Doc, error) {
	ctx := max(o.Size, 32)
	p := attention.Params{Layers: 6, Heads: 4, D: 16, Context: ctx, Summarize: true, TokenPruning: true, TokenPrune: 0.75,
		TokenStart: 0.15, HeadPruning: true, HeadPrune: 0.5, HeadStart: 0.3, FullBits: 12, Seed: o.Seed}
	d := &Doc{Title: fmt.Sprintf("Cascade token and head pruning: %d tokens, 6 layers, 4 heads", ctx), Size: ctx}
	res := attention.RunModel(p)
	var kept []int
	for l := 0; l < p.Layers; l++ {
		toks, heads := res.KeptTokens[0][l], res.KeptHeads[0][l]
		kept = append(kept, len(toks))
		lines := []string{fmt.Sprintf("%d of %d tokens alive, heads %v", len(toks), ctx, heads)}
		if len(toks) <= 40 {
			lines = append(lines, fmt.Sprintf("tokens: %v", toks))
		}
		if l+1 < p.Layers {
			lines = append(lines, fmt.Sprintf("importance (sum of attention received, all heads, queries and layers so far) picks the %d kept for layer %d", len(res.KeptTokens[0][l+1]), l+1))
		}
		d.step(fmt.Sprintf("Layer %d", l), map[string]any{"tokens": toks, "heads": heads}, lines...)
	}
	d.step("Summary", map[string]any{"kept_per_layer": kept},
		fmt.Sprintf("Tokens per layer %v: the first ~15%% of layers keep everything, then the kept share ramps down to %.0f%% of the context; pruned tokens never return. Heads are pruned from ~30%% of the layers by accumulated |output|.", kept, 100*(1-p.TokenPrune)))
	keptF := make([]float64, len(kept))
	for i, v := range kept {
		keptF[i] = float64(v)
	}
	if err := d.figure(o, "cascade_tokens.png", seriesFigure("cascade token pruning", "layer", "tokens kept", []string{""}, [][]float64{keptF})); err != nil {
		return nil, err
	}
	return d, nil
}
