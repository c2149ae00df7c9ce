package traces

import (
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads"
)

// spattenColumns is SpAtten's trace header, in order.
var spattenColumns = []string{"iteration_id", "layer_id", "head_id", "embedding_length_D", "sentence_length_L",
	"key_fetch_num", "quant_key_bit", "quant_query_bit", "auto_requant_thres", "if_requant", "auto_requant_incre",
	"value_fetch_num", "quant_value_bit", "if_accumulate_importance", "if_rescale_previous_importance", "if_topk", "topk"}

// IsSpAttenTrace reports whether the file starts with SpAtten's header.
func IsSpAttenTrace(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	rec, err := csv.NewReader(f).Read()
	return err == nil && len(rec) > 0 && strings.TrimSpace(rec[0]) == spattenColumns[0]
}

// ReadSpAttenTrace reads one of SpAtten's per-(iteration, layer, head) CSV
// traces unchanged. Each row is one generated token's query (Queries = 1).
// Bit widths of −1 mean unquantized (0 here; the engine substitutes its
// full width). A final row naming the run's YAML config with every other
// field empty is SpAtten's footer and is kept as the workload's note; any
// other malformed row is an error naming its line and field.
func ReadSpAttenTrace(path string) (workloads.Workload, error) {
	f, err := os.Open(path)
	if err != nil {
		return workloads.Workload{}, usererr.New("--workload %s: %v", path, err)
	}
	defer f.Close()
	return parseSpAttenTrace(path, f)
}

func parseSpAttenTrace(path string, r io.Reader) (workloads.Workload, error) {
	w := workloads.Workload{Name: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), Source: "spatten:" + path}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return w, csvErr(path, err)
	}
	if len(header) != len(spattenColumns) {
		return w, usererr.New("%s:1: SpAtten trace header has %d columns, want %d (%s)", path, len(header), len(spattenColumns), strings.Join(spattenColumns, ","))
	}
	for i, h := range header {
		if strings.TrimSpace(h) != spattenColumns[i] {
			return w, usererr.New("%s:1: column %d is %q, want %q", path, i+1, h, spattenColumns[i])
		}
	}
	footer := false
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return w, csvErr(path, err)
		}
		line, _ := cr.FieldPos(0)
		if footer {
			return w, usererr.New("%s:%d: row after the trace's config footer", path, line)
		}
		if isFooter(rec) {
			footer = true
			w.Source += " (" + strings.TrimSpace(rec[0]) + ")"
			continue
		}
		if len(rec) != len(spattenColumns) {
			return w, usererr.New("%s:%d: %d fields, want %d", path, line, len(rec), len(spattenColumns))
		}
		row, err := spattenRow(rec)
		if err != nil {
			return w, usererr.New("%s:%d: %v", path, line, err)
		}
		w.Attention = append(w.Attention, row)
	}
	if len(w.Attention) == 0 {
		return w, usererr.New("%s: no trace rows after the header", path)
	}
	return w, nil
}

func isFooter(rec []string) bool {
	if len(rec) == 0 || strings.TrimSpace(rec[0]) == "" {
		return false
	}
	if _, err := strconv.Atoi(strings.TrimSpace(rec[0])); err == nil {
		return false
	}
	for _, f := range rec[1:] {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

type fieldReader struct {
	rec []string
	err error
}

func (f *fieldReader) str(i int) string { return strings.TrimSpace(f.rec[i]) }

func (f *fieldReader) fail(i int, want string) {
	if f.err == nil {
		f.err = usererr.New("field %s: expected %s, got %q", spattenColumns[i], want, f.str(i))
	}
}

func (f *fieldReader) int(i, lo int) int {
	v, err := strconv.ParseFloat(f.str(i), 64)
	if err != nil || v != float64(int(v)) || int(v) < lo {
		f.fail(i, "an integer ≥ "+strconv.Itoa(lo))
		return 0
	}
	return int(v)
}

// bits reads a bit width: −1 (unquantized, returned as 0) or 1–32.
func (f *fieldReader) bits(i int) int {
	v := f.int(i, -1)
	if v == 0 || v > 32 {
		f.fail(i, "-1 or a bit width from 1 to 32")
	}
	return max(v, 0)
}

func (f *fieldReader) bool(i int) bool {
	switch f.str(i) {
	case "True", "true", "1":
		return true
	case "False", "false", "0":
		return false
	}
	f.fail(i, "True or False")
	return false
}

func spattenRow(rec []string) (workloads.AttnRow, error) {
	f := &fieldReader{rec: rec}
	r := workloads.AttnRow{
		Iteration: f.int(0, 0), Layer: f.int(1, 0), Head: f.int(2, 0), D: f.int(3, 1), Context: f.int(4, 1),
		Queries: 1, KeyFetch: f.int(5, 0), KeyBits: f.bits(6), QueryBits: f.bits(7),
		ValueFetch: f.int(11, 0), ValueBits: f.bits(12), AccumImportance: f.bool(13),
	}
	if t, err := strconv.ParseFloat(f.str(8), 64); err == nil {
		r.Threshold = t
	} else {
		f.fail(8, "a number")
	}
	if f.bool(9) {
		r.RequantQueries = 1
		r.LSBBits = f.int(10, 1)
	}
	_ = f.bool(14)
	if f.bool(15) {
		r.TopKSize = f.int(16, 1)
	}
	if f.err == nil && (r.KeyFetch > r.Context || r.ValueFetch > r.KeyFetch) {
		f.err = usererr.New("field key_fetch_num/value_fetch_num: need value_fetch_num ≤ key_fetch_num ≤ sentence_length_L, got %d, %d, %d", r.ValueFetch, r.KeyFetch, r.Context)
	}
	return r, f.err
}
