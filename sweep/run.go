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

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/energy"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/report"
	"github.com/sparsesim/sparsesim/traces"
	"github.com/sparsesim/sparsesim/workloads"
)

// Spec is a sweep: what every point shares and the axes it varies.
type Spec struct {
	Config       string   `json:"config"`
	Workload     string   `json:"workload"`
	Sets         []string `json:"sets"`
	Axes         []Axis   `json:"axes"`
	Zip          bool     `json:"zip"`
	Batch        int      `json:"batch"`
	Seq          int      `json:"seq"`
	Phase        string   `json:"phase"`
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

func runPoint(spec Spec, p Point) (*Metrics, error) {
	cfg, err := configs.Load(spec.Config, append(append([]string(nil), spec.Sets...), p.Sets()...))
	if err != nil {
		return nil, err
	}
	if cfg.FPGA.Device != "" && !spec.AllowOverfit {
		fr, err := energy.FPGA(cfg)
		if err != nil {
			return nil, err
		}
		if !fr.Fits {
			return nil, fmt.Errorf("does not fit %s (%s)", fr.Device, fr.Overfull())
		}
	}
	w, err := traces.LoadFor(cfg, spec.Workload, workloads.Params{Batch: spec.Batch, SeqLen: spec.Seq})
	if err != nil {
		return nil, err
	}
	if spec.Phase == "training" {
		w = workloads.Training(w)
	}
	res, base, err := arch.SimulateWithBaseline(cfg, w, nil)
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
// results.jsonl when resuming) and returns every row of the shard, sorted.
func Run(spec Spec, opt Options) ([]Row, error) {
	pts, err := Points(spec.Axes, spec.Zip)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return nil, usererr.New("--out %s: %v", opt.Out, err)
	}
	man := Manifest{Spec: spec, Points: len(pts), Shard: fmt.Sprintf("%d/%d", opt.Shard.I, opt.Shard.N)}
	manPath := filepath.Join(opt.Out, "sweep.json")
	resPath := filepath.Join(opt.Out, "results.jsonl")
	csvPath := filepath.Join(opt.Out, "results.csv")
	var done []Row
	if _, err := os.Stat(resPath); err == nil {
		if !opt.Resume {
			return nil, usererr.New("--out %s already holds results.jsonl: pass --resume to continue it, or choose another --out", opt.Out)
		}
		old, err := readManifest(manPath)
		if err != nil {
			return nil, err
		}
		if !sameSpec(old, man) {
			return nil, usererr.New("--resume: %s was made by a different sweep (config, workload, axes or shard differ)", manPath)
		}
		var valid int64
		if done, valid, err = ReadRows(resPath); err != nil {
			return nil, err
		}
		if err := os.Truncate(resPath, valid); err != nil { // drop a torn last line
			return nil, err
		}
		if err := dupCheck(done); err != nil {
			return nil, usererr.New("%s: %v", resPath, err)
		}
	} else {
		mb, _ := json.MarshalIndent(man, "", "  ")
		if err := report.WriteFileAtomic(manPath, append(mb, '\n')); err != nil {
			return nil, err
		}
		if err := report.WriteFileAtomic(csvPath, csvHeader(spec.Keys())); err != nil {
			return nil, err
		}
	}
	have := map[int]bool{}
	for _, r := range done {
		have[r.Point] = true
	}
	var todo []Point
	for _, p := range pts {
		if opt.Shard.Has(p.Index) && !have[p.Index] {
			todo = append(todo, p)
		}
	}
	jf, err := os.OpenFile(resPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer jf.Close()
	cf, err := os.OpenFile(csvPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer cf.Close()

	prog := newProgress(opt, len(todo))
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
		for _, p := range todo {
			in <- p
		}
		close(in)
		wg.Wait()
		close(out)
	}()
	var writeErr error
	for r := range out {
		if writeErr == nil {
			if err := appendLine(jf, r.jsonLine()); err != nil {
				writeErr = err
			} else if err := appendLine(cf, r.csvLine(spec.Keys())); err != nil {
				writeErr = err
			}
		}
		done = append(done, r)
		prog.step(r)
	}
	prog.finish()
	if writeErr != nil {
		return nil, writeErr
	}
	if err := writeSorted(opt.Out, spec.Keys(), done); err != nil {
		return nil, err
	}
	return done, nil
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

// Merge joins shard directories: every point of the sweep exactly once.
func Merge(out string, dirs []string) ([]Row, Spec, error) {
	var spec Spec
	var total int
	var rows []Row
	for i, d := range dirs {
		m, err := readManifest(filepath.Join(d, "sweep.json"))
		if err != nil {
			return nil, spec, err
		}
		if i == 0 {
			spec, total = m.Spec, m.Points
		} else if js, _ := json.Marshal(m.Spec); string(js) != mustJSON(spec) || m.Points != total {
			return nil, spec, usererr.New("%s: a different sweep from %s", d, dirs[0])
		}
		r, _, err := ReadRows(filepath.Join(d, "results.jsonl"))
		if err != nil {
			return nil, spec, usererr.New("%s: %v", d, err)
		}
		rows = append(rows, r...)
	}
	if err := dupCheck(rows); err != nil {
		return nil, spec, usererr.New("merge: %v", err)
	}
	if len(rows) != total {
		have := map[int]bool{}
		for _, r := range rows {
			have[r.Point] = true
		}
		var missing []int
		for i := 0; i < total && len(missing) < 10; i++ {
			if !have[i] {
				missing = append(missing, i)
			}
		}
		return nil, spec, usererr.New("merge: %d of %d points present; missing %v", len(rows), total, missing)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, spec, err
	}
	mb, _ := json.MarshalIndent(Manifest{Spec: spec, Points: total, Shard: "0/1"}, "", "  ")
	if err := report.WriteFileAtomic(filepath.Join(out, "sweep.json"), append(mb, '\n')); err != nil {
		return nil, spec, err
	}
	return rows, spec, writeSorted(out, spec.Keys(), rows)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
