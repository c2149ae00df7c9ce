package sweep

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/sparsesim/sparsesim/arch/engines"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/energy"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/traces"
	"github.com/sparsesim/sparsesim/workloads"
)

// Spec is a sweep: what every point shares and the axes it varies.
type Spec struct {
	Config   string   `json:"config"`
	Workload string   `json:"workload"`
	Sets     []string `json:"sets"`
	Axes     []Axis   `json:"axes"`
	Zip      bool     `json:"zip"`
	Batch    int      `json:"batch"`
	Seq      int      `json:"seq"`
	Phase    string   `json:"phase"`
	// Prompt and Gen size LLM decode and generate points (sweep/llm.go).
	Prompt       int      `json:"prompt,omitempty"`
	Gen          int      `json:"gen,omitempty"`
	AllowOverfit bool     `json:"allow_overfit"`
	Objectives   []string `json:"objectives"`
}

// Manifest is sweep.json: the spec, the point count and this shard.
type Manifest struct {
	Spec   Spec   `json:"spec"`
	Points int    `json:"points"`
	Shard  string `json:"shard"`
}

// Keys are the axis keys in order (the CSV parameter columns).
func (s Spec) Keys() []string {
	var k []string
	for _, a := range s.Axes {
		k = append(k, a.Key)
	}
	return k
}

// Options control how a sweep runs (not what it computes).
type Options struct {
	Out      string
	Jobs     int
	Resume   bool
	Shard    Shard
	Progress io.Writer // where progress goes (a terminal gets a bar)
	Terminal bool
}

// RunPoint simulates one point. A panic in the point's simulation (a
// bug, which would otherwise kill the process from a worker goroutine)
// is recorded as the point's error, marked "internal error".
func RunPoint(spec Spec, p Point) (row Row) {
	row = Row{Point: p.Index, Params: map[string]string{}}
	for _, kv := range p.Params {
		row.Params[kv.Key] = kv.Value
	}
	defer func() {
		if r := recover(); r != nil {
			row.Metrics = nil
			row.Error = fmt.Sprintf("internal error: %v", r)
		}
	}()
	m, err := runPoint(spec, p)
	if err != nil {
		row.Error = err.Error()
		return row
	}
	row.Metrics = m
	return row
}

func runPoint(grid Spec, p Point) (*Metrics, error) {
	spec, err := grid.At(p)
	if err != nil {
		return nil, err
	}
	cfg, err := configs.Load(spec.Config, spec.Sets)
	if err != nil {
		return nil, err
	}
	// Before the LLM branch: an LLM point on an FPGA config must fit its
	// device too, as 'run --phase decode' requires.
	if cfg.FPGA.Device != "" && !spec.AllowOverfit {
		fr, err := energy.FPGA(cfg)
		if err != nil {
			return nil, err
		}
		if !fr.Fits {
			return nil, fmt.Errorf("does not fit %s (%s)", fr.Device, fr.Overfull())
		}
	}
	if IsLLMPhase(spec.Phase) {
		return runLLMPoint(spec, cfg)
	}
	w, err := traces.LoadFor(cfg, spec.Workload, workloads.Params{Batch: spec.Batch, SeqLen: spec.Seq})
	if err != nil {
		return nil, err
	}
	if spec.Phase == "training" {
		w = workloads.Training(w)
	}
	res, base, err := engines.SimulateWithBaseline(cfg, w, nil)
	if err != nil {
		return nil, err
	}
	rep, err := report.New(res, base)
	if err != nil {
		return nil, err
	}
	m := metricsOf(rep)
	return &m, nil
}

// Run executes the sweep's points (this shard's, minus those already in
// results.jsonl when resuming), appends each row as it finishes, then
// rewrites the shard's files sorted by point. Points are generated from
// their index and rows streamed to disk, so memory stays bounded by the
// rows in flight (plus 24 bytes a row for the final sort), not the grid.
func Run(spec Spec, opt Options) (Summary, error) {
	g, err := NewGrid(spec.Axes, spec.Zip)
	if err != nil {
		return Summary{}, err
	}
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return Summary{}, usererr.New("--out %s: %v", opt.Out, err)
	}
	man := Manifest{Spec: spec, Points: g.Len(), Shard: fmt.Sprintf("%d/%d", opt.Shard.I, opt.Shard.N)}
	manPath := filepath.Join(opt.Out, "sweep.json")
	resPath := filepath.Join(opt.Out, "results.jsonl")
	csvPath := filepath.Join(opt.Out, "results.csv")
	have := newBitset(g.Len())
	var refs []rowRef
	var size int64 // of results.jsonl, where the next row goes
	if _, err := os.Stat(resPath); err == nil {
		if !opt.Resume {
			return Summary{}, usererr.New("--out %s already holds results.jsonl: pass --resume to continue it, or choose another --out", opt.Out)
		}
		old, err := readManifest(manPath)
		if err != nil {
			return Summary{}, err
		}
		if !sameSpec(old, man) {
			return Summary{}, usererr.New("--resume: %s was made by a different sweep (config, workload, axes or shard differ)", manPath)
		}
		if size, err = scanRows(resPath, func(r Row, off int64, n int) error {
			if r.Point < 0 || r.Point >= g.Len() || !opt.Shard.Has(r.Point) {
				return fmt.Errorf("point %d is not in this sweep's shard %s", r.Point, man.Shard)
			}
			if have.has(r.Point) {
				return fmt.Errorf("point %d appears twice", r.Point)
			}
			have.set(r.Point)
			refs = append(refs, rowRef{point: r.Point, off: off, n: int32(n)})
			return nil
		}); err != nil {
			return Summary{}, err
		}
		if err := os.Truncate(resPath, size); err != nil { // drop a torn last line
			return Summary{}, err
		}
	} else {
		mb, _ := json.MarshalIndent(man, "", "  ")
		if err := report.WriteFileAtomic(manPath, append(mb, '\n')); err != nil {
			return Summary{}, err
		}
		if err := report.WriteFileAtomic(csvPath, csvHeader(spec.Keys())); err != nil {
			return Summary{}, err
		}
	}
	jf, err := os.OpenFile(resPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return Summary{}, err
	}
	defer jf.Close()
	cf, err := os.OpenFile(csvPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return Summary{}, err
	}
	defer cf.Close()

	resumed := len(refs)
	prog := newProgress(opt, opt.Shard.Count(g.Len())-resumed)
	jobs := max(opt.Jobs, 1)
	in := make(chan Point)
	out := make(chan Row)
	var wg sync.WaitGroup
	for i := 0; i < jobs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range in {
				out <- RunPoint(spec, p)
			}
		}()
	}
	go func() {
		for i := 0; i < g.Len(); i++ {
			if opt.Shard.Has(i) && !have.has(i) {
				in <- g.At(i)
			}
		}
		close(in)
		wg.Wait()
		close(out)
	}()
	var writeErr error
	for r := range out {
		if writeErr == nil {
			line := r.jsonLine()
			if err := appendLine(jf, line); err != nil {
				writeErr = err
			} else if err := appendLine(cf, r.csvLine(spec.Keys())); err != nil {
				writeErr = err
			}
			refs = append(refs, rowRef{point: r.Point, off: size, n: int32(len(line) - 1)})
			size += int64(len(line))
		}
		prog.step(r)
	}
	prog.finish()
	if writeErr != nil {
		return Summary{}, writeErr
	}
	sum, err := writeSorted(opt.Out, spec, []string{resPath}, refs)
	sum.Resumed = resumed
	return sum, err
}

func readManifest(path string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(path)
	if err != nil {
		return m, usererr.New("%s: %v", path, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, usererr.New("%s: not a sweep manifest: %v", path, err)
	}
	return m, nil
}

func sameSpec(a, b Manifest) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// progress is a bar with ETA on a terminal, plain lines elsewhere. The
// bar redraws on a timer (elapsed time moves between points) and its ETA
// is the remaining points at the rate so far, shown once every worker has
// finished a point (before that the rate only measures the first wave).
type progress struct {
	bar   *progressbar.ProgressBar
	w     io.Writer
	total int
	jobs  int
	start time.Time
	mu    sync.Mutex
	n     int
	quit  chan struct{}
}

func newProgress(opt Options, total int) *progress {
	p := &progress{w: opt.Progress, total: total, jobs: max(opt.Jobs, 1), start: time.Now(), quit: make(chan struct{})}
	if p.w == nil {
		p.w = io.Discard
	}
	if opt.Terminal && total > 0 {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(false), progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetDescription(p.describe()), progressbar.OptionClearOnFinish())
		go func() {
			t := time.NewTicker(500 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-p.quit:
					return
				case <-t.C:
					p.mu.Lock()
					p.bar.Describe(p.describe())
					_ = p.bar.Add(0) // redraws the elapsed time
					p.mu.Unlock()
				}
			}
		}()
	}
	return p
}

// describe is the bar's label with the ETA; call with mu held.
func (p *progress) describe() string {
	first := min(p.jobs, p.total)
	if p.n < first || p.n == 0 {
		return fmt.Sprintf("sweep (ETA after %d points)", first)
	}
	el := time.Since(p.start)
	eta := time.Duration(float64(el) / float64(p.n) * float64(p.total-p.n)).Round(time.Second)
	return fmt.Sprintf("sweep (ETA %s)", eta)
}

func (p *progress) step(r Row) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if p.bar != nil {
		p.bar.Describe(p.describe())
		_ = p.bar.Add(1)
		return
	}
	status := "ok"
	if r.Error != "" {
		status = "FAILED: " + r.Error
	}
	fmt.Fprintf(p.w, "point %d done (%d/%d, %.1fs) %s %s\n", r.Point, p.n, p.total, time.Since(p.start).Seconds(), paramText(r.Params), status)
}

// paramText writes a point's parameters as "key=value ...", sorted.
func paramText(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + params[k]
	}
	return strings.Join(parts, " ")
}

func (p *progress) finish() {
	close(p.quit)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// Merge joins shard directories into out: every point of the sweep
// exactly once, sorted, streamed (memory: 24 bytes a row and one bit a
// grid point, not the rows).
func Merge(out string, dirs []string) (Spec, Summary, error) {
	var spec Spec
	var total int
	var have bitset
	var refs []rowRef
	var files []string
	for i, d := range dirs {
		m, err := readManifest(filepath.Join(d, "sweep.json"))
		if err != nil {
			return spec, Summary{}, err
		}
		if i == 0 {
			spec, total = m.Spec, m.Points
			have = newBitset(total)
		} else if mustJSON(m.Spec) != mustJSON(spec) || m.Points != total {
			return spec, Summary{}, usererr.New("%s: a different sweep from %s", d, dirs[0])
		}
		path := filepath.Join(d, "results.jsonl")
		file := int32(len(files))
		files = append(files, path)
		if _, err := scanRows(path, func(r Row, off int64, n int) error {
			if r.Point < 0 || r.Point >= total {
				return fmt.Errorf("point %d is outside the sweep's %d points", r.Point, total)
			}
			if have.has(r.Point) {
				return fmt.Errorf("merge: point %d appears twice", r.Point)
			}
			have.set(r.Point)
			refs = append(refs, rowRef{point: r.Point, file: file, off: off, n: int32(n)})
			return nil
		}); err != nil {
			if os.IsNotExist(err) {
				return spec, Summary{}, usererr.New("%s: no results.jsonl", d)
			}
			return spec, Summary{}, err
		}
	}
	if len(refs) != total {
		return spec, Summary{}, usererr.New("merge: %d of %d points present; missing %v", len(refs), total, have.missing(total, 10))
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return spec, Summary{}, usererr.New("--out %s: %v", out, err)
	}
	mb, _ := json.MarshalIndent(Manifest{Spec: spec, Points: total, Shard: "0/1"}, "", "  ")
	if err := report.WriteFileAtomic(filepath.Join(out, "sweep.json"), append(mb, '\n')); err != nil {
		return spec, Summary{}, err
	}
	sum, err := writeSorted(out, spec, files, refs)
	return spec, sum, err
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
