package sweep

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"

	"github.com/sparsesim/sparsesim/internal/usererr"
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
}

// MetricNames are the CSV metric columns, in order.
var MetricNames = []string{"pes", "cycles", "stall_cycles", "utilization", "seconds", "dram_read_bytes", "dram_write_bytes",
	"energy_pj", "energy_compute_pj", "energy_sram_pj", "energy_dram_pj", "energy_other_pj", "power_w", "gops", "gops_per_w",
	"speedup_vs_dense", "lut", "ff", "dsp", "bram36", "uram", "est_clock_mhz"}

// All returns every metric by its JSON name (one encoding per call; call
// it once per row, not per metric).
func (m Metrics) All() map[string]float64 {
	b, _ := json.Marshal(m)
	var all map[string]float64
	_ = json.Unmarshal(b, &all)
	return all
}

// Get returns a metric by name; false when it does not apply to the
// point (speedup_vs_dense on a dense point, FPGA resources on an ASIC).
func (m Metrics) Get(name string) (float64, bool) {
	v, ok := m.All()[name]
	return v, ok
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
	rec := []string{strconv.Itoa(r.Point)}
	for _, k := range keys {
		rec = append(rec, r.Params[k])
	}
	var all map[string]float64
	if r.Metrics != nil {
		all = r.Metrics.All()
	}
	for _, n := range MetricNames {
		if all == nil {
			rec = append(rec, "")
			continue
		}
		v, ok := all[n]
		if !ok {
			rec = append(rec, "") // does not apply to this point
			continue
		}
		rec = append(rec, strconv.FormatFloat(v, 'g', 12, 64))
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

// ReadRows reads results.jsonl. A last line without its newline (a torn
// write) is ignored and reported through torn, so resume can cut it off.
func ReadRows(path string) (rows []Row, validBytes int64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	line := 0
	var off int64
	for sc.Scan() {
		line++
		text := sc.Bytes()
		end := off + int64(len(text)) + 1
		if end > int64(len(b)) { // no trailing newline: torn
			break
		}
		var r Row
		if err := json.Unmarshal(text, &r); err != nil {
			return nil, 0, usererr.New("%s:%d: not a sweep result row: %v", path, line, err)
		}
		rows = append(rows, r)
		off = end
	}
	return rows, off, nil
}

// writeSorted rewrites results.jsonl and results.csv sorted by point,
// atomically, so finished sweeps are byte-identical however they ran.
func writeSorted(dir string, keys []string, rows []Row) error {
	sort.Slice(rows, func(i, j int) bool { return rows[i].Point < rows[j].Point })
	var jl, cs bytes.Buffer
	cs.Write(csvHeader(keys))
	for _, r := range rows {
		jl.Write(r.jsonLine())
		cs.Write(r.csvLine(keys))
	}
	if err := report.WriteFileAtomic(dir+"/results.jsonl", jl.Bytes()); err != nil {
		return err
	}
	return report.WriteFileAtomic(dir+"/results.csv", cs.Bytes())
}

func dupCheck(rows []Row) error {
	seen := map[int]bool{}
	for _, r := range rows {
		if seen[r.Point] {
			return fmt.Errorf("point %d appears twice", r.Point)
		}
		seen[r.Point] = true
	}
	return nil
}
