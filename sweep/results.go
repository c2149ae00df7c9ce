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
type Metrics struct {
	PEs            int     `json:"pes"`
	Cycles         int64   `json:"cycles"`
	StallCycles    int64   `json:"stall_cycles"`
	Utilization    float64 `json:"utilization"`
	Seconds        float64 `json:"seconds"`
	DRAMReadBytes  int64   `json:"dram_read_bytes"`
	DRAMWriteBytes int64   `json:"dram_write_bytes"`
	EnergyPJ       float64 `json:"energy_pj"`
	EnergyCompute  float64 `json:"energy_compute_pj"`
	EnergySRAM     float64 `json:"energy_sram_pj"`
	EnergyDRAM     float64 `json:"energy_dram_pj"`
	EnergyOther    float64 `json:"energy_other_pj"`
	PowerW         float64 `json:"power_w"`
	GOPS           float64 `json:"gops"`
	GOPSPerW       float64 `json:"gops_per_w"`
	SpeedupVsDense float64 `json:"speedup_vs_dense,omitempty"`
	LUT            float64 `json:"lut,omitempty"`
	FF             float64 `json:"ff,omitempty"`
	DSP            float64 `json:"dsp,omitempty"`
	BRAM36         float64 `json:"bram36,omitempty"`
	URAM           float64 `json:"uram,omitempty"`
	EstClockMHz    float64 `json:"est_clock_mhz,omitempty"`
	// KV-sparsity decode points (sweep/llm.go): the kv_sparsity block's
	// figures, and for the Pareto front (which minimises) the attention
	// mass a method loses.
	AttentionSpeedup float64 `json:"attention_speedup,omitempty"`
	TPOTSpeedup      float64 `json:"tpot_speedup,omitempty"`
	MassRecall       float64 `json:"mass_recall,omitempty"`
	MassLost         float64 `json:"mass_lost,omitempty"`
	OutputRelError   float64 `json:"output_rel_error,omitempty"`
}

// MetricNames are the CSV metric columns, in order.
var MetricNames = []string{"pes", "cycles", "stall_cycles", "utilization", "seconds", "dram_read_bytes", "dram_write_bytes",
	"energy_pj", "energy_compute_pj", "energy_sram_pj", "energy_dram_pj", "energy_other_pj", "power_w", "gops", "gops_per_w",
	"speedup_vs_dense", "lut", "ff", "dsp", "bram36", "uram", "est_clock_mhz",
	"attention_speedup", "tpot_speedup", "mass_recall", "mass_lost", "output_rel_error"}

// Values are the metrics in MetricNames order (listed by hand, not
// through JSON, because merges and plots read them for every row;
// TestMetricValuesMatchJSON holds the list to the JSON tags).
// A metric that does not apply to the point (the omitempty ones at zero:
// speedup_vs_dense on a dense point, FPGA resources on an ASIC) is NaN.
func (m Metrics) Values() []float64 {
	v := []float64{float64(m.PEs), float64(m.Cycles), float64(m.StallCycles), m.Utilization, m.Seconds,
		float64(m.DRAMReadBytes), float64(m.DRAMWriteBytes), m.EnergyPJ, m.EnergyCompute, m.EnergySRAM, m.EnergyDRAM,
		m.EnergyOther, m.PowerW, m.GOPS, m.GOPSPerW, m.SpeedupVsDense, m.LUT, m.FF, m.DSP, m.BRAM36, m.URAM, m.EstClockMHz,
		m.AttentionSpeedup, m.TPOTSpeedup, m.MassRecall, m.MassLost, m.OutputRelError}
	for i := optionalFrom; i < len(v); i++ {
		if v[i] == 0 {
			v[i] = math.NaN()
		}
	}
	return v
}

// optionalFrom is the first metric that may not apply (speedup_vs_dense;
// every later one is an FPGA resource or a KV-sparsity figure).
const optionalFrom = 15

// metricIndex is each metric's position in MetricNames.
var metricIndex = func() map[string]int {
	ix := make(map[string]int, len(MetricNames))
	for i, n := range MetricNames {
		ix[n] = i
	}
	return ix
}()

// All returns every metric by its JSON name.
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
// point (speedup_vs_dense on a dense point, FPGA resources on an ASIC).
func (m Metrics) Get(name string) (float64, bool) {
	i, ok := metricIndex[name]
	if !ok {
		return 0, false
	}
	v := m.Values()[i]
	return v, !math.IsNaN(v)
}

// IsMetric reports whether name is a metric column. Metrics that do not
// apply to a point are left out of its JSON (omitempty) and written empty
// in its CSV row, never as 0.
func IsMetric(name string) bool {
	for _, n := range MetricNames {
		if n == name {
			return true
		}
	}
	return false
}

func metricsOf(rep *report.Report) Metrics {
	t := rep.Total
	m := Metrics{PEs: rep.Config.PEArray.Rows * rep.Config.PEArray.Cols, Cycles: t.Cycles, StallCycles: t.StallCycles,
		Utilization: t.Utilization, Seconds: t.Seconds, DRAMReadBytes: t.DRAMReadBytes, DRAMWriteBytes: t.DRAMWriteBytes,
		EnergyPJ: t.EnergyPJ, GOPS: t.GOPS, GOPSPerW: t.GOPSPerW, SpeedupVsDense: t.SpeedupVsDense}
	if e := rep.Energy; e != nil {
		m.EnergyCompute, m.EnergySRAM, m.EnergyDRAM, m.EnergyOther = e.ByClass["compute"], e.ByClass["sram"], e.ByClass["dram"], e.ByClass["other"]
		m.PowerW = e.AveragePowerW
	}
	if f := rep.FPGA; f != nil {
		m.LUT, m.FF, m.DSP, m.BRAM36, m.URAM, m.EstClockMHz = f.Total.LUT, f.Total.FF, f.Total.DSP, f.Total.BRAM36, f.Total.URAM, f.EstClockMHz
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
