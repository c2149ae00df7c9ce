package traces

import (
	"fmt"
	"io"
	"math/rand"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/attention"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

// GenOptions say what to trace.
type GenOptions struct {
	Workload  string
	Params    workloads.Params
	Training  bool
	Seed      int64
	Generator string
}

// Generate runs the workload's reference kernels on seeded data and writes
// the trace: for a systolic config, each layer with its N:M summary (the
// weights are really pruned, column by column, by nm.Prune); for an
// attention engine, the rows attention.RunModel records (kept tokens and
// heads, LSB refetches, top-k sizes and rounds).
func Generate(cfg *configs.Config, o GenOptions, out io.Writer) (Header, error) {
	h := Header{Generator: o.Generator, Seed: o.Seed, Workload: o.Workload, Engine: cfg.Engine}
	if cfg.Engine == "spatten" {
		ap, err := AttentionParams(o.Workload, cfg.Attention, o.Params)
		if err != nil {
			return h, err
		}
		ap.Seed = o.Seed
		h.Source = "kernels:" + o.Workload
		h.Shapes = map[string]int{"layers": ap.Layers, "heads": ap.Heads, "head_dim": ap.D, "context": ap.Context, "generate": ap.Generate}
		tw, err := NewWriter(out, h)
		if err != nil {
			return h, err
		}
		for _, r := range attention.RunModel(ap).Rows {
			r := r
			if err := tw.Write(Op{Op: "attn", Attn: &r}); err != nil {
				return h, err
			}
		}
		return h, tw.Close()
	}
	w, err := LoadWorkload(o.Workload, o.Params)
	if err != nil {
		return h, err
	}
	if o.Training {
		w = workloads.Training(w)
	}
	h.Source = w.Source
	h.Shapes = map[string]int{"layers": len(w.Layers), "batch": max(o.Params.Batch, 1)}
	tw, err := NewWriter(out, h)
	if err != nil {
		return h, err
	}
	rng := rand.New(rand.NewSource(o.Seed))
	for _, l := range w.Layers {
		l := l
		op := Op{Op: "gemm", Layer: &l, DType: cfg.PEArray.DType}
		if p := layerPattern(cfg, l); !p.Dense() && l.Kind != "update" {
			s, err := pruneSummary(l, p, rng)
			if err != nil {
				return h, err
			}
			op.NM = &s
		}
		if err := tw.Write(op); err != nil {
			return h, err
		}
	}
	return h, tw.Close()
}

func layerPattern(cfg *configs.Config, l workloads.Layer) nm.Pattern {
	if !l.WeightOperand {
		return nm.Pattern{}
	}
	p := cfg.Pattern()
	if l.NM != "" {
		p, _ = nm.Parse(l.NM)
	}
	return cfg.Executable(p)
}

// pruneSummary prunes seeded Gaussian weights of the layer column by column
// (K weights at a time, so even VGG's fc6 stays small in memory) and counts
// what each group kept.
func pruneSummary(l workloads.Layer, p nm.Pattern, rng *rand.Rand) (NMSummary, error) {
	s := NMSummary{MinPerGroup: p.M, WeightsSource: "seeded Gaussian"}
	col := nm.NewMatrix[float64](l.K, 1)
	for c := 0; c < l.N*l.Groups; c++ {
		for i := range col.Data {
			col.Data[i] = rng.NormFloat64()
		}
		_, mask := nm.Prune(col, p, true)
		for g := 0; g < l.K; g += p.M {
			kept := 0
			for i := g; i < min(g+p.M, l.K); i++ {
				if mask[i] {
					kept++
				}
			}
			s.Groups++
			s.Kept += int64(kept)
			if g+p.M <= l.K { // full groups bound the structure
				s.MinPerGroup = min(s.MinPerGroup, kept)
				s.MaxPerGroup = max(s.MaxPerGroup, kept)
			}
		}
	}
	if s.MaxPerGroup > p.N {
		return s, fmt.Errorf("layer %s: pruning kept %d of a group, pattern %s", l.Name, s.MaxPerGroup, p)
	}
	return s, nil
}
