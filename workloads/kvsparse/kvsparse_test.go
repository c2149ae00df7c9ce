package kvsparse

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/workloads/llm"
)

// setup is configs/llm-128x128.yaml as a plan reads it (a bf16 KV cache
// and operands, a 4 MiB filter buffer, 64 B DRAM requests and the default
// kv_sparsity block; configs' TestKVSetup holds these to the file), with
// set applied to the block and checked as loading the config would. The
// tests cannot load the config itself: configs imports this package.
func setup(t *testing.T, set func(*Params)) Setup {
	t.Helper()
	s := Setup{Params: DefaultParams(), KVBits: 16, WordBytes: 2, FilterBytes: 4096 * 1024, RequestBytes: 64}
	if set != nil {
		set(&s.Params)
	}
	for _, e := range s.Params.Validate() {
		t.Fatalf("%s: %s", e.Path, e.Msg)
	}
	return s
}

// params is setup's kv_sparsity block.
func params(t *testing.T, set func(*Params)) Params {
	t.Helper()
	return setup(t, set).Params
}

// TestHISAIsFlatWhenEveryBlockIsKept: with block_top at least the block
// count, HISA's candidates are every token and its selection is the flat
// indexer's exactly (the exact case of the two-stage search); fewer
// blocks never raise the IoU, and the IoU at the defaults is logged for
// docs/kv-sparsity.md.
func TestHISAIsFlatWhenEveryBlockIsKept(t *testing.T) {
	const D, L, g = 128, 8192, 4
	heads := []*Head{NewHead(DefaultSynth, 1, 3, 0, D, L), NewHead(DefaultSynth, 1, 3, 1, D, L)}
	ix := NewIndexer(heads, 128, 9)
	w := window{0, L}
	p := params(t, func(p *Params) { p.K, p.Block = 512, 128 })
	prev := 2.0
	for _, top := range []int{L / 128, 32, 16, 8} {
		p.BlockTop = top
		var iou float64
		for pos := L - 4; pos < L; pos++ {
			flat := ix.DSA(pos, g, w, p.K, rand.New(rand.NewSource(1)))
			h := ix.HISA(pos, g, w, p, rand.New(rand.NewSource(1)))
			iou += IoU(h.Tokens, flat.Tokens) / 4
		}
		t.Logf("block_top %d of %d blocks: IoU %.4f", top, L/128, iou)
		if top == L/128 && iou != 1 {
			t.Errorf("every block kept: IoU %.6f, want 1", iou)
		}
		if iou > prev+1e-9 {
			t.Errorf("block_top %d: IoU %.4f above %.4f with more blocks", top, iou, prev)
		}
		prev = iou
	}
}

// TestLabelChannelsFindTheOutliers: Double Sparsity's offline calibration
// picks the synthetic K's outlier channels (the last OutlierChannels
// rotary channels, where relevance lives by construction).
func TestLabelChannelsFindTheOutliers(t *testing.T) {
	h := NewHead(DefaultSynth, 1, 0, 0, 128, 2048)
	got := labelChannels(h, 4, 16, 2048)
	for _, c := range got {
		if c < 128-DefaultSynth.OutlierChannels {
			t.Fatalf("label channels %v: %d is not an outlier channel", got, c)
		}
	}
}

// TestEvictKeepsSinkRecentAndBudget: after every step the cache holds
// budget tokens, the sink tokens and the recent window among them.
func TestEvictKeepsSinkRecentAndBudget(t *testing.T) {
	p := params(t, func(p *Params) { p.Method, p.Budget, p.Sink, p.Recent = MethodEvict, 256, 4, 32 })
	h := NewHead(DefaultSynth, 1, 0, 0, 64, 1100)
	e := newEvictor(h, p, 2, 1000)
	for ctx := 1001; ctx <= 1100; ctx++ {
		e.step(ctx)
		in := map[int32]bool{}
		for _, t := range e.kept {
			in[t] = true
		}
		if len(e.kept) != 256 {
			t.Fatalf("context %d: %d tokens kept", ctx, len(e.kept))
		}
		for tk := 0; tk < 4; tk++ {
			if !in[int32(tk)] {
				t.Fatalf("context %d: sink token %d evicted", ctx, tk)
			}
		}
		for tk := ctx - 32; tk < ctx; tk++ {
			if !in[int32(tk)] {
				t.Fatalf("context %d: recent token %d evicted", ctx, tk)
			}
		}
	}
}

// TestMustafarKeepsTheLargest: every pruned row keeps round((1−s)·D)
// elements, none smaller in magnitude than one it dropped.
func TestMustafarKeepsTheLargest(t *testing.T) {
	h := NewHead(DefaultSynth, 1, 0, 0, 128, 300)
	pr := mustafarPrune(h.K, 128, 0.7)
	for tk := 0; tk < 300; tk++ {
		r, o := row(h.K, 128, tk), row(pr, 128, tk)
		n := 0
		minKept, maxDropped := float32(1e30), float32(0)
		for c := range r {
			if o[c] != 0 {
				n++
				minKept = min(minKept, abs32(r[c]))
			} else {
				maxDropped = max(maxDropped, abs32(r[c]))
			}
		}
		if n != Kept(128, 0.7) || minKept < maxDropped {
			t.Fatalf("row %d: %d kept (want %d), smallest kept %g < largest dropped %g", tk, n, Kept(128, 0.7), minKept, maxDropped)
		}
	}
}

// TestQualityOfFullSelection: selecting every token recovers dense
// attention (recall 1, error 0); selecting half recalls less.
func TestQualityOfFullSelection(t *testing.T) {
	h := NewHead(DefaultSynth, 1, 0, 0, 64, 512)
	qs := groupQueries(h, 2, 511)
	all := make([]int32, 512)
	for i := range all {
		all[i] = int32(i)
	}
	q := measure(h, nil, nil, qs, window{0, 512}, all)
	if q.MassRecall < 1-1e-9 || q.OutputRelError > 1e-9 {
		t.Errorf("all tokens: %+v", q)
	}
	half := measure(h, nil, nil, qs, window{0, 512}, all[:256])
	if half.MassRecall >= q.MassRecall || half.MassRecall <= 0 {
		t.Errorf("first half: %+v", half)
	}
}

// TestFP8: e4m3 keeps 3 mantissa bits and saturates at 448.
func TestFP8(t *testing.T) {
	for _, c := range []struct{ in, want float32 }{{1, 1}, {1.1, 1.125}, {-3.3, -3.25}, {1000, 448}, {0.3, 0.3125}} {
		if got := FP8(c.in); got != c.want {
			t.Errorf("FP8(%g) = %g, want %g", c.in, got, c.want)
		}
	}
}

// writeNpy writes a little-endian float32 .npy file.
func writeNpy(t *testing.T, path string, shape []int, data []float32) {
	t.Helper()
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	hdr := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s,), }", strings.Join(dims, ", "))
	for (10+len(hdr)+1)%64 != 0 {
		hdr += " "
	}
	hdr += "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(hdr)))
	b.WriteString(hdr)
	binary.Write(&b, binary.LittleEndian, data)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNpyHeadMatchesItsSource: a synthetic head dumped to .npy and read
// back gives the same selection and quality as the head itself; a dump
// with the wrong head_dim is refused naming the file.
func TestNpyHeadMatchesItsSource(t *testing.T) {
	const D, L, g = 64, 600, 2
	h := NewHead(DefaultSynth, 1, 0, 0, D, L)
	q := make([]float32, 0, L*g*D)
	for pos := 0; pos < L; pos++ {
		for j := 0; j < g; j++ {
			q = append(q, h.Query(pos, j)...)
		}
	}
	dir := t.TempDir()
	writeNpy(t, filepath.Join(dir, "k.npy"), []int{L, D}, h.K)
	writeNpy(t, filepath.Join(dir, "v.npy"), []int{L, D}, h.V)
	writeNpy(t, filepath.Join(dir, "q.npy"), []int{L, g, D}, q)
	d, err := LoadHead(dir, D, g, L)
	if err != nil {
		t.Fatal(err)
	}
	p := params(t, func(p *Params) { p.Budget = 128 })
	w := window{0, L}
	a := doubleSparsity(h, groupQueries(h, g, L-1), w, labelChannels(h, g, 8, 500), p, rand.New(rand.NewSource(1)))
	b := doubleSparsity(d, groupQueries(d, g, L-1), w, labelChannels(d, g, 8, 500), p, rand.New(rand.NewSource(1)))
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("selections differ:\n%v\n%v", a.Tokens, b.Tokens)
	}
	if _, err := LoadHead(dir, 128, g, L); err == nil || !strings.Contains(err.Error(), "k.npy") {
		t.Errorf("wrong head_dim: %v", err)
	}
	if _, err := LoadHead(dir, D, g, L+1); err == nil || !strings.Contains(err.Error(), "tokens") {
		t.Errorf("too few tokens: %v", err)
	}
}

// TestHalfToFloat: IEEE binary16 values decode exactly.
func TestHalfToFloat(t *testing.T) {
	for _, c := range []struct {
		h    uint16
		want float32
	}{{0x3c00, 1}, {0xc000, -2}, {0x0001, 1.0 / (1 << 24)}, {0x8001, -1.0 / (1 << 24)}, {0x7bff, 65504}, {0x3555, 0.33325195}} {
		if got := halfToFloat(c.h); got != c.want {
			t.Errorf("%#04x: %g, want %g", c.h, got, c.want)
		}
	}
}

// TestSynthSensitivity: how the quality at a 1/16 budget (8K context)
// moves with the synthetic distribution's main assumptions, logged for
// docs/kv-sparsity.md; attention concentrated harder (a larger relevance
// gain) never lowers any method's recall.
func TestSynthSensitivity(t *testing.T) {
	m, _ := llm.Lookup("llama-3.1-8b")
	vary := []struct {
		name string
		set  func(s *Synth, f float64)
	}{
		{"relevance_gain", func(s *Synth, f float64) { s.RelevanceGain *= f }},
		{"heavy_sigma", func(s *Synth, f float64) { s.HeavySigma *= f }},
		{"background_gain", func(s *Synth, f float64) { s.BackgroundGain *= f }},
		{"span_len", func(s *Synth, f float64) { s.SpanLen *= f }},
	}
	for _, method := range []string{"evict", "quest", "double_sparsity", "dsa"} {
		cfg := setup(t, func(p *Params) {
			p.Method, p.Budget, p.K, p.Recent = method, 512, 512, 64
			p.SampleLayers, p.SampleHeads, p.SampleSteps = 1, 2, 3
		})
		for _, v := range vary {
			line := method + " " + v.name + ":"
			var rec []float64
			for _, f := range []float64{0.5, 1, 1.5} {
				s := DefaultSynth
				v.set(&s, f)
				pl, err := NewPlanSynth(cfg, m, 8192, 32, s)
				if err != nil {
					t.Fatal(err)
				}
				q := pl.Quality()
				rec = append(rec, q.MassRecall)
				line += fmt.Sprintf(" ×%.1f recall %.3f err %.3f;", f, q.MassRecall, q.RelError)
			}
			t.Log(line)
			if v.name == "relevance_gain" && (rec[1] < rec[0]-0.01 || rec[2] < rec[1]-0.01) {
				t.Errorf("%s: recall %v falls as attention concentrates", method, rec)
			}
		}
	}
}

// TestPerHeadDumpsMatchTheGenerator: kv_sparsity.data holding a dump per
// sampled (layer, KV head) — each the head the synthetic generator draws
// there — gives the synthetic run's selections and quality for every
// method that reads K, V and queries; a directory missing a sampled point
// is refused naming it.
func TestPerHeadDumpsMatchTheGenerator(t *testing.T) {
	m, _ := llm.Lookup("llama-3.2-1b")
	const prompt, steps = 1024, 4
	g, D, L := m.QueryGroup(), m.HeadSize(), prompt+steps
	sets := func(p *Params) {
		p.Budget, p.Recent, p.K, p.BlockTop = 128, 32, 128, 4
		p.SampleLayers, p.SampleHeads, p.SampleSteps = 2, 2, 2
	}
	cfg := setup(t, func(p *Params) { p.Method = MethodQuest; sets(p) })
	pl, err := NewPlan(cfg, m, prompt, steps)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, li := range pl.Layers {
		for _, hd := range pl.Heads {
			h := NewHead(DefaultSynth, cfg.Params.Seed, li, hd, D, L)
			q := make([]float32, 0, L*g*D)
			for pos := 0; pos < L; pos++ {
				for j := 0; j < g; j++ {
					q = append(q, h.Query(pos, j)...)
				}
			}
			d := HeadDumpDir(dir, li, hd)
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			writeNpy(t, filepath.Join(d, "k.npy"), []int{L, D}, h.K)
			writeNpy(t, filepath.Join(d, "v.npy"), []int{L, D}, h.V)
			writeNpy(t, filepath.Join(d, "q.npy"), []int{L, g, D}, q)
		}
	}
	for _, method := range []string{"evict", "quest", "double_sparsity", "dsa", "hisa", "mustafar"} {
		c := setup(t, func(p *Params) { p.Method = method; sets(p) })
		syn, err := NewPlan(c, m, prompt, steps)
		if err != nil {
			t.Fatal(err)
		}
		c.Params.Data = dir
		dumped, err := NewPlan(c, m, prompt, steps)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		for i := range syn.Samples {
			a, b := syn.Samples[i], dumped.Samples[i]
			if fmt.Sprint(a.Sel.Tokens) != fmt.Sprint(b.Sel.Tokens) || a.Quality != b.Quality {
				t.Fatalf("%s sample %d (layer %d head %d step %d): the dumps select or measure differently", method, i, a.Layer, a.Head, a.Step)
			}
		}
	}
	// The dumps are what is read: another head in one point's directory
	// changes that point's selection.
	other := NewHead(DefaultSynth, cfg.Params.Seed+1, 0, 0, D, L)
	writeNpy(t, filepath.Join(HeadDumpDir(dir, pl.Layers[0], pl.Heads[0]), "k.npy"), []int{L, D}, other.K)
	cfg.Params.Data = dir
	changed, err := NewPlan(cfg, m, prompt, steps)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(changed.Samples[0].Sel.Tokens) == fmt.Sprint(pl.Samples[0].Sel.Tokens) {
		t.Errorf("layer %d head %d: a different K dump left the selection unchanged", pl.Layers[0], pl.Heads[0])
	}
	if err := os.RemoveAll(HeadDumpDir(dir, pl.Layers[1], pl.Heads[1])); err != nil {
		t.Fatal(err)
	}
	if _, err := NewPlan(cfg, m, prompt, steps); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("layer%d_head%d", pl.Layers[1], pl.Heads[1])) {
		t.Errorf("a missing sampled point: %v", err)
	}
}

// TestIndexerDumpsMatchTheSyntheticIndexer: the synthetic indexer's own
// keys and queries written as an indexer dump (DIR/index) select what the
// synthetic indexer does, for dsa and hisa; the dump is what is read (a
// different key dump changes the selection), and a dump whose index
// heads disagree with kv_sparsity.index_heads is refused naming the file.
func TestIndexerDumpsMatchTheSyntheticIndexer(t *testing.T) {
	m, _ := llm.Lookup("llama-3.2-1b")
	const prompt, steps = 2048, 3
	g, D, L := m.QueryGroup(), m.HeadSize(), prompt+steps
	h := NewHead(DefaultSynth, 5, 0, 0, D, L)
	dir := t.TempDir()
	q := make([]float32, 0, L*g*D)
	for pos := 0; pos < L; pos++ {
		for j := 0; j < g; j++ {
			q = append(q, h.Query(pos, j)...)
		}
	}
	writeNpy(t, filepath.Join(dir, "k.npy"), []int{L, D}, h.K)
	writeNpy(t, filepath.Join(dir, "v.npy"), []int{L, D}, h.V)
	writeNpy(t, filepath.Join(dir, "q.npy"), []int{L, g, D}, q)
	// indexHeads 0: the default kv_sparsity.index_heads.
	load := func(method string, indexHeads int) Setup {
		return setup(t, func(p *Params) {
			p.Method, p.K, p.IndexDim, p.Block, p.BlockTop = method, 256, 64, 64, 8
			p.SampleLayers, p.SampleHeads, p.SampleSteps, p.Data = 1, 2, 2, dir
			if indexHeads > 0 {
				p.IndexHeads = indexHeads
			}
		})
	}
	// The plan's synthetic indexer on the dumped head (both sampled heads
	// are it), with index_heads set to its 2·g index queries.
	c := load(MethodDSA, 0)
	syn, err := NewPlan(c, m, prompt, steps)
	if err != nil {
		t.Fatal(err)
	}
	li := syn.Layers[0]
	ix := NewIndexer([]*Head{h, h}, c.Params.IndexDim, mix(c.Params.Seed, int64(li), 5))
	nh := 2 * g
	iq := make([]float32, 0, L*nh*ix.Dim)
	for pos := 0; pos < L; pos++ {
		for _, x := range ix.queries(pos, g).q {
			iq = append(iq, x...)
		}
	}
	idx := filepath.Join(dir, "index")
	if err := os.MkdirAll(idx, 0o755); err != nil {
		t.Fatal(err)
	}
	writeNpy(t, filepath.Join(idx, "k.npy"), []int{L, ix.Dim}, ix.keys)
	writeNpy(t, filepath.Join(idx, "q.npy"), []int{L, nh, ix.Dim}, iq)
	for _, method := range []string{"dsa", "hisa"} {
		// The synthetic run: the same config without the indexer dump.
		if err := os.Rename(idx, idx+".off"); err != nil {
			t.Fatal(err)
		}
		b, err := NewPlan(load(method, nh), m, prompt, steps)
		if err2 := os.Rename(idx+".off", idx); err != nil || err2 != nil {
			t.Fatal(err, err2)
		}
		d, err := NewPlan(load(method, nh), m, prompt, steps)
		if err != nil {
			t.Fatal(err)
		}
		if d.IndexerSource() != "dumps" || b.IndexerSource() != "synthetic" {
			t.Fatalf("%s: indexer sources %q, %q", method, d.IndexerSource(), b.IndexerSource())
		}
		for i := range b.Samples {
			if fmt.Sprint(b.Samples[i].Sel.Tokens) != fmt.Sprint(d.Samples[i].Sel.Tokens) {
				t.Fatalf("%s sample %d: the dumped indexer selects differently from the synthetic one", method, i)
			}
		}
	}
	// index_heads 64 (the default) disagrees with the dump's 2·g heads.
	if _, err := NewPlan(load(MethodDSA, 0), m, prompt, steps); err == nil || !strings.Contains(err.Error(), "q.npy") {
		t.Errorf("index_heads mismatch: %v", err)
	}
	other := NewIndexer([]*Head{NewHead(DefaultSynth, 6, 0, 0, D, L)}, ix.Dim, 1)
	writeNpy(t, filepath.Join(idx, "k.npy"), []int{L, ix.Dim}, other.keys)
	d, err := NewPlan(load(MethodDSA, nh), m, prompt, steps)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(d.Samples[0].Sel.Tokens) == fmt.Sprint(syn.Samples[0].Sel.Tokens) {
		t.Error("a different index key dump left the selection unchanged")
	}
}
