package attention

import (
	"fmt"
	"math"
	"math/rand"
	"sort"
	"testing"
)

func small(p Params) Params {
	p.Layers, p.Heads, p.D, p.Context = 4, 4, 16, 48
	p.FullBits, p.MSB, p.LSB, p.Tau, p.Seed = 12, 6, 4, 0.1, 7
	p.TokenStart, p.TokenPrune, p.HeadStart, p.HeadPrune, p.VPrune = 0.25, 0.5, 0.5, 0.5, 0.6
	return p
}

// With every technique off, the model's head outputs are plain dense
// attention computed directly from the same activations.
func TestNoPruningEqualsDense(t *testing.T) {
	p := small(Params{Summarize: true, Generate: 2})
	res := RunModel(p)
	data := newSynth(p, p.Context+p.Generate)
	for it := range res.Out {
		for l := 0; l < p.Layers; l++ {
			for h := 0; h < p.Heads; h++ {
				ctx := p.Context + it
				lastQ := ctx - 1
				if it == 0 {
					lastQ = p.Context - 1
				} else {
					ctx = p.Context + it
				}
				_, want := Head([][]float64{data.query(l, h, lastQ)}, data.keys(l, h, nil)[:ctx], data.values(l, h, nil)[:ctx], nil)
				for c, x := range res.Out[it][l][h] {
					if math.Abs(x-want[0][c]) > 1e-12 {
						t.Fatalf("iter %d layer %d head %d: output differs by %g", it, l, h, x-want[0][c])
					}
				}
			}
		}
	}
	for _, r := range res.Rows {
		if r.KeyFetch != r.Context || r.ValueFetch != r.Context || r.RequantQueries != 0 || r.TopKSize != 0 {
			t.Fatalf("unpruned row fetched %d keys, %d values of %d", r.KeyFetch, r.ValueFetch, r.Context)
		}
	}
}

// Cascade pruning keeps exactly the top-k of the cumulative importance,
// and a pruned token or head never comes back in a later layer.
func TestCascadeKeepsTopK(t *testing.T) {
	p := small(Params{Summarize: true, TokenPruning: true, HeadPruning: true, LocalV: true})
	res := RunModel(p)
	for l := 0; l+1 < p.Layers; l++ {
		alive, next := res.KeptTokens[0][l], res.KeptTokens[0][l+1]
		want := TopKBySort(res.TokenScoresAt[0][l], len(next))
		got := make([]int, len(next))
		pos := map[int]int{}
		for j, tok := range alive {
			pos[tok] = j
		}
		for j, tok := range next {
			i, ok := pos[tok]
			if !ok {
				t.Fatalf("layer %d: token %d revived", l+1, tok)
			}
			got[j] = i
		}
		sort.Ints(got)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("layer %d: kept %v, top-k of importance %v", l+1, got, want)
		}
		heads, nextH := res.KeptHeads[0][l], res.KeptHeads[0][l+1]
		wantH := TopKBySort(res.HeadScoresAt[0][l], len(nextH))
		for j, i := range wantH {
			if heads[i] != nextH[j] {
				t.Errorf("layer %d: heads %v, want top-k %v of %v", l+1, nextH, wantH, heads)
			}
		}
	}
	last := res.KeptTokens[0][p.Layers-1]
	if want := int(math.Ceil(0.5 * float64(p.Context))); len(last) != want {
		t.Errorf("last layer keeps %d tokens, schedule says %d", len(last), want)
	}
	if len(res.KeptHeads[0][p.Layers-1]) != 2 {
		t.Errorf("last layer keeps %d heads, want 2", len(res.KeptHeads[0][p.Layers-1]))
	}
}

func TestQuickSelectMatchesSort(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for trial := 0; trial < 200; trial++ {
		n := 1 + r.Intn(300)
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = float64(r.Intn(50)) // many ties
		}
		k := r.Intn(n + 1)
		got, rounds := QuickSelect(vals, k, r)
		if len(got) != k {
			t.Fatalf("kept %d, want %d", len(got), k)
		}
		if !sort.IntsAreSorted(got) {
			t.Fatal("order not preserved")
		}
		kept := map[int]bool{}
		minKept := math.Inf(1)
		for _, i := range got {
			kept[i] = true
			minKept = math.Min(minKept, vals[i])
		}
		for i, v := range vals {
			if !kept[i] && v > minKept {
				t.Fatalf("dropped %g above kept %g", v, minKept)
			}
		}
		if k > 0 && k < n && (len(rounds) == 0 || rounds[0] != n) {
			t.Fatalf("first round compared %v, want %d", rounds, n)
		}
		for i := 1; i < len(rounds); i++ {
			if rounds[i] >= rounds[i-1] {
				t.Fatalf("rounds do not shrink: %v", rounds)
			}
		}
	}
	vals := []float64{0.1, 0.5, 0.3, 0.9, 0.2}
	if got, _ := QuickSelect(vals, 2, r); fmt.Sprint(got) != "[1 3]" {
		t.Errorf("top-2 of %v = %v, want [1 3]", vals, got)
	}
}

// MSB-only keys carry at most 2^LSB quantization steps of error per
// element, full codes half a step; the logit error is bounded by
// Σ|q_c|·err/√d, and fetching the LSBs shrinks the probability error.
func TestProgressiveQuantizationError(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	d, n := 64, 200
	k := make([][]float64, n)
	for i := range k {
		k[i] = make([]float64, d)
		for c := range k[i] {
			k[i][c] = r.NormFloat64()
		}
	}
	quant := NewQuantizer(k, 10, 4)
	var errMSB, errFull float64
	for trial := 0; trial < 20; trial++ {
		q := make([]float64, d)
		var l1 float64
		for c := range q {
			q[c] = 3 * r.NormFloat64()
			l1 += math.Abs(q[c])
		}
		ex := make([]float64, n)
		msb := make([]float64, n)
		full := make([]float64, n)
		for j := range k {
			for c, x := range k[j] {
				code := quant.Code(x)
				ex[j] += q[c] * x
				msb[j] += q[c] * quant.Dequant(quant.MSBOnly(code))
				full[j] += q[c] * quant.Dequant(code)
			}
		}
		s := 1 / math.Sqrt(float64(d))
		for j := range ex {
			if math.Abs(msb[j]-ex[j])*s > l1*quant.Scale*16*s+1e-9 {
				t.Fatalf("MSB logit error %g above bound %g", math.Abs(msb[j]-ex[j])*s, l1*quant.Scale*16*s)
			}
			if math.Abs(full[j]-ex[j])*s > l1*quant.Scale*0.5*s+1e-9 {
				t.Fatalf("full logit error above bound")
			}
			ex[j], msb[j], full[j] = ex[j]*s, msb[j]*s, full[j]*s
		}
		Softmax(ex)
		Softmax(msb)
		Softmax(full)
		for j := range ex {
			errMSB = math.Max(errMSB, math.Abs(msb[j]-ex[j]))
			errFull = math.Max(errFull, math.Abs(full[j]-ex[j]))
		}
	}
	if !(errFull < errMSB/4) {
		t.Errorf("LSBs did not cut the error: MSB-only %g, full %g", errMSB, errFull)
	}
	// The split recombines exactly.
	for _, c := range []int32{0, 1, -1, 511, -511, 300, -300} {
		if got := Recombine(quant.MSBOnly(c), LSBs(c, 4), 4); got != c {
			t.Errorf("recombine(%d) = %d", c, got)
		}
	}
	// τ decides: a flat row refetches, a peaked one does not.
	flatQ := make([]float64, d)
	if _, refetch := Progressive(flatQ, k, nil2all(n), quant, 0.1); !refetch {
		t.Error("uniform probabilities (max 1/200 < 0.1) did not refetch LSBs")
	}
	peaked := append([]float64(nil), k[0]...)
	for c := range peaked {
		peaked[c] *= 20
	}
	if _, refetch := Progressive(peaked, k, nil2all(n), quant, 0.1); refetch {
		t.Error("a query aligned with one key refetched LSBs")
	}
}

func nil2all(n int) []int {
	a := make([]int, n)
	for i := range a {
		a[i] = i
	}
	return a
}

// Progressive quantization and local V pruning change the trace the way
// they should: fewer bits, LSB refetch counts, fewer V rows.
func TestTechniquesShapeTheTrace(t *testing.T) {
	p := small(Params{Summarize: true, LocalV: true, PQuant: true})
	p.Tau = 0.4 // between the flattest and the most peaked rows of this data
	res := RunModel(p)
	var req int
	for _, r := range res.Rows {
		if r.KeyBits != 6 || r.LSBBits != 4 || r.ValueFetch > r.KeyFetch || len(r.VRounds) == 0 {
			t.Fatalf("row %+v", r)
		}
		req += r.RequantQueries
	}
	if req == 0 || req == p.Context*p.Layers*p.Heads {
		t.Errorf("%d of %d queries refetched LSBs: τ decides nothing", req, p.Context*p.Layers*p.Heads)
	}
}

// BERT-base attention (12 layers × 12 heads, 384 tokens) through the
// kernels with every technique on; heads run on all cores.
func BenchmarkBERTBaseAttention(b *testing.B) {
	p := Params{Layers: 12, Heads: 12, D: 64, Context: 384, Summarize: true, TokenPruning: true, TokenPrune: 0.9,
		TokenStart: 0.15, HeadPruning: true, HeadPrune: 0.3, HeadStart: 0.3, LocalV: true, VPrune: 0.8, PQuant: true,
		MSB: 6, LSB: 4, FullBits: 12, Tau: 0.1, Seed: 1}
	for i := 0; i < b.N; i++ {
		RunModel(p)
	}
}
