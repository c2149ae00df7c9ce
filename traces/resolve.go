package traces

import (
	"os"
	"strings"

	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// DefaultWorkload is what `sparsesim run` simulates without --workload.
const DefaultWorkload = "resnet18"

// LoadWorkload resolves --workload: a zoo model name, or a file whose kind
// is told by its extension and header.
func LoadWorkload(ref string, p workloads.Params) (workloads.Workload, error) {
	if ref == "" {
		ref = DefaultWorkload
	}
	if m, ok := workloads.Lookup(ref); ok {
		return m.Build(p)
	}
	fi, err := os.Stat(ref)
	if err != nil {
		if _, ok := llm.Lookup(ref); ok && os.IsNotExist(err) {
			// The LLM zoo is a separate list: its models run as
			// prefill and decode phases, not as a layer list.
			return workloads.Workload{}, usererr.New("--workload %s: an LLM zoo model, which runs only as an LLM phase: sparsesim run --phase prefill, decode or generate (docs/llm.md)", ref)
		}
		if os.IsNotExist(err) {
			return workloads.Workload{}, usererr.New("--workload %s: not a zoo model (%s) and no such file", ref, strings.Join(workloads.Names(), ", "))
		}
		return workloads.Workload{}, usererr.New("--workload %s: %v", ref, err)
	}
	if fi.IsDir() {
		return workloads.Workload{}, llm.DirError(ref)
	}
	if b, err := os.ReadFile(ref); err == nil && llm.LooksLikeHFConfig(b) {
		// Like an LLM zoo name: a config.json is a model that runs as
		// LLM phases, which only --phase selects.
		return workloads.Workload{}, usererr.New("--workload %s: a Hugging Face config.json (an LLM), which runs only as an LLM phase: sparsesim run --phase prefill, decode or generate (docs/llm.md)", ref)
	}
	if IsSpAttenTrace(ref) {
		return ReadSpAttenTrace(ref)
	}
	if IsScaleSimTopology(ref) {
		return ReadScaleSimTopology(ref, p.Batch)
	}
	return workloads.Workload{}, usererr.New("--workload %s: unrecognised file type (expected a SCALE-Sim topology .csv or a SpAtten trace .csv)", ref)
}
