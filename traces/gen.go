package traces

import (
	"fmt"
	"io"
	"math/rand"
	"sort"
	"strings"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/internal/usererr"
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
	// Weights maps a layer name to a .npy file of its K×N weights (e.g.
	// exported from PyTorch), pruned instead of seeded data.
	Weights map[string]string
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
	used := map[string]bool{}
	for _, l := range w.Layers {
		l := l
		op := Op{Op: "gemm", Layer: &l, DType: cfg.PEArray.DType}
		p, err := cfg.LayerPattern(l.WeightOperand, l.NM)
		if err != nil {
			return h, usererr.New("layer %s: %v", l.Name, err)
		}
		if !p.Dense() && l.Kind != "update" {
			var s NMSummary
			var err error
			if file, ok := o.Weights[baseName(l.Name)]; ok && l.Phase != workloads.PhaseBackData {
				used[baseName(l.Name)] = true
				s, err = pruneFile(l, p, file)
			} else {
				s, err = pruneSummary(l, p, rng)
			}
			if err != nil {
				return h, err
			}
			op.NM = &s
		}
		if err := tw.Write(op); err != nil {
			return h, err
		}
	}
	names := make([]string, 0, len(o.Weights))
	for name := range o.Weights {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !used[name] {
			return h, usererr.New("--weights %s=%s: no N:M weight layer of that name in %s", name, o.Weights[name], o.Workload)
		}
	}
	return h, tw.Close()
}

// baseName strips a training phase suffix (conv1.fwd → conv1).
func baseName(n string) string {
	for _, suf := range []string{".fwd", ".bwd_data", ".bwd_weight", ".update"} {
		n = strings.TrimSuffix(n, suf)
	}
	return n
}

// pruneFile prunes a layer's real weights from a .npy file (K×N).
func pruneFile(l workloads.Layer, p nm.Pattern, file string) (NMSummary, error) {
	a, err := ReadNPY(file)
	if err != nil {
		return NMSummary{}, err
	}
	if a.Rows() != l.K || a.Cols() != l.N*l.Groups {
		return NMSummary{}, usererr.New("%s: shape %dx%d, layer %s needs K×N = %dx%d", file, a.Rows(), a.Cols(), l.Name, l.K, l.N*l.Groups)
	}
	m := nm.Matrix[float64]{Rows: a.Rows(), Cols: a.Cols(), Data: a.Data}
	_, mask := nm.Prune(m, p, true)
	s := NMSummary{MinPerGroup: p.M, WeightsSource: file}
	s.count(mask, m.Rows, m.Cols, p)
	return s, s.check(l, p)
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
		s.count(mask, l.K, 1, p)
	}
	return s, s.check(l, p)
}

// count adds the groups of M down each column of a rows×cols keep mask;
// only full groups bound the per-group minimum and maximum.
func (s *NMSummary) count(mask []bool, rows, cols int, p nm.Pattern) {
	for c := 0; c < cols; c++ {
		for g := 0; g < rows; g += p.M {
			kept := 0
			for i := g; i < min(g+p.M, rows); i++ {
				if mask[i*cols+c] {
					kept++
				}
			}
			s.Groups++
			s.Kept += int64(kept)
			if g+p.M <= rows {
				s.MinPerGroup, s.MaxPerGroup = min(s.MinPerGroup, kept), max(s.MaxPerGroup, kept)
			}
		}
	}
}

// check is the structure the timing model relies on: no group above N.
func (s *NMSummary) check(l workloads.Layer, p nm.Pattern) error {
	if s.MaxPerGroup > p.N {
		return fmt.Errorf("layer %s: pruning kept %d of a group, pattern %s", l.Name, s.MaxPerGroup, p)
	}
	return nil
}
