package traces

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads"
)

// The sparsesim trace format (docs/trace.md): JSON Lines. Line 1 is the
// header, then one op per line, then an end line with the op count and a
// CRC-32 of the op lines, so truncation and corruption are detected.
const (
	TraceFormat  = "sparsesim-trace"
	TraceVersion = 1
)

// Header describes a trace.
type Header struct {
	Format    string         `json:"format"`
	Version   int            `json:"version"`
	Generator string         `json:"generator"`
	Seed      int64          `json:"seed"`
	Workload  string         `json:"workload"`
	Source    string         `json:"source"`
	Engine    string         `json:"engine"` // systolic or spatten
	Shapes    map[string]int `json:"shapes,omitempty"`
}

// NMSummary is the data-dependent fact of an N:M weight layer: how many
// groups the pruned weights have and how many weights each kept (structured
// sparsity keeps exactly N, which the simulator's timing relies on).
type NMSummary struct {
	Groups        int64  `json:"groups"`
	Kept          int64  `json:"kept"`
	MinPerGroup   int    `json:"min_per_group"`
	MaxPerGroup   int    `json:"max_per_group"`
	WeightsSource string `json:"weights_source"`
}

// Op is one trace line after the header: a GEMM layer or an attention row.
type Op struct {
	Op    string             `json:"op"` // "gemm" or "attn"
	Layer *workloads.Layer   `json:"layer,omitempty"`
	DType string             `json:"dtype,omitempty"`
	NM    *NMSummary         `json:"nm_summary,omitempty"`
	Attn  *workloads.AttnRow `json:"attn,omitempty"`
	End   bool               `json:"end,omitempty"`
	Ops   int                `json:"ops,omitempty"`
	CRC32 uint32             `json:"crc32,omitempty"`
}

// Writer streams a trace.
type Writer struct {
	w   *bufio.Writer
	n   int
	crc uint32
}

// NewWriter writes the header.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	h.Format, h.Version = TraceFormat, TraceVersion
	tw := &Writer{w: bufio.NewWriter(w)}
	b, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	if _, err := tw.w.Write(append(b, '\n')); err != nil {
		return nil, err
	}
	return tw, nil
}

// Write appends one op.
func (t *Writer) Write(op Op) error {
	b, err := json.Marshal(op)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	t.crc = crc32.Update(t.crc, crc32.IEEETable, b)
	t.n++
	_, err = t.w.Write(b)
	return err
}

// Close writes the end line and flushes.
func (t *Writer) Close() error {
	b, _ := json.Marshal(Op{End: true, Ops: t.n, CRC32: t.crc})
	if _, err := t.w.Write(append(b, '\n')); err != nil {
		return err
	}
	return t.w.Flush()
}

// ReadTrace streams a trace: it calls each for every op in order, holding
// one line at a time, and checks the end line's count and checksum.
func ReadTrace(name string, r io.Reader, each func(Header, Op) error) (Header, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<28)
	var h Header
	line := 0
	if !sc.Scan() {
		return h, usererr.New("%s:1: empty trace", name)
	}
	line++
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Format != TraceFormat {
		return h, usererr.New("%s:1: not a sparsesim trace header", name)
	}
	if h.Version != TraceVersion {
		return h, usererr.New("%s:1: trace format version %d; this sparsesim reads version %d", name, h.Version, TraceVersion)
	}
	var crc uint32
	n := 0
	for sc.Scan() {
		line++
		raw := sc.Bytes()
		var op Op
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&op); err != nil {
			return h, usererr.New("%s:%d: corrupt op: %v", name, line, err)
		}
		if op.End {
			if op.Ops != n || op.CRC32 != crc {
				return h, usererr.New("%s:%d: end line says %d ops (crc %08x), read %d (crc %08x): the trace is corrupt", name, line, op.Ops, op.CRC32, n, crc)
			}
			if sc.Scan() {
				return h, usererr.New("%s:%d: data after the end line", name, line+1)
			}
			return h, nil
		}
		crc = crc32.Update(crc, crc32.IEEETable, append(append([]byte(nil), raw...), '\n'))
		n++
		if err := validateOp(op); err != nil {
			return h, usererr.New("%s:%d: %v", name, line, err)
		}
		if err := each(h, op); err != nil {
			return h, err
		}
	}
	if err := sc.Err(); err != nil {
		return h, usererr.New("%s:%d: %v", name, line+1, err)
	}
	return h, usererr.New("%s: truncated trace: no end line after %d ops", name, n)
}

func validateOp(op Op) error {
	switch op.Op {
	case "gemm":
		if op.Layer == nil {
			return errors.New("gemm op without a layer")
		}
		return op.Layer.Validate()
	case "attn":
		if op.Attn == nil {
			return errors.New("attn op without a row")
		}
		r := op.Attn
		if r.D <= 0 || r.Context <= 0 || r.Queries <= 0 || r.KeyFetch < 0 || r.KeyFetch > r.Context || r.ValueFetch > r.KeyFetch {
			return fmt.Errorf("attn row with impossible sizes %+v", *r)
		}
		return nil
	}
	return fmt.Errorf("unknown op %q (allowed: gemm, attn)", op.Op)
}

// LoadTrace reads a trace file into a workload (layers or attention rows).
func LoadTrace(path string) (workloads.Workload, Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return workloads.Workload{}, Header{}, usererr.New("--trace %s: %v", path, err)
	}
	defer f.Close()
	var w workloads.Workload
	h, err := ReadTrace(path, f, func(_ Header, op Op) error {
		if op.Op == "gemm" {
			w.Layers = append(w.Layers, *op.Layer)
		} else {
			w.Attention = append(w.Attention, *op.Attn)
		}
		return nil
	})
	w.Name, w.Source = h.Workload, "trace:"+path
	return w, h, err
}
