package kvsparse

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// TraceFormat names a selection trace file.
const TraceFormat = "sparsesim-kv-selections"

// trace is a plan's selections as a file: what produced them (method,
// parameters, model, prompt, steps) and every sampled point's selection,
// rounds and quality; tokens as [first, last+1) runs.
type trace struct {
	Format  string        `json:"format"`
	Version int           `json:"version"`
	Params  Params        `json:"kv_sparsity"`
	Model   string        `json:"model"`
	Prompt  int           `json:"prompt"`
	Steps   int           `json:"steps"`
	Layers  []int         `json:"layers"`
	Heads   []int         `json:"heads"`
	StepsAt []int         `json:"steps_at"`
	Samples []traceSample `json:"samples"`
}

type traceSample struct {
	Layer, Head, Step, Context int
	Tokens                     [][2]int32 `json:"tokens"` // nil: every token
	All                        bool       `json:"all,omitempty"`
	Rounds                     []int      `json:"rounds,omitempty"`
	Pages, Blocks, Split       int        `json:",omitempty"`
	Starts                     []int32    `json:"starts,omitempty"`
	MassRecall                 float64    `json:"mass_recall"`
	OutputRelError             float64    `json:"output_rel_error"`
	IoU                        float64    `json:"iou,omitempty"`
}

// WriteTrace records the plan's selections (once measured: Wait).
func (pl *Plan) WriteTrace(w io.Writer) error {
	pl.Wait()
	t := trace{Format: TraceFormat, Version: 1, Params: pl.P, Model: pl.Model.Name, Prompt: pl.Prompt, Steps: pl.Steps,
		Layers: pl.Layers, Heads: pl.Heads, StepsAt: pl.StepsAt}
	for _, s := range pl.Samples {
		ts := traceSample{Layer: s.Layer, Head: s.Head, Step: s.Step, Context: s.Context, All: s.Sel.Tokens == nil,
			Rounds: s.Sel.Rounds, Pages: s.Sel.Pages, Blocks: s.Sel.Blocks, Split: s.Sel.Split, Starts: s.Sel.Starts,
			MassRecall: s.Quality.MassRecall, OutputRelError: s.Quality.OutputRelError, IoU: s.IoU}
		ts.Tokens = tokenRuns(s.Sel.Tokens)
		t.Samples = append(t.Samples, ts)
	}
	enc := json.NewEncoder(w)
	return enc.Encode(t)
}

// tokenRuns is ascending tokens as [first, last+1) runs (nil for none).
func tokenRuns(tokens []int32) [][2]int32 {
	var out [][2]int32
	for _, t := range tokens {
		if n := len(out); n > 0 && out[n-1][1] == t {
			out[n-1][1]++
			continue
		}
		out = append(out, [2]int32{t, t + 1})
	}
	return out
}

// ReplayPlan reads a selection trace written by WriteTrace for the same
// method, parameters, model, prompt and steps, instead of running the
// kernels; a trace that does not match is refused naming what differs.
func ReplayPlan(setup Setup, m llm.Model, prompt, steps int, r io.Reader, name string) (*Plan, error) {
	var t trace
	if err := json.NewDecoder(r).Decode(&t); err != nil {
		return nil, usererr.New("--kv-replay %s: not a selection trace: %v", name, err)
	}
	if t.Format != TraceFormat || t.Version != 1 {
		return nil, usererr.New("--kv-replay %s: format %q version %d, want %s version 1", name, t.Format, t.Version, TraceFormat)
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{{"kv_sparsity", t.Params, setup.Params}, {"model", t.Model, m.Name}, {"--prompt", t.Prompt, prompt}, {"decode steps", t.Steps, steps}} {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			return nil, usererr.New("--kv-replay %s: recorded with %s %v, this run has %v", name, c.what, c.got, c.want)
		}
	}
	pl := newPlan(setup, m, prompt, steps)
	if p := setup.Params.Method; p == MethodDSA || p == MethodHISA {
		pl.indexer = "trace" // the selections are the trace's
	}
	pl.Layers, pl.Heads, pl.StepsAt = t.Layers, t.Heads, t.StepsAt
	if len(t.Samples) != len(t.Layers)*len(t.Heads)*len(t.StepsAt) {
		return nil, usererr.New("--kv-replay %s: %d samples for %d layers × %d heads × %d steps", name, len(t.Samples), len(t.Layers), len(t.Heads), len(t.StepsAt))
	}
	for _, ts := range t.Samples {
		s := Sample{Layer: ts.Layer, Head: ts.Head, Step: ts.Step, Context: ts.Context, IoU: ts.IoU,
			Sel:     Selection{Rounds: ts.Rounds, Pages: ts.Pages, Blocks: ts.Blocks, Split: ts.Split, Starts: ts.Starts},
			Quality: Quality{MassRecall: ts.MassRecall, OutputRelError: ts.OutputRelError}}
		if !ts.All {
			s.Sel.Tokens = []int32{}
			for _, sp := range ts.Tokens {
				if sp[0] < 0 || sp[1] < sp[0] || int(sp[1]) > ts.Context {
					return nil, usererr.New("--kv-replay %s: sample (layer %d, head %d, step %d): token run [%d, %d) outside the %d-token context", name, ts.Layer, ts.Head, ts.Step, sp[0], sp[1], ts.Context)
				}
				for x := sp[0]; x < sp[1]; x++ {
					s.Sel.Tokens = append(s.Sel.Tokens, x)
				}
			}
		}
		pl.Samples = append(pl.Samples, s)
	}
	return pl, nil
}
