package sweep

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/sparsesim/sparsesim/internal/atomicfile"
	"github.com/sparsesim/sparsesim/internal/usererr"
)

// rowRef locates one row's line in one of the results.jsonl files being
// joined: sweeps and merges keep these 24 bytes per row, never the rows, so
// their memory is bounded by the rows in flight, not by the grid.
type rowRef struct {
	point int
	file  int32
	n     int32 // line length without the newline
	off   int64
}

// Summary is what a finished sweep or merge reports: row counts and the
// Pareto front (the only rows it holds in memory).
type Summary struct {
	Rows, Failed int
	Resumed      int // rows a resumed sweep found already done
	Front        []Row
}

// scanRows streams a results.jsonl file, calling fn for every complete
// line. A last line without its newline (a write cut by a kill) is not
// passed on; valid is the length of the complete lines, so resume can cut
// the torn tail off.
func scanRows(path string, fn func(r Row, off int64, n int) error) (valid int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	line := 0
	for {
		text, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return valid, nil // text, if any, is a torn last line
		}
		if err != nil {
			return valid, err
		}
		line++
		var r Row
		if err := json.Unmarshal(text, &r); err != nil {
			return valid, usererr.New("%s:%d: not a sweep result row: %v", path, line, err)
		}
		if err := fn(r, valid, len(text)-1); err != nil {
			return valid, usererr.New("%s:%d: %v", path, line, err)
		}
		valid += int64(len(text))
	}
}

// bitset records which points are present: one bit per grid point.
type bitset []uint64

func newBitset(n int) bitset    { return make(bitset, (n+63)/64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) missing(n, limit int) []int {
	var out []int
	for i := 0; i < n && len(out) < limit; i++ {
		if !b.has(i) {
			out = append(out, i)
		}
	}
	return out
}

// writeSorted writes dir's results.jsonl and results.csv sorted by point
// from the referenced lines of files (atomically; a source may be dir's own
// results.jsonl), streaming one row at a time, and computes the Pareto
// front on the way: sharded, resumed and plain sweeps give byte-identical
// files.
func writeSorted(dir string, spec Spec, files []string, refs []rowRef) (Summary, error) {
	var sum Summary
	sort.Slice(refs, func(i, j int) bool { return refs[i].point < refs[j].point })
	src := make([]*os.File, len(files))
	for i, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return sum, err
		}
		defer f.Close()
		src[i] = f
	}
	jl, err := atomicfile.Create(filepath.Join(dir, "results.jsonl"))
	if err != nil {
		return sum, err
	}
	defer jl.Abort()
	cs, err := atomicfile.Create(filepath.Join(dir, "results.csv"))
	if err != nil {
		return sum, err
	}
	defer cs.Abort()
	keys, obj := spec.Keys(), spec.Objectives
	cs.Write(csvHeader(keys))
	var buf []byte
	read := func(ref rowRef) (Row, []byte, error) {
		if cap(buf) < int(ref.n)+1 {
			buf = make([]byte, ref.n+1)
		}
		buf = buf[:ref.n+1]
		if _, err := src[ref.file].ReadAt(buf, ref.off); err != nil {
			return Row{}, nil, fmt.Errorf("%s: re-reading point %d: %v", files[ref.file], ref.point, err)
		}
		var r Row
		if err := json.Unmarshal(buf[:ref.n], &r); err != nil {
			return Row{}, nil, fmt.Errorf("%s: point %d changed while the sweep ran: %v", files[ref.file], ref.point, err)
		}
		return r, buf, nil
	}
	var objVals []float64 // len(obj) per successful row, flat
	var okRefs []int      // index into refs of each successful row
	for i, ref := range refs {
		r, line, err := read(ref)
		if err != nil {
			return sum, err
		}
		jl.Write(line)
		var vals []float64
		if r.Metrics != nil {
			vals = r.Metrics.Values()
			objVals = objectiveValues(objVals, vals, obj)
			okRefs = append(okRefs, i)
		} else {
			sum.Failed++
		}
		cs.Write(r.csvLineOf(keys, vals))
	}
	sum.Rows = len(refs)
	if err := jl.Commit(); err != nil {
		return sum, err
	}
	if err := cs.Commit(); err != nil {
		return sum, err
	}
	for _, k := range ParetoIndices(objVals, len(obj)) {
		r, _, err := read(refs[okRefs[k]])
		if err != nil {
			return sum, err
		}
		sum.Front = append(sum.Front, r)
	}
	return sum, nil
}
