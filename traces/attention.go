package traces

import (
	"fmt"
	"strings"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/attention"
)

// GPT-2 runs as SpAtten ran it: summarise a 992-token context, then
// generate 32 tokens (HPCA 2021 evaluation).
const (
	gpt2Context  = 992
	gpt2Generate = 32
)

// AttentionParams turns a zoo transformer and the engine's technique
// switches into a kernel run: BERT-like models summarise seq tokens;
// GPT-2 models summarise their context and then generate.
func AttentionParams(model string, a configs.Attention, p workloads.Params) (attention.Params, error) {
	layers, heads, d, ok := workloads.TransformerShape(model)
	if !ok {
		return attention.Params{}, usererr.New("--workload %s: the attention engine runs transformer models only (%s)", model, strings.Join(transformerNames(), ", "))
	}
	ap := attention.Params{Layers: layers, Heads: heads, D: d / heads, Summarize: true,
		TokenPruning: a.TokenPruning, TokenPrune: a.TokenPruneRatio, TokenStart: 0.15,
		HeadPruning: a.HeadPruning, HeadPrune: a.HeadPruneRatio, HeadStart: 0.3,
		LocalV: a.LocalVPruning, VPrune: a.VPruneRatio,
		PQuant: a.ProgressiveQuant, MSB: a.MSBBits, LSB: a.LSBBits, FullBits: a.FullBits, Tau: a.Tau, Seed: a.Seed}
	m, _ := workloads.Lookup(model)
	ap.Context = m.DefaultSeq
	if strings.HasPrefix(model, "gpt2") {
		ap.Context, ap.Generate = gpt2Context, gpt2Generate
	}
	if p.SeqLen > 0 {
		ap.Context = p.SeqLen
	}
	return ap, nil
}

func transformerNames() []string {
	var s []string
	for _, n := range workloads.Names() {
		if _, _, _, ok := workloads.TransformerShape(n); ok {
			s = append(s, n)
		}
	}
	return s
}

// LoadFor resolves --workload for an architecture: on the attention engine
// a zoo transformer runs through the attention kernels (seeded synthetic
// activations) and becomes attention rows; everything else as LoadWorkload.
func LoadFor(cfg *configs.Config, ref string, p workloads.Params) (workloads.Workload, error) {
	if cfg.Engine == "spatten" {
		if ref == "" {
			ref = "gpt2-small"
		}
		if _, ok := workloads.Lookup(ref); ok {
			ap, err := AttentionParams(ref, cfg.Attention, p)
			if err != nil {
				return workloads.Workload{}, err
			}
			res := attention.RunModel(ap)
			return workloads.Workload{Name: fmt.Sprintf("%s(context=%d,generate=%d)", ref, ap.Context, ap.Generate),
				Source: "kernels:" + ref, Attention: res.Rows}, nil
		}
	}
	return LoadWorkload(ref, p)
}

// LoadWorkloadName checks that --workload names something the config can
// run, without building attention workloads (which run the kernels).
func LoadWorkloadName(cfg *configs.Config, ref string) (workloads.Workload, error) {
	if cfg.Engine == "spatten" {
		if _, ok := workloads.Lookup(ref); ok {
			_, err := AttentionParams(ref, cfg.Attention, workloads.Params{})
			return workloads.Workload{Name: ref}, err
		}
	}
	return LoadWorkload(ref, workloads.Params{})
}
