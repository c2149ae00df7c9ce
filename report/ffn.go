package report

import (
	"fmt"
	"image/color"
	"io"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/sparsesim/sparsesim/inference"
	"github.com/sparsesim/sparsesim/internal/plotx"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads/actsparse"
)

// FFNReport is an activation-sparse LLM run: the sparse run's LLM report
// with the `ffn` block beside it (docs/ffn-moe.md, docs/report.md).
type FFNReport struct {
	*LLMReport
	FFN FFNSummary `json:"ffn"`
}

// FFNSummary is the `ffn` block. Fractions are of intermediate_size
// neurons (input fractions: of hidden_size channels), averaged over layers
// and sampled decode steps.
type FFNSummary struct {
	Method string  `json:"method"`
	Target float64 `json:"target"`
	// ActiveFractionToken is the neurons one token activates;
	// ActiveFractionBatchUnion those any of the batch's tokens does (what
	// a decode step reads); ActiveFractionChunkUnion those Chunk
	// consecutive tokens of one sequence do (BlockFFN's chunk level).
	ActiveFractionToken      float64 `json:"active_fraction_token"`
	ActiveFractionBatchUnion float64 `json:"active_fraction_batch_union"`
	ActiveFractionChunkUnion float64 `json:"active_fraction_chunk_union"`
	Chunk                    int     `json:"chunk"`
	// Input fractions: the up/gate projections' input channels kept
	// (threshold, wina, rsparse; 1 otherwise).
	InputActiveFractionToken      float64 `json:"input_active_fraction_token"`
	InputActiveFractionBatchUnion float64 `json:"input_active_fraction_batch_union"`
	// BytesSaved is dense minus sparse decode DRAM bytes (reads and
	// writes), BytesSavedFraction the same over dense.
	BytesSaved         int64   `json:"bytes_saved"`
	BytesSavedFraction float64 `json:"bytes_saved_fraction"`
	DenseTPOTSeconds   float64 `json:"dense_tpot_seconds"`
	TPOTSeconds        float64 `json:"tpot_seconds"`
	TPOTSpeedup        float64 `json:"tpot_speedup"`
	// OutputRelError is the quality proxy: the down projection's relative
	// output error against dense, mean over tokens; InputRelError the
	// same for the up/gate inputs.
	OutputRelError float64 `json:"output_rel_error"`
	InputRelError  float64 `json:"input_rel_error"`
	// Predictor: truly active neurons missed and neurons fetched needlessly,
	// as fractions of the truly active ones.
	PredictorMissed float64 `json:"predictor_missed"`
	PredictorExtra  float64 `json:"predictor_extra"`
	// TopKCountError is statistical_topk's mean |count − k| / k.
	TopKCountError float64 `json:"topk_count_error"`
	// Gathers are the decode phase's weight gathers: useful bytes and the
	// bytes the DRAM bursts moved.
	Gathers     []inference.GatherBytes `json:"gathers"`
	SampleSteps int                     `json:"sample_steps"`
	Layers      []FFNLayer              `json:"layers"`
}

// FFNLayer is one layer's fractions, averaged over its sampled steps.
type FFNLayer struct {
	Layer                    int     `json:"layer"`
	ActiveFractionToken      float64 `json:"active_fraction_token"`
	ActiveFractionBatchUnion float64 `json:"active_fraction_batch_union"`
	OutputRelError           float64 `json:"output_rel_error"`
}

// NewFFN derives the report from an activation-sparse result.
func NewFFN(r *inference.ActSparseResult) *FFNReport {
	rep := &FFNReport{LLMReport: NewLLM(r.Sparse)}
	// The sim block covers both runs: the dense one the speedup is
	// measured against, and the sparse one (which reuses its layers).
	rep.Sim.Simulated += r.Dense.Simulated
	rep.Sim.Reused += r.Dense.Reused
	rep.Sim.Events += r.Dense.Events
	rep.Sim.WallSeconds += r.Dense.WallSeconds
	p := r.Plan
	f := &rep.FFN
	f.Method, f.Target, f.Chunk, f.SampleSteps = p.Spec.Method, p.Spec.Target, p.Spec.Chunk, p.Spec.SampleSteps
	I, H := float64(p.Shape.Inter), float64(p.Shape.Hidden)
	var n float64
	for l, ss := range p.Samples {
		var ly FFNLayer
		ly.Layer = l
		for i, s := range ss {
			ly.ActiveFractionToken += s.TokenActive
			ly.ActiveFractionBatchUnion += float64(s.Union) / I
			ly.OutputRelError += s.RelErr
			f.InputActiveFractionToken += s.TokenActiveIn
			f.InputActiveFractionBatchUnion += float64(s.UnionIn) / H
			f.InputRelError += s.RelErrIn
			f.PredictorMissed += s.Missed
			f.PredictorExtra += s.Extra
			f.TopKCountError += s.CountErr
			if i == 0 {
				f.ActiveFractionChunkUnion += float64(s.Chunk) / I
			}
		}
		k := float64(len(ss))
		ly.ActiveFractionToken /= k
		ly.ActiveFractionBatchUnion /= k
		ly.OutputRelError /= k
		f.ActiveFractionToken += ly.ActiveFractionToken
		f.ActiveFractionBatchUnion += ly.ActiveFractionBatchUnion
		f.OutputRelError += ly.OutputRelError
		n += k
		f.Layers = append(f.Layers, ly)
	}
	L := float64(len(p.Samples))
	f.ActiveFractionToken /= L
	f.ActiveFractionBatchUnion /= L
	f.OutputRelError /= L
	f.ActiveFractionChunkUnion /= L
	for _, v := range []*float64{&f.InputActiveFractionToken, &f.InputActiveFractionBatchUnion, &f.InputRelError,
		&f.PredictorMissed, &f.PredictorExtra, &f.TopKCountError} {
		*v /= n
	}
	dense, sparse := NewLLM(r.Dense).LLM, rep.LLM
	f.BytesSaved = dense.DecodeDRAMBytes.Total() - sparse.DecodeDRAMBytes.Total()
	if t := dense.DecodeDRAMBytes.Total(); t > 0 {
		f.BytesSavedFraction = float64(f.BytesSaved) / float64(t)
	}
	f.DenseTPOTSeconds, f.TPOTSeconds = dense.TPOTSeconds, sparse.TPOTSeconds
	if f.TPOTSeconds > 0 {
		f.TPOTSpeedup = f.DenseTPOTSeconds / f.TPOTSeconds
	}
	f.Gathers = r.Gathers
	return rep
}

// Render writes the report in format: the LLM report with the ffn block.
func (r *FFNReport) Render(w io.Writer, format string) error {
	switch format {
	case "json":
		return writeJSON(w, r)
	case "table", "":
		if err := r.LLMReport.Table(w); err != nil {
			return err
		}
		return r.FFNTable(w)
	}
	return r.LLMReport.Render(w, format)
}

// FFNTable writes the ffn block within 80 columns.
func (r *FFNReport) FFNTable(w io.Writer) error {
	f := r.FFN
	fmt.Fprintf(w, "\nactivation sparsity: %s, target %.3g inactive per token (decode only)\n", f.Method, f.Target)
	fmt.Fprintf(w, "TPOT %s dense, %s sparse: %.3fx speedup\n", humanSeconds(f.DenseTPOTSeconds), humanSeconds(f.TPOTSeconds), f.TPOTSpeedup)
	fmt.Fprintf(w, "decode DRAM bytes saved: %s (%.1f%% of dense)\n", compactBytes(f.BytesSaved), 100*f.BytesSavedFraction)
	tb := NewTable(w)
	tb.Header("active neurons", "per token", fmt.Sprintf("batch of %d", r.LLM.Batch), fmt.Sprintf("%d consecutive", f.Chunk))
	pct := func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }
	_ = tb.Append("FFN neurons", pct(f.ActiveFractionToken), pct(f.ActiveFractionBatchUnion), pct(f.ActiveFractionChunkUnion))
	if f.InputActiveFractionToken < 1 {
		_ = tb.Append("up/gate inputs", pct(f.InputActiveFractionToken), pct(f.InputActiveFractionBatchUnion), "")
	}
	if err := tb.Render(); err != nil {
		return err
	}
	fmt.Fprintf(w, "quality proxy: down-projection output error %.3f relative to dense\n", f.OutputRelError)
	if f.InputActiveFractionToken < 1 {
		fmt.Fprintf(w, "               up/gate input error %.3f relative to dense\n", f.InputRelError)
	}
	switch f.Method {
	case actsparse.Predictor:
		fmt.Fprintf(w, "predictor: missed %.1f%% of truly active neurons, fetched %.1f%% extra\n", 100*f.PredictorMissed, 100*f.PredictorExtra)
	case actsparse.StatTopK:
		fmt.Fprintf(w, "statistical top-k: active count off k by %.1f%% on average\n", 100*f.TopKCountError)
	}
	gt := NewTable(w)
	gt.Header("weight gather", "useful", "transferred", "useful %")
	for _, g := range f.Gathers {
		u := 0.0
		if g.Transferred > 0 {
			u = 100 * float64(g.Useful) / float64(g.Transferred)
		}
		_ = gt.Append(g.Kind, compactBytes(g.Useful), compactBytes(g.Transferred), fmt.Sprintf("%.1f", u))
	}
	if err := gt.Render(); err != nil {
		return err
	}
	fmt.Fprintf(w, "fractions: mean over layers and %d sampled decode steps (docs/ffn-moe.md)\n", f.SampleSteps)
	return nil
}

// FFNBatchPoint is one technique (and setting) at one batch size.
type FFNBatchPoint struct {
	// Method names the line: the technique, and the varied setting.
	Method      string  `json:"method"`
	Batch       int     `json:"batch"`
	TPOTSpeedup float64 `json:"tpot_speedup"`
	// ActiveFractionBatchUnion is the union's share of neurons.
	ActiveFractionBatchUnion float64 `json:"active_fraction_batch_union"`
	OutputRelError           float64 `json:"output_rel_error"`
}

// FFNBatchTable writes the sweep as one row per technique and batch.
func FFNBatchTable(w io.Writer, title string, pts []FFNBatchPoint) error {
	fmt.Fprintln(w, title)
	tb := NewTable(w)
	tb.Header("technique", "batch", "union active", "TPOT speedup", "output error")
	for _, p := range pts {
		_ = tb.Append(p.Method, fmt.Sprint(p.Batch), fmt.Sprintf("%.1f%%", 100*p.ActiveFractionBatchUnion),
			fmt.Sprintf("%.3fx", p.TPOTSpeedup), fmt.Sprintf("%.3f", p.OutputRelError))
	}
	return tb.Render()
}

// WriteFFNBatchPlot draws TPOT speedup against batch size, one line per
// technique, as a PNG or SVG written atomically.
func WriteFFNBatchPlot(path, title string, pts []FFNBatchPoint) error {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".png" && ext != ".svg" {
		return usererr.New("--plot %s: use a .png or .svg file", path)
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "batch size (sequences decoding together; log scale)"
	p.Y.Label.Text = "TPOT speedup over dense"
	p.X.Scale = plot.LogScale{}
	var ticks []plot.Tick
	seen := map[int]bool{}
	for _, q := range pts {
		if !seen[q.Batch] {
			seen[q.Batch] = true
			ticks = append(ticks, plot.Tick{Value: float64(q.Batch), Label: fmt.Sprint(q.Batch)})
		}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	var methods []string
	by := map[string]plotter.XYs{}
	for _, q := range pts {
		if _, ok := by[q.Method]; !ok {
			methods = append(methods, q.Method)
		}
		by[q.Method] = append(by[q.Method], plotter.XY{X: float64(q.Batch), Y: q.TPOTSpeedup})
	}
	p.Add(plotter.NewGrid())
	for i, m := range methods {
		l, s, err := plotter.NewLinePoints(by[m])
		if err != nil {
			return err
		}
		st := plotx.Style(i) // distinct for every technique and --vary value
		l.Color, s.Color = st.Color, st.Color
		l.Width = vg.Points(1.5)
		l.Dashes = st.Dashes
		s.Shape = st.Shape
		p.Add(l, s)
		p.Legend.Add(m, l, s)
	}
	one, err := plotter.NewLine(plotter.XYs{{X: float64(pts[0].Batch), Y: 1}, {X: float64(pts[len(pts)-1].Batch), Y: 1}})
	if err == nil {
		one.Color = color.Gray{Y: 100}
		one.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(one)
		p.Legend.Add("dense (1.0)", one)
	}
	// The lines stay above 1 (or at it): the legend goes in the empty
	// lower left.
	p.Legend.Left = true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(10), vg.Points(10)
	p.Y.Min = 0
	// The largest speedup and the end batches drawn whole, not cut by the
	// frame.
	plotx.Pad(&p.X, true)
	plotx.Pad(&p.Y, true)
	return writePlot(p, 8*vg.Inch, 5*vg.Inch, path, ext, "--plot")
}
