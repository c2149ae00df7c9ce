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
	"github.com/sparsesim/sparsesim/workloads/nm"
)

var convFields = []string{"IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width", "Channels", "Num Filter", "Strides"}
var gemmFields = []string{"M", "N", "K"}

// IsScaleSimTopology reports whether path looks like a SCALE-Sim topology.
func IsScaleSimTopology(path string) bool {
	return strings.EqualFold(filepath.Ext(path), ".csv")
}

// ReadScaleSimTopology reads a SCALE-Sim topology CSV, conv form
// (name, IFMAP H, IFMAP W, filter H, filter W, channels, filters, stride) or
// GEMM form (name, M, N, K), told apart by the header. Columns after those
// are ignored, as SCALE-Sim ignores them; rows with an empty name are
// skipped. batch > 1 multiplies M (SCALE-Sim itself has no batch).
func ReadScaleSimTopology(path string, batch int) (workloads.Workload, error) {
	f, err := os.Open(path)
	if err != nil {
		return workloads.Workload{}, usererr.New("--workload %s: %v", path, err)
	}
	defer f.Close()
	return parseScaleSimTopology(path, f, batch)
}

func parseScaleSimTopology(path string, r io.Reader, batch int) (workloads.Workload, error) {
	if batch <= 0 {
		batch = 1
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	w := workloads.Workload{Name: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), Source: "scalesim:" + path}
	header, err := cr.Read()
	if err != nil {
		return w, csvErr(path, err)
	}
	gemm := len(header) >= 4 && eqFold(header[1], "M") && eqFold(header[2], "N") && eqFold(header[3], "K")
	fields := convFields
	if gemm {
		fields = gemmFields
	} else if len(header) < 8 {
		return w, usererr.New("%s:1: header has %d columns; a SCALE-Sim topology needs name + %s (conv) or name, M, N, K (GEMM)",
			path, len(header), strings.Join(convFields, ", "))
	}
	// An optional "Sparsity" (or "NM") column gives a layer's N:M pattern,
	// as SCALE-Sim v3's layer-wise sparsity does.
	nmCol := -1
	for i, h := range header {
		if eqFold(h, "Sparsity") || eqFold(h, "NM") {
			nmCol = i
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return w, csvErr(path, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 0 || strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) < 1+len(fields) {
			return w, usererr.New("%s:%d: layer %q has %d values, needs %d (%s)", path, line, strings.TrimSpace(rec[0]), len(rec)-1, len(fields), strings.Join(fields, ", "))
		}
		v := make([]int, len(fields))
		for i, name := range fields {
			s := strings.TrimSpace(rec[i+1])
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				return w, usererr.New("%s:%d: field %s: expected a positive integer, got %q", path, line, name, s)
			}
			v[i] = n
		}
		name := strings.TrimSpace(rec[0])
		var l workloads.Layer
		if gemm {
			l = workloads.GEMM(name, v[0]*batch, v[1], v[2])
		} else {
			l, err = workloads.ConvSpec{Name: name, IfmapH: v[0], IfmapW: v[1], FilterH: v[2], FilterW: v[3],
				Channels: v[4], Filters: v[5], Stride: v[6], Batch: batch}.Lower()
			if err != nil {
				return w, usererr.New("%s:%d: %v", path, line, err)
			}
		}
		if nmCol >= 0 && nmCol < len(rec) && strings.TrimSpace(rec[nmCol]) != "" {
			v := strings.TrimSpace(rec[nmCol])
			if _, err := nm.Parse(v); err != nil {
				return w, usererr.New("%s:%d: field %s: %v", path, line, strings.TrimSpace(header[nmCol]), err)
			}
			l.NM = v
		}
		if err := l.Validate(); err != nil {
			return w, usererr.New("%s:%d: %v", path, line, err)
		}
		w.Layers = append(w.Layers, l)
	}
	if len(w.Layers) == 0 {
		return w, usererr.New("%s: no layers after the header", path)
	}
	return w, nil
}

func eqFold(a, b string) bool { return strings.EqualFold(strings.TrimSpace(a), b) }

func csvErr(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return usererr.New("%s:%d: column %d: %v", path, pe.Line, pe.Column, pe.Err)
	}
	if errors.Is(err, io.EOF) {
		return usererr.New("%s:1: empty file, expected a SCALE-Sim topology header", path)
	}
	return usererr.New("%s: %v", path, err)
}
