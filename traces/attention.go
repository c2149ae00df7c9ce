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
	// SummaryQuerySample is how many of a summarisation pass's queries
	// the kernels compute per head (evenly spaced; the row is scaled to
	// all of them). docs/spatten.md states the error this costs.
	SummaryQuerySample = 32
	// MaxBatch bounds --batch on attention workloads (each sequence is
	// a full kernel run).
	MaxBatch = 64
)

// positions is each zoo transformer's number of position embeddings: the
// longest sequence it can run (BERT 512, GPT-2 1,024 — Devlin et al. 2019,
// Radford et al. 2019; ViT-B/16 at 224×224 has exactly 197 positions).
func positions(model string) int {
	switch {
	case strings.HasPrefix(model, "bert"):
		return 512
	case strings.HasPrefix(model, "gpt2"):
		return 1024
	case strings.HasPrefix(model, "vit"):
		return 197
	}
	return 0
}

// AttentionParams turns a zoo transformer and the engine's technique
// switches into a kernel run: BERT-like models summarise seq tokens;
// GPT-2 models summarise their context and then generate.
func AttentionParams(model string, a configs.Attention, p workloads.Params) (attention.Params, error) {
	layers, heads, d, ok := workloads.TransformerShape(model)
	if !ok {
		return attention.Params{}, usererr.New("--workload %s: the attention engine runs transformer models only (%s)", model, strings.Join(transformerNames(), ", "))
	}
	ap := attention.Params{Layers: layers, Heads: heads, D: d / heads, Summarize: true,
		TokenPruning: a.TokenPruning, TokenPrune: a.TokenPruneRatio, TokenStart: a.TokenPruneStart,
		HeadPruning: a.HeadPruning, HeadPrune: a.HeadPruneRatio, HeadStart: a.HeadPruneStart,
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
	if lim := positions(model); lim > 0 && ap.Context+ap.Generate > lim {
		if ap.Generate > 0 {
			return ap, usererr.New("--seq %d: %s has %d position embeddings and the run generates %d tokens after the context, so --seq can be at most %d",
				p.SeqLen, model, lim, ap.Generate, lim-ap.Generate)
		}
		return ap, usererr.New("--seq %d: %s has %d position embeddings, so --seq can be at most %d", p.SeqLen, model, lim, lim)
	}
	ap.SampleQueries = SummaryQuerySample
	ap.QueryScale = a.QueryScale
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
			batch := max(p.Batch, 1)
			if batch > MaxBatch {
				return workloads.Workload{}, usererr.New("--batch %d: attention workloads run at most %d sequences (each is a full kernel run)", batch, MaxBatch)
			}
			// B sequences, one after the other, each on its own seeded
			// activations; iterations are numbered across them.
			var rows []workloads.AttnRow
			iters := 0
			for b := 0; b < batch; b++ {
				sp := ap
				sp.Seed = ap.Seed + int64(b)*7919
				res := attention.RunModel(sp)
				last := 0
				for _, r := range res.Rows {
					r.Iteration += iters
					last = max(last, r.Iteration+1)
					rows = append(rows, r)
				}
				iters = last
			}
			name := fmt.Sprintf("%s(context=%d,generate=%d)", ref, ap.Context, ap.Generate)
			if batch > 1 {
				name = fmt.Sprintf("%s(batch=%d,context=%d,generate=%d)", ref, batch, ap.Context, ap.Generate)
			}
			return workloads.Workload{Name: name, Source: "kernels:" + ref, Attention: rows}, nil
		}
		// A trace fixes its own sequences: --seq and --batch cannot
		// change it.
		if p.SeqLen > 0 || p.Batch > 1 {
			return workloads.Workload{}, usererr.New("--workload %s: --seq and --batch apply to zoo transformers; an attention trace fixes its own sequence lengths and count", ref)
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
