package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/sparsesim/sparsesim/inference"
	"github.com/sparsesim/sparsesim/internal/plotx"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads/moe"
)

// MoESummary is the `moe` block of an LLM run's report (docs/ffn-moe.md,
// docs/report.md). Per-layer-step figures are over the decode steps
// (StatsPhase "decode"), or over the prefill pass when the run has no
// decode step.
type MoESummary struct {
	Routing        string  `json:"routing"`
	Imbalance      float64 `json:"imbalance"`
	CapacityFactor float64 `json:"capacity_factor"`
	Execution      string  `json:"execution"`
	Locality       float64 `json:"locality"`
	Trace          string  `json:"trace,omitempty"`
	Experts        int     `json:"experts"`
	ExpertsPerTok  int     `json:"experts_per_token"`
	SharedExperts  int     `json:"shared_experts"`
	StatsPhase     string  `json:"stats_phase"`
	// LayerSteps is MoE layers × steps; TokensPerLayerStep the tokens
	// each routes.
	LayerSteps         int64   `json:"layer_steps"`
	TokensPerLayerStep float64 `json:"tokens_per_layer_step"`
	// ExpertsTouchedMean is the distinct experts a layer-step's tokens
	// chose, averaged; ExpertsTouchedUniform what independent uniform
	// routing would touch: E·(1 − (1 − k/E)^T).
	ExpertsTouchedMean    float64   `json:"experts_touched_mean"`
	ExpertsTouchedUniform float64   `json:"experts_touched_uniform_expected"`
	ExpertsTouchedByLayer []float64 `json:"experts_touched_by_layer"`
	// LoadMaxOverMean is the busiest expert's tokens over the mean
	// (T·k/E), per layer-step, averaged; LoadByRank the mean tokens of
	// the r-th most loaded expert (the expert load histogram).
	LoadMaxOverMean float64   `json:"load_max_over_mean"`
	LoadByRank      []float64 `json:"load_by_rank"`
	// ExpertSeconds is the routed experts' time over the phase;
	// ExpertTimeMaxOverMean the busiest expert's time over the mean
	// running expert's, per layer-step, averaged; ExpertMaxSeconds the
	// busiest experts' time alone (the critical path if every expert had
	// its own array, not modelled).
	ExpertSeconds         float64 `json:"expert_seconds"`
	ExpertMaxSeconds      float64 `json:"expert_max_seconds"`
	ExpertTimeMaxOverMean float64 `json:"expert_time_max_over_mean"`
	// Chunk and ExpertsTouchedChunkMean: distinct experts over Chunk
	// consecutive tokens of one sequence in one layer (BlockFFN's
	// chunk-level union).
	Chunk                   int     `json:"chunk"`
	ExpertsTouchedChunkMean float64 `json:"experts_touched_chunk_mean"`
	// DroppedTokens counts (token, expert) assignments over capacity in
	// the whole run (prefill and decode), of Assignments.
	DroppedTokens   int64   `json:"dropped_tokens"`
	Assignments     int64   `json:"assignments"`
	DroppedFraction float64 `json:"dropped_fraction"`
}

// newMoESummary derives the block (nil for a dense model).
func newMoESummary(r *inference.LLMResult) *MoESummary {
	s := r.MoE
	if s == nil {
		return nil
	}
	hz := r.Config.ClockMHz * 1e6
	st, tm, phase := s.Decode, s.DecodeTime, inference.PhaseDecode
	if st.LayerSteps == 0 {
		st, tm, phase = s.Prefill, s.PrefillTime, inference.PhasePrefill
	}
	out := &MoESummary{Routing: s.Spec.Routing, Imbalance: s.Spec.Imbalance, CapacityFactor: s.Spec.CapacityFactor,
		Execution: s.Spec.Execution, Locality: s.Spec.Locality, Experts: st.Experts, ExpertsPerTok: st.K,
		SharedExperts: r.Model.NumSharedExperts, StatsPhase: phase, LayerSteps: st.LayerSteps,
		ExpertsTouchedMean: st.TouchedMean(), ExpertsTouchedUniform: st.UniformExpected(),
		ExpertsTouchedByLayer: st.TouchedMeanByLayer(), LoadMaxOverMean: st.MaxOverMean(), LoadByRank: st.MeanLoadByRank(),
		ExpertSeconds: float64(tm.Cycles) / hz, ExpertMaxSeconds: float64(tm.MaxSum) / hz, ExpertTimeMaxOverMean: tm.MaxOverMean(),
		Chunk: st.Chunk, ExpertsTouchedChunkMean: st.ChunkTouchedMean(),
		DroppedTokens: s.Prefill.Dropped + s.Decode.Dropped, Assignments: s.Prefill.Assignments + s.Decode.Assignments}
	if s.Spec.Trace != nil {
		out.Trace = s.Spec.Trace.Path
	}
	if st.LayerSteps > 0 {
		out.TokensPerLayerStep = float64(st.Tokens) / float64(st.LayerSteps)
	}
	if out.Assignments > 0 {
		out.DroppedFraction = float64(out.DroppedTokens) / float64(out.Assignments)
	}
	return out
}

// Table writes the routing summary and the expert load histogram within
// 80 columns.
func (m *MoESummary) Table(w io.Writer) error {
	capacity := "no capacity limit"
	if m.CapacityFactor > 0 {
		capacity = fmt.Sprintf("capacity factor %g", m.CapacityFactor)
	}
	fmt.Fprintf(w, "\nMoE: %d experts top-%d, %s routing%s\n", m.Experts, m.ExpertsPerTok, m.Routing, m.routingDetail())
	fmt.Fprintf(w, "%s execution, %s\n", m.Execution, capacity)
	fmt.Fprintf(w, "%s, per layer-step of %.4g tokens: %.4g experts touched (uniform: %.4g)\n",
		m.StatsPhase, m.TokensPerLayerStep, m.ExpertsTouchedMean, m.ExpertsTouchedUniform)
	chunk := fmt.Sprintf("%.4g experts", m.ExpertsTouchedChunkMean)
	if m.ExpertsTouchedChunkMean == 0 {
		chunk = "none complete"
	}
	fmt.Fprintf(w, "load max/mean %.3f; expert time max/mean %.3f; chunk of %d tokens: %s\n",
		m.LoadMaxOverMean, m.ExpertTimeMaxOverMean, m.Chunk, chunk)
	fmt.Fprintf(w, "dropped %d of %d token-expert assignments (%.2f%%)\n", m.DroppedTokens, m.Assignments, 100*m.DroppedFraction)
	fmt.Fprintln(w, "expert load by rank in each layer-step (1 = most loaded): mean tokens per")
	fmt.Fprintln(w, "expert, the rows' share of all routed tokens")
	tb := NewTable(w)
	tb.Header("rank", "tokens/expert", "share", "")
	var total, most float64
	for _, v := range m.LoadByRank {
		total += v
		most = max(most, v)
	}
	for _, b := range rankBins(len(m.LoadByRank)) {
		var v float64
		for _, x := range m.LoadByRank[b[0]:b[1]] {
			v += x
		}
		share := 0.0
		if total > 0 {
			share = v / total
		}
		v /= float64(b[1] - b[0])
		label := fmt.Sprint(b[0] + 1)
		if b[1]-b[0] > 1 {
			label = fmt.Sprintf("%d-%d", b[0]+1, b[1])
		}
		bar := ""
		if most > 0 {
			bar = strings.Repeat("#", int(40*v/most+0.5))
		}
		_ = tb.Append(label, fmt.Sprintf("%.2f", v), fmt.Sprintf("%.1f%%", 100*share), bar)
	}
	return tb.Render()
}

func (m *MoESummary) routingDetail() string {
	switch m.Routing {
	case moe.Zipf:
		return fmt.Sprintf(" (exponent %g)", m.Imbalance)
	case moe.Dirichlet:
		return fmt.Sprintf(" (concentration %g)", m.Imbalance)
	case moe.FromTrace:
		return " (" + filepath.Base(m.Trace) + ")"
	}
	if m.Locality > 0 {
		return fmt.Sprintf(" (locality %g)", m.Locality)
	}
	return ""
}

// rankBins groups ranks into at most 16 rows (one per expert up to 16
// experts), each row's share a per-expert mean.
func rankBins(n int) [][2]int {
	rows := min(n, 16)
	var out [][2]int
	for i := 0; i < rows; i++ {
		out = append(out, [2]int{i * n / rows, (i + 1) * n / rows})
	}
	return out
}

// WriteMoEPlot draws the expert load histogram (mean tokens of the r-th
// most loaded expert per layer-step, with the balanced mean T·k/E) as a
// PNG or SVG, written atomically.
func (r *LLMReport) WriteMoEPlot(path string) error {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".png" && ext != ".svg" {
		return usererr.New("--moe-plot %s: use a .png or .svg file", path)
	}
	m := r.MoE
	if m == nil {
		return usererr.New("--moe-plot %s: %s has no experts", path, r.Model.Name)
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s, %s routing%s: expert load (%s, %.4g tokens per layer-step)", r.Model.Name, m.Routing, m.routingDetail(), m.StatsPhase, m.TokensPerLayerStep)
	p.X.Label.Text = "expert rank in its layer-step (1 = most loaded)"
	p.Y.Label.Text = "tokens routed (mean per layer-step)"
	vals := make(plotter.Values, len(m.LoadByRank))
	copy(vals, m.LoadByRank)
	bars, err := plotter.NewBarChart(vals, vg.Points(max(2, 360/float64(len(vals)))))
	if err != nil {
		return err
	}
	bars.LineStyle.Width = 0
	bars.Color = plotx.Color(0)
	mean := m.TokensPerLayerStep * float64(m.ExpertsPerTok) / float64(m.Experts)
	line, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: mean}, {X: float64(len(vals)) - 0.5, Y: mean}})
	if err != nil {
		return err
	}
	line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(bars, line, plotter.NewGrid())
	p.Legend.Add(fmt.Sprintf("balanced mean T·k/E = %.3g", mean), line)
	p.Legend.Top = true
	p.NominalX(rankLabels(len(vals))...)
	// Headroom so the tallest bar clears the title and the legend.
	p.Y.Min, p.Y.Max = 0, 1.12*max(slicesMax(vals), mean)
	return writePlot(p, 7*vg.Inch, 4*vg.Inch, path, ext, "--moe-plot")
}

func slicesMax(v plotter.Values) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func rankLabels(n int) []string {
	step := max(1, n/16)
	out := make([]string, n)
	for i := range out {
		if i%step == 0 {
			out[i] = fmt.Sprint(i + 1)
		}
	}
	return out
}

// MoEBatch is the report of `sparsesim moe-batch`: TPOT with dynamic and
// padded expert execution against batch size.
type MoEBatch struct {
	Model   string          `json:"model"`
	Config  string          `json:"config"`
	Routing string          `json:"routing"`
	Prompt  int             `json:"prompt"`
	Gen     int             `json:"gen"`
	Points  []MoEBatchPoint `json:"points"`
}

// MoEBatchPoint is one batch size: experts touched per layer-step, mean
// TPOT with dynamic and padded execution, the speedup of dynamic over
// padded, dynamic's tokens/s and the dropped assignments.
type MoEBatchPoint struct {
	Batch                 int     `json:"batch"`
	ExpertsTouched        float64 `json:"experts_touched_mean"`
	ExpertsTouchedUniform float64 `json:"experts_touched_uniform_expected"`
	TPOTSeconds           float64 `json:"tpot_seconds"`
	TPOTPaddedSeconds     float64 `json:"tpot_padded_seconds"`
	Speedup               float64 `json:"tpot_speedup"`
	TokensPerSecond       float64 `json:"tokens_per_second"`
	DroppedTokens         int64   `json:"dropped_tokens"`
}

// NewMoEBatch converts sweep points at clockMHz.
func NewMoEBatch(model, config, routing string, prompt, gen int, clockMHz float64, pts []inference.MoEBatchPoint) *MoEBatch {
	hz := clockMHz * 1e6
	out := &MoEBatch{Model: model, Config: config, Routing: routing, Prompt: prompt, Gen: gen}
	for _, p := range pts {
		q := MoEBatchPoint{Batch: p.Batch, ExpertsTouched: p.ExpertsTouched, ExpertsTouchedUniform: p.Uniform,
			TPOTSeconds: p.Dynamic / hz, TPOTPaddedSeconds: p.Padded / hz, DroppedTokens: p.Dropped}
		if p.Dynamic > 0 {
			q.Speedup = p.Padded / p.Dynamic
			q.TokensPerSecond = float64(p.Batch) / q.TPOTSeconds
		}
		out.Points = append(out.Points, q)
	}
	return out
}

// Render writes the sweep as a table, JSON or CSV.
func (b *MoEBatch) Render(w io.Writer, format string) error {
	switch format {
	case "json":
		return writeJSON(w, b)
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"batch", "experts_touched_mean", "experts_touched_uniform_expected", "tpot_seconds", "tpot_padded_seconds", "tpot_speedup", "tokens_per_second", "dropped_tokens"})
		f := func(v float64) string { return strconv.FormatFloat(v, 'g', 10, 64) }
		for _, p := range b.Points {
			_ = cw.Write([]string{strconv.Itoa(p.Batch), f(p.ExpertsTouched), f(p.ExpertsTouchedUniform), f(p.TPOTSeconds), f(p.TPOTPaddedSeconds), f(p.Speedup), f(p.TokensPerSecond), strconv.FormatInt(p.DroppedTokens, 10)})
		}
		cw.Flush()
		return cw.Error()
	case "table", "":
	default:
		return fmt.Errorf("unknown format %q (allowed: %s)", format, strings.Join(Formats, ", "))
	}
	fmt.Fprintf(w, "%s decode on %s, %s routing, prompt %d, %d steps\n", b.Model, b.Config, b.Routing, b.Prompt, b.Gen)
	tb := NewTable(w)
	tb.Header("batch", "experts", "uniform", "TPOT", "padded", "speedup", "tokens/s", "dropped")
	for _, p := range b.Points {
		_ = tb.Append(strconv.Itoa(p.Batch), fmt.Sprintf("%.2f", p.ExpertsTouched), fmt.Sprintf("%.2f", p.ExpertsTouchedUniform),
			compactSeconds(p.TPOTSeconds), compactSeconds(p.TPOTPaddedSeconds), fmt.Sprintf("%.3f", p.Speedup),
			fmt.Sprintf("%.4g", p.TokensPerSecond), strconv.FormatInt(p.DroppedTokens, 10))
	}
	if err := tb.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w, "experts: distinct experts per MoE layer and step (uniform: E·(1−(1−k/E)^B));")
	fmt.Fprintln(w, "TPOT: dynamic execution (untouched experts skipped); padded: every expert over")
	fmt.Fprintln(w, "the same slots; speedup: padded / dynamic")
	return nil
}

// WritePlot draws TPOT (both executions) and the speedup against batch
// size, log-scaled batch axis, as a PNG or SVG.
func (b *MoEBatch) WritePlot(path string) error {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".png" && ext != ".svg" {
		return usererr.New("--plot %s: use a .png or .svg file", path)
	}
	tp, sp := plot.New(), plot.New()
	tp.Title.Text = fmt.Sprintf("%s decode on %s, %s routing: TPOT against batch", b.Model, b.Config, b.Routing)
	tp.Y.Label.Text = "TPOT (ms)"
	sp.Title.Text = "speedup of dynamic over padded expert execution"
	sp.Y.Label.Text = "padded TPOT / dynamic TPOT"
	for _, p := range []*plot.Plot{tp, sp} {
		p.X.Label.Text = "batch (sequences decoded together)"
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = batchTicks(b.Points)
		p.Add(plotter.NewGrid())
	}
	dyn, pad, spd := make(plotter.XYs, len(b.Points)), make(plotter.XYs, len(b.Points)), make(plotter.XYs, len(b.Points))
	for i, p := range b.Points {
		dyn[i] = plotter.XY{X: float64(p.Batch), Y: p.TPOTSeconds * 1e3}
		pad[i] = plotter.XY{X: float64(p.Batch), Y: p.TPOTPaddedSeconds * 1e3}
		spd[i] = plotter.XY{X: float64(p.Batch), Y: p.Speedup}
	}
	for _, s := range []struct {
		p     *plot.Plot
		pts   plotter.XYs
		name  string
		color int
	}{{tp, dyn, "dynamic (untouched experts skipped)", 0}, {tp, pad, "padded (every expert, same slots)", 1}, {sp, spd, "speedup", 0}} {
		l, pts, err := plotter.NewLinePoints(s.pts)
		if err != nil {
			return err
		}
		st := plotx.Style(s.color)
		l.Color, pts.Color, pts.Shape = st.Color, st.Color, st.Shape
		s.p.Add(l, pts)
		s.p.Legend.Add(s.name, l, pts)
	}
	one, _ := plotter.NewLine(plotter.XYs{{X: float64(b.Points[0].Batch), Y: 1}, {X: float64(b.Points[len(b.Points)-1].Batch), Y: 1}})
	one.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	sp.Add(one)
	sp.Y.Min = 0
	sp.Legend.Top = true
	tp.Legend.YOffs = vg.Points(10)
	sp.Legend.Add("1.0: no gain", one)
	for _, p := range []*plot.Plot{tp, sp} {
		plotx.Pad(&p.X, true)
		plotx.Pad(&p.Y, true)
	}
	return writeStacked(path, ext, "--plot", tp, sp)
}

// batchTicks marks each batch size swept.
func batchTicks(pts []MoEBatchPoint) plot.ConstantTicks {
	var t []plot.Tick
	for _, p := range pts {
		t = append(t, plot.Tick{Value: float64(p.Batch), Label: strconv.Itoa(p.Batch)})
	}
	return t
}

// writeStacked draws plots one above the other into one image.
func writeStacked(path, ext, flag string, plots ...*plot.Plot) error {
	w, h := 7*vg.Inch, vg.Length(len(plots))*3.5*vg.Inch
	var c vg.CanvasWriterTo
	if ext == ".svg" {
		c = vgsvg.New(w, h)
	} else {
		c = vgimg.PngCanvas{Canvas: vgimg.New(w, h)}
	}
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadY: vg.Points(8)}
	grid := make([][]*plot.Plot, len(plots))
	for i, p := range plots {
		grid[i] = []*plot.Plot{p}
	}
	canvases := plot.Align(grid, tiles, draw.New(c))
	for i, p := range plots {
		p.Draw(canvases[i][0])
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return err
	}
	if err := WriteFileAtomic(path, buf.Bytes()); err != nil {
		return usererr.New("%s %s: %v", flag, path, err)
	}
	return nil
}
