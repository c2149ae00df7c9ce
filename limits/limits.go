package limits

import (
	"fmt"
	"math"

	"github.com/sparsesim/sparsesim/arch/systolic"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/traces"
	"github.com/sparsesim/sparsesim/workloads"
)

// Limit is one bound on up-front work.
type Limit struct {
	What    string // what is counted, plural
	Flag    string // the flag that lifts it
	Default int64
	// Why says what the default buys, in wall time on one core.
	Why string
}

// The limits. Defaults keep a run under roughly a minute on one core
// (akita's serial engine runs 2–3 M events/s; a fold or attention row
// costs about ten events).
var (
	Work = Limit{What: "folds and attention rows", Flag: "--max-work", Default: 1_000_000,
		Why: "~17–32 simulation events each, a detailed-DRAM fold counts as 50; 1 M is ~30–60 s"}
	KernelMACs = Limit{What: "reference-kernel MACs", Flag: "--max-kernel-macs", Default: 100_000_000_000,
		Why: "attention workloads compute real scores on the CPU; GPT-2 small's default is 1.9e10"}
	Points = Limit{What: "sweep points", Flag: "--max-points", Default: 100_000,
		Why: "each point is a full simulation"}
	ExplainSize = Limit{What: "explain size", Flag: "--max-size", Default: 256,
		Why: "text grows with the square of the size (systolic: folds × dataflows lines)"}
)

// Check refuses n above max (max ≤ 0: the default).
func (l Limit) Check(context string, n float64, max int64) error {
	if max <= 0 {
		max = l.Default
	}
	if n > float64(max) {
		return usererr.New("%s: %s %s is above the limit of %s (%s); raise it with %s N", context, l.What, human(n), human(float64(max)), l.Why, l.Flag)
	}
	return nil
}

// human prints counts exactly when small, else in three digits.
func human(n float64) string {
	if n < 1e6 {
		return fmt.Sprintf("%.0f", n)
	}
	return fmt.Sprintf("%.3g", n)
}

// Folds counts the folds a workload's GEMM layers take on cfg's array
// with the configured dataflow and no sparsity (sparsity only shortens
// K, so this bounds the run from above) plus its attention rows, without
// planning it (planning walks every fold). Weight-update layers are
// element-wise and cheap; they are not counted.
func Folds(cfg *configs.Config, w workloads.Workload) (float64, error) {
	total := float64(len(w.Attention))
	for _, l := range w.Layers {
		if l.Phase == workloads.PhaseUpdate {
			continue
		}
		if err := l.Validate(); err != nil {
			return 0, err
		}
		s, err := systolic.Plan(cfg, l)
		if err != nil {
			return 0, err
		}
		if s.Pack > 1 {
			total += math.Ceil(float64(s.P.Groups) / float64(s.Pack))
		} else {
			total += float64(s.RowFold) * float64(s.ColFold) * float64(s.P.Groups)
		}
	}
	return total, nil
}

// DetailedWeight is what one fold counts for under the detailed DRAM
// model. Calibrated: ResNet-18 on systolic-32x32 takes 190,238 events
// (16.7 per fold) with the channel model and 18,542,855 (1,624 per fold,
// 97×) with the detailed one, at a lower event rate (1.2 s vs 238 s on a
// shared 2-core host); 50 lets that run through the default limit.
const DetailedWeight = 50

// CheckRun refuses a simulation of w on cfg above maxWork folds and rows.
func CheckRun(cfg *configs.Config, w workloads.Workload, maxWork int64) error {
	n, err := Folds(cfg, w)
	if err != nil {
		return err
	}
	if cfg.DRAM.Model == configs.DRAMDetailed {
		n *= DetailedWeight
	}
	return Work.Check(fmt.Sprintf("%s on %s", w.Name, cfg.Name), n, maxWork)
}

// AttentionMACs is the reference-kernel work of a zoo transformer on an
// attention-engine config: Q·Kᵀ and P·V over the whole (context +
// generated) length for every layer and head; 0 when cfg is not an
// attention engine or ref is not a zoo transformer.
func AttentionMACs(cfg *configs.Config, ref string, p workloads.Params) (float64, error) {
	if cfg.Engine != "spatten" {
		return 0, nil
	}
	if ref == "" {
		ref = "gpt2-small"
	}
	if _, ok := workloads.Lookup(ref); !ok {
		return 0, nil
	}
	ap, err := traces.AttentionParams(ref, cfg.Attention, p)
	if err != nil {
		return 0, err
	}
	n := float64(ap.Context + ap.Generate)
	return 2 * float64(ap.Layers) * float64(ap.Heads) * float64(ap.D) * n * n, nil
}

// CheckKernels refuses building an attention workload above maxMACs.
func CheckKernels(cfg *configs.Config, ref string, p workloads.Params, maxMACs int64) error {
	n, err := AttentionMACs(cfg, ref, p)
	if err != nil {
		return err
	}
	return KernelMACs.Check(fmt.Sprintf("--workload %s on %s", ref, cfg.Name), n, maxMACs)
}
