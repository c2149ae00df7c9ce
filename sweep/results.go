package sweep

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"strconv"

	"github.com/sparsesim/sparsesim/report"
)

// Metrics are one point's results (docs/sweep.md). No host timings: the
// same point gives the same metrics on any machine.
//
// pes, cycles and seconds apply to every point. Every other metric is a
// pointer: nil when it does not apply to the point (the systolic run's
// stalls and DRAM read/write split on an LLM point, which reports none; the LLM
// latencies on a systolic point; FPGA resources on an ASIC), left out of
// the JSON and empty in the CSV. A zero that was measured (no stalls, no
// URAM, mass_lost 0 when a method keeps every token) is written as 0.
type Metrics struct {
	PEs            int      `json:"pes"`
	Cycles         int64    `json:"cycles"`
	StallCycles    *int64   `json:"stall_cycles,omitempty"`
	Utilization    *float64 `json:"utilization,omitempty"`
	Seconds        float64  `json:"seconds"`
	DRAMReadBytes  *int64   `json:"dram_read_bytes,omitempty"`
	DRAMWriteBytes *int64   `json:"dram_write_bytes,omitempty"`
	// DRAMBytes is every byte the DRAM moved for what Seconds times: the
	// run (GEMM points: reads + writes) or one decode step on average
	// (LLM points, whose seconds is the TPOT).
	DRAMBytes      *float64 `json:"dram_bytes,omitempty"`
	EnergyPJ       *float64 `json:"energy_pj,omitempty"`
	EnergyCompute  *float64 `json:"energy_compute_pj,omitempty"`
	EnergySRAM     *float64 `json:"energy_sram_pj,omitempty"`
	EnergyDRAM     *float64 `json:"energy_dram_pj,omitempty"`
	EnergyOther    *float64 `json:"energy_other_pj,omitempty"`
	PowerW         *float64 `json:"power_w,omitempty"`
	GOPS           *float64 `json:"gops,omitempty"`
	GOPSPerW       *float64 `json:"gops_per_w,omitempty"`
	SpeedupVsDense *float64 `json:"speedup_vs_dense,omitempty"`
	LUT            *float64 `json:"lut,omitempty"`
	FF             *float64 `json:"ff,omitempty"`
	DSP            *float64 `json:"dsp,omitempty"`
	BRAM36         *float64 `json:"bram36,omitempty"`
	URAM           *float64 `json:"uram,omitempty"`
	EstClockMHz    *float64 `json:"est_clock_mhz,omitempty"`
	// LLM points (sweep/llm.go): the run JSON's llm block, under its
	// names. TTFT applies when the point runs a prefill (generate), TPOT
	// when it runs a decode step.
	TTFTSeconds     *float64 `json:"ttft_seconds,omitempty"`
	TPOTSeconds     *float64 `json:"tpot_seconds,omitempty"`
	TokensPerSecond *float64 `json:"tokens_per_second,omitempty"`
	// EnergyPerTokenPJ is an LLM point's energy_pj over the tokens its
	// tokens_per_second counts (the run JSON's llm.energy_per_token_pj).
	EnergyPerTokenPJ *float64 `json:"energy_per_token_pj,omitempty"`
	// KV-sparsity decode points: the kv_sparsity block's figures, and for
	// a front that minimises it, the attention mass a method loses.
	AttentionSpeedup *float64 `json:"attention_speedup,omitempty"`
	TPOTSpeedup      *float64 `json:"tpot_speedup,omitempty"`
	MassRecall       *float64 `json:"mass_recall,omitempty"`
	MassLost         *float64 `json:"mass_lost,omitempty"`
	OutputRelError   *float64 `json:"output_rel_error,omitempty"`
}

// MetricNames are the CSV metric columns, in order.
var MetricNames = []string{"pes", "cycles", "stall_cycles", "utilization", "seconds", "dram_read_bytes", "dram_write_bytes", "dram_bytes",
	"energy_pj", "energy_compute_pj", "energy_sram_pj", "energy_dram_pj", "energy_other_pj", "power_w", "gops", "gops_per_w",
	"speedup_vs_dense", "lut", "ff", "dsp", "bram36", "uram", "est_clock_mhz",
	"ttft_seconds", "tpot_seconds", "tokens_per_second", "energy_per_token_pj",
	"attention_speedup", "tpot_speedup", "mass_recall", "mass_lost", "output_rel_error"}

// Values are the metrics in MetricNames order (listed by hand, not
// through JSON, because merges and plots read them for every row;
// TestMetricValuesMatchJSON holds the list to the JSON tags). A metric
// that does not apply to the point (a nil one) is NaN.
func (m Metrics) Values() []float64 {
	return []float64{float64(m.PEs), float64(m.Cycles), opt(m.StallCycles), opt(m.Utilization), m.Seconds,
		opt(m.DRAMReadBytes), opt(m.DRAMWriteBytes), opt(m.DRAMBytes), opt(m.EnergyPJ), opt(m.EnergyCompute), opt(m.EnergySRAM),
		opt(m.EnergyDRAM), opt(m.EnergyOther), opt(m.PowerW), opt(m.GOPS), opt(m.GOPSPerW), opt(m.SpeedupVsDense),
		opt(m.LUT), opt(m.FF), opt(m.DSP), opt(m.BRAM36), opt(m.URAM), opt(m.EstClockMHz),
		opt(m.TTFTSeconds), opt(m.TPOTSeconds), opt(m.TokensPerSecond), opt(m.EnergyPerTokenPJ),
		opt(m.AttentionSpeedup), opt(m.TPOTSpeedup), opt(m.MassRecall), opt(m.MassLost), opt(m.OutputRelError)}
}

// opt is an optional metric as a number: NaN when it does not apply.
func opt[T int64 | float64](p *T) float64 {
	if p == nil {
		return math.NaN()
	}
	return float64(*p)
}

// ptr is an optional metric that applies.
func ptr[T any](v T) *T { return &v }

// metricIndex is each metric's position in MetricNames.
var metricIndex = func() map[string]int {
	ix := make(map[string]int, len(MetricNames))
	for i, n := range MetricNames {
		ix[n] = i
	}
	return ix
}()

// All returns every metric that applies to the point, by its JSON name.
func (m Metrics) All() map[string]float64 {
	all := make(map[string]float64, len(MetricNames))
	for i, v := range m.Values() {
		if !math.IsNaN(v) {
			all[MetricNames[i]] = v
		}
	}
	return all
}

// Get returns a metric by name; false when it does not apply to the
// point (speedup_vs_dense on a dense point, FPGA resources on an ASIC,
// stall cycles on an LLM point).
func (m Metrics) Get(name string) (float64, bool) {
	i, ok := metricIndex[name]
	if !ok {
		return 0, false
	}
	v := m.Values()[i]
	return v, !math.IsNaN(v)
}

// IsMetric reports whether name is a metric column. Metrics that do not
// apply to a point are left out of its JSON and written empty in its CSV
// row, never as 0.
func IsMetric(name string) bool {
	_, ok := metricIndex[name]
	return ok
}

func metricsOf(rep *report.Report) Metrics {
	t := rep.Total
	m := Metrics{PEs: rep.Config.PEs(), Cycles: t.Cycles, StallCycles: ptr(t.StallCycles),
		Utilization: ptr(t.Utilization), Seconds: t.Seconds, DRAMReadBytes: ptr(t.DRAMReadBytes), DRAMWriteBytes: ptr(t.DRAMWriteBytes),
		DRAMBytes: ptr(float64(t.DRAMReadBytes + t.DRAMWriteBytes)),
		EnergyPJ:  ptr(t.EnergyPJ), GOPS: ptr(t.GOPS), GOPSPerW: ptr(t.GOPSPerW)}
	if t.SpeedupVsDense != 0 { // the report's own rule: set on sparse points only
		m.SpeedupVsDense = ptr(t.SpeedupVsDense)
	}
	if e := rep.Energy; e != nil {
		m.EnergyCompute, m.EnergySRAM, m.EnergyDRAM, m.EnergyOther = ptr(e.ByClass["compute"]), ptr(e.ByClass["sram"]), ptr(e.ByClass["dram"]), ptr(e.ByClass["other"])
		m.PowerW = ptr(e.AveragePowerW)
	}
	if f := rep.FPGA; f != nil {
		m.LUT, m.FF, m.DSP, m.BRAM36, m.URAM, m.EstClockMHz = ptr(f.Total.LUT), ptr(f.Total.FF), ptr(f.Total.DSP), ptr(f.Total.BRAM36), ptr(f.Total.URAM), ptr(f.EstClockMHz)
	}
	return m
}

// Row is one point's line in results.jsonl.
type Row struct {
	Point   int               `json:"point"`
	Params  map[string]string `json:"params"`
	Metrics *Metrics          `json:"metrics,omitempty"`
	Error   string            `json:"error,omitempty"`
}

func (r Row) jsonLine() []byte {
	b, _ := json.Marshal(r)
	return append(b, '\n')
}

func csvHeader(keys []string) []byte {
	return csvLine(append(append([]string{"point"}, keys...), append(MetricNames, "error")...))
}

func (r Row) csvLine(keys []string) []byte {
	var vals []float64
	if r.Metrics != nil {
		vals = r.Metrics.Values()
	}
	return r.csvLineOf(keys, vals)
}

// csvLineOf is csvLine with the metrics already read (vals in MetricNames
// order; nil for a failed row).
func (r Row) csvLineOf(keys []string, vals []float64) []byte {
	rec := make([]string, 0, 2+len(keys)+len(MetricNames))
	rec = append(rec, strconv.Itoa(r.Point))
	for _, k := range keys {
		rec = append(rec, r.Params[k])
	}
	for i := range MetricNames {
		if vals == nil {
			rec = append(rec, "")
			continue
		}
		if math.IsNaN(vals[i]) {
			rec = append(rec, "") // does not apply to this point
			continue
		}
		rec = append(rec, strconv.FormatFloat(vals[i], 'g', 12, 64))
	}
	return csvLine(append(rec, r.Error))
}

func csvLine(rec []string) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(rec)
	w.Flush()
	return buf.Bytes()
}

// appendLine writes one complete line with a single write on an O_APPEND
// file: a kill between rows never leaves half of one.
func appendLine(f *os.File, line []byte) error {
	_, err := f.Write(line)
	return err
}

// ReadRows reads results.jsonl into memory (plots and small tools; sweeps
// and merges stream). A last line without its newline (a torn write) is
// ignored; validBytes is the length of the complete lines.
func ReadRows(path string) (rows []Row, validBytes int64, err error) {
	validBytes, err = scanRows(path, func(r Row, _ int64, _ int) error {
		rows = append(rows, r)
		return nil
	})
	return rows, validBytes, err
}
