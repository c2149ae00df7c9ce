package sweep

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/internal/usererr"
)

// Run axes are grid keys that vary what a point runs rather than the
// architecture: the workload, and the request sizes (--batch, --prompt,
// --gen). They are not config paths, so --set cannot carry them; a point
// applies them to its Spec (Spec.At) before it runs. Batch and context
// length are the main axes of an LLM study, and a workload axis lets one
// sweep compare models on the same grid.
const (
	AxisWorkload = "workload"
	AxisBatch    = "batch"
	AxisPrompt   = "prompt"
	AxisGen      = "gen"
)

// runAxes says, for each run axis, whether it applies to GEMM/model points
// and to LLM points (--phase decode, generate).
var runAxes = map[string]struct{ model, llm bool }{
	AxisWorkload: {true, true},
	AxisBatch:    {true, true},
	AxisPrompt:   {false, true},
	AxisGen:      {false, true},
}

// IsRunAxis reports whether key is a run axis, not a config path.
func IsRunAxis(key string) bool {
	_, ok := runAxes[key]
	return ok
}

// CheckAxis refuses an axis the sweep's kind of point cannot apply: a run
// axis of the other kind (prompt= on a CNN sweep, which would otherwise
// give identical rows), a run axis whose values are not positive integers,
// or a key that is neither a run axis nor a config path.
func CheckAxis(a Axis, phase string) error {
	r, ok := runAxes[a.Key]
	if !ok {
		if err := configs.CheckSetPath(a.Key); err != nil {
			return usererr.New("--grid %s=%s: %v (besides config fields: workload, batch, and for LLM phases prompt, gen)", a.Key, strings.Join(a.Values, ","), err)
		}
		return nil
	}
	llm := IsLLMPhase(phase)
	if llm && !r.llm || !llm && !r.model {
		return usererr.New("--grid %s: applies to LLM sweeps only (--phase decode or generate); --phase %s does not read it", a.Key, phase)
	}
	if a.Key == AxisWorkload {
		return nil
	}
	for _, v := range a.Values {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return usererr.New("--grid %s=%s: %s must be a positive integer, got %q", a.Key, strings.Join(a.Values, ","), a.Key, v)
		}
	}
	return nil
}

// At is the spec point p runs: its run axes applied to the spec's fields,
// its config axes appended to the spec's --set overrides. Both the local
// and the sharded (Slurm) paths go through it, so a point is the same
// simulation wherever it runs.
func (s Spec) At(p Point) (Spec, error) {
	out := s
	out.Sets = append([]string(nil), s.Sets...)
	for _, kv := range p.Params {
		if !IsRunAxis(kv.Key) {
			out.Sets = append(out.Sets, kv.Key+"="+kv.Value)
			continue
		}
		if kv.Key == AxisWorkload {
			out.Workload = kv.Value
			continue
		}
		n, err := strconv.Atoi(kv.Value)
		if err != nil || n < 1 {
			return out, fmt.Errorf("%s=%s: not a positive integer", kv.Key, kv.Value)
		}
		switch kv.Key {
		case AxisBatch:
			out.Batch = n
		case AxisPrompt:
			out.Prompt = n
		case AxisGen:
			out.Gen = n
		}
	}
	return out, nil
}
