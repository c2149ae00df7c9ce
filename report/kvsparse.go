package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/inference"
	"github.com/sparsesim/sparsesim/workloads/kvsparse"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// KVSparsity is the `kv_sparsity` block of an LLM report
// (docs/kv-sparsity.md, docs/report.md).
type KVSparsity struct {
	Method string `json:"method"`
	// AttentionSpeedup is the dense decode's attention time over the
	// method's (selection work, gathers and attention products);
	// TPOTSpeedup the same for the whole decode step.
	AttentionSpeedup float64 `json:"attention_speedup"`
	TPOTSpeedup      float64 `json:"tpot_speedup"`
	// MassRecall and OutputRelError are the quality proxies, means over
	// the sampled (layer, head, step) points, with 95% confidence
	// half-widths of the sampling (NaN: absent with one sample).
	MassRecall         float64 `json:"mass_recall"`
	MassRecallCI95     float64 `json:"mass_recall_ci95"`
	OutputRelError     float64 `json:"output_rel_error"`
	OutputRelErrorCI95 float64 `json:"output_rel_error_ci95"`
	// Bytes are what the method's attention read over the decode, by
	// kind; DenseBytes the dense attention's K/V reads.
	Bytes      inference.KVKinds `json:"bytes"`
	DenseBytes struct {
		KV int64 `json:"kv"`
	} `json:"dense_bytes"`
	// Written is what the method writes besides the K/V appends (the new
	// token's page bounds, label-cache row, index and block keys; kv is
	// 0); Storage its DRAM footprint at the end of the decode.
	Written               inference.KVKinds `json:"written"`
	Storage               kvsparse.Storage  `json:"storage"`
	AttentionSeconds      float64           `json:"attention_seconds"`
	DenseAttentionSeconds float64           `json:"dense_attention_seconds"`
	TPOTSeconds           float64           `json:"tpot_seconds"`
	DenseTPOTSeconds      float64           `json:"dense_tpot_seconds"`
	// HISAIoU is the mean (and least) IoU of HISA's selections with the
	// flat indexer's at the sampled steps (hisa only).
	HISAIoU    *float64    `json:"hisa_iou,omitempty"`
	HISAIoUMin *float64    `json:"hisa_iou_min,omitempty"`
	Sampling   KVSampling  `json:"sampling"`
	Steps      []KVStepRow `json:"steps"`
}

// KVSampling says where the reference kernels ran.
type KVSampling struct {
	Layers  []int `json:"layers"`
	Heads   []int `json:"heads"`
	Steps   []int `json:"steps"`
	Samples int   `json:"samples"`
	// Indexer is where dsa/hisa's indexer came from: "synthetic" or
	// "dumps" (kv_sparsity.data); absent for the other methods.
	Indexer       string  `json:"indexer,omitempty"`
	KernelSeconds float64 `json:"-"` // host time: in the sim block (sim.kernel_seconds)
}

// KVStepRow is one decode step.
type KVStepRow struct {
	Step             int               `json:"step"`
	Context          int               `json:"context"`
	Bytes            inference.KVKinds `json:"bytes"`
	Written          inference.KVKinds `json:"written"`
	AttentionSeconds float64           `json:"attention_seconds"`
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// NewKVSparsity derives the LLM report of a KV-sparsity run with its
// kv_sparsity block.
func NewKVSparsity(r *inference.KVResult) *LLMReport {
	rep := NewLLM(r.Sparse)
	dense := NewLLM(r.Dense)
	hz := r.Sparse.Config.ClockMHz * 1e6
	q := r.Plan.Quality()
	kb := &KVSparsity{Method: r.Plan.P.Method, Bytes: r.Bytes,
		AttentionSpeedup: ratio(float64(r.DenseAttentionCycles), float64(r.AttentionCycles)),
		TPOTSpeedup:      ratio(dense.LLM.TPOTSeconds, rep.LLM.TPOTSeconds),
		MassRecall:       q.MassRecall, MassRecallCI95: q.MRCI95, OutputRelError: q.RelError, OutputRelErrorCI95: q.RECI95,
		AttentionSeconds: float64(r.AttentionCycles) / hz, DenseAttentionSeconds: float64(r.DenseAttentionCycles) / hz,
		TPOTSeconds: rep.LLM.TPOTSeconds, DenseTPOTSeconds: dense.LLM.TPOTSeconds,
		Sampling: KVSampling{Layers: r.Plan.Layers, Heads: r.Plan.Heads, Steps: r.Plan.StepsAt, Samples: q.Samples, KernelSeconds: r.KernelSeconds,
			Indexer: r.Plan.IndexerSource()},
		Steps: []KVStepRow{}}
	kb.DenseBytes.KV = r.DenseKV
	kb.Written, kb.Storage = r.Written, r.Plan.Storage(r.Sparse.Options.Batch)
	if r.Plan.P.Method == configs.KVHISA {
		kb.HISAIoU, kb.HISAIoUMin = &q.IoU, &q.IoUMin
	}
	for i, s := range r.Steps {
		kb.Steps = append(kb.Steps, KVStepRow{Step: i + 1, Context: s.Context, Bytes: s.Bytes, Written: s.Written, AttentionSeconds: float64(s.AttentionCycles) / hz})
	}
	rep.KVSparsity = kb
	rep.Sim.KernelSeconds = r.KernelSeconds
	return rep
}

// MarshalJSON writes NaN confidence widths as null.
func (k KVSparsity) MarshalJSON() ([]byte, error) {
	type plain KVSparsity
	p := plain(k)
	var mr, re *float64
	if v := k.MassRecallCI95; !math.IsNaN(v) {
		mr = &v
	}
	if v := k.OutputRelErrorCI95; !math.IsNaN(v) {
		re = &v
	}
	p.MassRecallCI95, p.OutputRelErrorCI95 = 0, 0
	return json.Marshal(struct {
		plain
		MassRecallCI95     *float64 `json:"mass_recall_ci95"`
		OutputRelErrorCI95 *float64 `json:"output_rel_error_ci95"`
	}{p, mr, re})
}

// table writes the block within 80 columns.
func (k *KVSparsity) table(w io.Writer) error {
	fmt.Fprintf(w, "\nkv_sparsity %s: attention speedup %.3gx, TPOT speedup %.3gx\n", k.Method, k.AttentionSpeedup, k.TPOTSpeedup)
	fmt.Fprintf(w, "TPOT %s vs dense %s (a speedup below 1 is a slowdown)\n", humanSeconds(k.TPOTSeconds), humanSeconds(k.DenseTPOTSeconds))
	fmt.Fprintf(w, "quality over %d samples: mass recall %.4f ± %.2g, output error %.4f ± %.2g\n",
		k.Sampling.Samples, k.MassRecall, k.MassRecallCI95, k.OutputRelError, k.OutputRelErrorCI95)
	if k.HISAIoU != nil {
		fmt.Fprintf(w, "HISA selections vs the flat indexer: IoU mean %.4f, least %.4f\n", *k.HISAIoU, *k.HISAIoUMin)
	}
	tb := NewTable(w)
	tb.Header("read over the decode", "bytes", "vs dense KV")
	row := func(name string, b int64) {
		_ = tb.Append(name, compactBytes(b), fmt.Sprintf("%.4f", ratio(float64(b), float64(k.DenseBytes.KV))))
	}
	row("K/V rows", k.Bytes.KV)
	row("metadata", k.Bytes.Metadata)
	row("label cache", k.Bytes.LabelCache)
	row("indexer keys", k.Bytes.Indexer)
	row("wasted burst", k.Bytes.WastedBurst)
	row("total", k.Bytes.KV+k.Bytes.Metadata+k.Bytes.LabelCache+k.Bytes.Indexer+k.Bytes.WastedBurst)
	row("dense K/V", k.DenseBytes.KV)
	if err := tb.Render(); err != nil {
		return err
	}
	wr := k.Written
	fmt.Fprintf(w, "written besides the K/V appends: %s (metadata %s, label cache %s,\n", compactBytes(wr.Read()),
		compactBytes(wr.Metadata), compactBytes(wr.LabelCache))
	fmt.Fprintf(w, "  index keys %s, burst waste %s)\n", compactBytes(wr.Indexer), compactBytes(wr.WastedBurst))
	st := k.Storage
	fmt.Fprintf(w, "stored at %d tokens: %s, %.4f of the dense K/V %s\n", st.Tokens, compactBytes(st.Total()),
		ratio(float64(st.Total()), float64(st.DenseKV)), compactBytes(st.DenseKV))
	fmt.Fprintf(w, "kernels sampled layers %v, KV heads %v, %d steps (%.2f s)\n", k.Sampling.Layers, k.Sampling.Heads, len(k.Sampling.Steps), k.Sampling.KernelSeconds)
	if k.Sampling.Indexer != "" {
		fmt.Fprintf(w, "indexer: %s\n", k.Sampling.Indexer)
	}
	return nil
}

// KVBreakdownRow is one method of `--breakdown` over KV-sparsity methods.
type KVBreakdownRow struct {
	Method           string            `json:"method"`
	AttentionSpeedup float64           `json:"attention_speedup"`
	TPOTSpeedup      float64           `json:"tpot_speedup"`
	MassRecall       float64           `json:"mass_recall"`
	OutputRelError   float64           `json:"output_rel_error"`
	Bytes            inference.KVKinds `json:"bytes"`
	DenseKV          int64             `json:"dense_kv"`
}

// KVBreakdown runs every KV-sparsity method with cfg's parameters on the
// same model and decode.
func KVBreakdown(cfg *configs.Config, m llm.Model, o inference.LLMOptions) ([]KVBreakdownRow, error) {
	var rows []KVBreakdownRow
	for _, method := range configs.KVMethods[1:] {
		c := *cfg
		c.KVSparsity.Method = method
		r, err := inference.SimulateKVSparse(&c, m, o)
		if err != nil {
			return nil, err
		}
		k := NewKVSparsity(r).KVSparsity
		rows = append(rows, KVBreakdownRow{Method: method, AttentionSpeedup: k.AttentionSpeedup, TPOTSpeedup: k.TPOTSpeedup,
			MassRecall: k.MassRecall, OutputRelError: k.OutputRelError, Bytes: k.Bytes, DenseKV: k.DenseBytes.KV})
	}
	return rows, nil
}

// RenderKVBreakdown writes the rows as a table or JSON.
func RenderKVBreakdown(w io.Writer, rows []KVBreakdownRow, format string) error {
	if format == "json" {
		return writeJSON(w, map[string]any{"schema_version": SchemaVersion, "kv_breakdown": rows})
	}
	tb := NewTable(w)
	tb.Header("method", "attn x", "TPOT x", "recall", "out err", "read", "of dense")
	for _, r := range rows {
		read := r.Bytes.KV + r.Bytes.Metadata + r.Bytes.LabelCache + r.Bytes.Indexer + r.Bytes.WastedBurst
		_ = tb.Append(r.Method, fmt.Sprintf("%.3g", r.AttentionSpeedup), fmt.Sprintf("%.3g", r.TPOTSpeedup),
			fmt.Sprintf("%.4f", r.MassRecall), fmt.Sprintf("%.4f", r.OutputRelError), compactBytes(read),
			fmt.Sprintf("%.4f", ratio(float64(read), float64(r.DenseKV))))
	}
	if err := tb.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w, "attn x, TPOT x: speedups over dense decode; recall: attention mass kept;")
	fmt.Fprintln(w, "out err: relative attention-output error; read: bytes the method's attention")
	fmt.Fprintln(w, "read (burst waste included) and their share of the dense K/V reads")
	return nil
}
