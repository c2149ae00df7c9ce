package rtl

import (
	"fmt"
	"math/bits"
	"strings"

	"github.com/sparsesim/sparsesim/arch/engines"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/mapping"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

// Array co-simulation limits, checked before any work: the array is
// generated per size (verilator build time grows with R·C), the memories of
// the bench are sized to the GEMM, and the int8 products must not overflow
// the 32-bit partial sums (127·127·K < 2³¹).
const (
	MaxCosimArray = 64
	MaxCosimK     = 65536
	MaxCosimWords = 1 << 22 // activation or output words in the bench memories
	MaxCosimFolds = 1 << 16
	cosimW        = 8  // int8 operands, the accelerators' dtype
	cosimACC      = 32 // partial-sum width
	schedFields   = 9  // 32-bit fields per schedule entry (see sa_ctrl.v)
)

// CosimSpec is one array co-simulation: a GEMM (M×K)·(K×N) on an R×C
// weight-stationary array with N:M weights (dense when Pattern is dense).
type CosimSpec struct {
	Rows, Cols int
	Pattern    nm.Pattern
	M, N, K    int
	Seed       int64
	// WeightBuffers is pe_array.weight_buffers: 1 (0 means 1) runs the
	// single-register array, 2 the shadow-weight array (sa_ctrl_db).
	WeightBuffers int
}

// weightBuffers is WeightBuffers with 0 read as the default 1.
func (s CosimSpec) weightBuffers() int { return max(1, s.WeightBuffers) }

// Check refuses shapes the bench cannot hold, naming the limit.
func (s CosimSpec) Check() error {
	switch {
	case s.WeightBuffers < 0 || s.WeightBuffers > 2:
		return fmt.Errorf("weight buffers %d: the array has 1 or 2", s.WeightBuffers)
	case s.Rows < 1 || s.Cols < 1 || s.Rows > MaxCosimArray || s.Cols > MaxCosimArray:
		return fmt.Errorf("array %dx%d: rows and cols must be 1 to %d", s.Rows, s.Cols, MaxCosimArray)
	case s.M < 1 || s.N < 1 || s.K < 1:
		return fmt.Errorf("GEMM %dx%dx%d: every dimension must be at least 1", s.M, s.N, s.K)
	case s.K > MaxCosimK:
		return fmt.Errorf("K=%d exceeds %d (int8 products must fit the 32-bit partial sums)", s.K, MaxCosimK)
	case !s.Pattern.Dense() && s.Pattern.M > 16:
		return fmt.Errorf("pattern %s: the array's index-driven select supports M up to 16", s.Pattern)
	}
	g := s.groups()
	if int64(s.M)*int64(g) > MaxCosimWords || int64(s.M)*int64(s.N) > MaxCosimWords {
		return fmt.Errorf("GEMM %dx%dx%d needs %d activation and %d output words; the bench holds %d", s.M, s.N, s.K,
			int64(s.M)*int64(g), int64(s.M)*int64(s.N), MaxCosimWords)
	}
	kept := s.Pattern.Kept(s.K)
	folds := int64((kept+s.Rows-1)/s.Rows) * int64((s.N+s.Cols-1)/s.Cols)
	if folds > MaxCosimFolds {
		return fmt.Errorf("GEMM %dx%dx%d on %dx%d takes %d folds; the bench holds %d", s.M, s.N, s.K, s.Rows, s.Cols, folds, MaxCosimFolds)
	}
	return nil
}

// window is the activation window each PE selects from: M, or 1 when dense.
func (s CosimSpec) window() int {
	if s.Pattern.Dense() {
		return 1
	}
	return s.Pattern.M
}

// keptPerGroup is N of N:M, 1 when dense.
func (s CosimSpec) keptPerGroup() int {
	if s.Pattern.Dense() {
		return 1
	}
	return s.Pattern.N
}

// groups is the activation words per stream step: groups of M along K.
func (s CosimSpec) groups() int { return (s.K + s.window() - 1) / s.window() }

// indexBits is the index width the PE stores (0 when dense).
func (s CosimSpec) indexBits() int {
	if s.Pattern.Dense() {
		return 0
	}
	return max(1, nm.CeilLog2(s.Pattern.M))
}

// ArrayParams are the Verilog parameters of the bench, the key of a build.
type ArrayParams struct {
	R, C, M, NN, W, IW, ACC int
	WB                      int // weight buffers per PE (1 or 2)
	SD, WD, AD, OD          int // memory depths (powers of two)
}

func pow2AtLeast(n int) int {
	n = max(n, 1024)
	return 1 << bits.Len(uint(n-1))
}

// List renders the parameters in a fixed order as NAME=value.
func (p ArrayParams) List() []string {
	return []string{
		fmt.Sprintf("R=%d", p.R), fmt.Sprintf("C=%d", p.C), fmt.Sprintf("M=%d", p.M), fmt.Sprintf("NN=%d", p.NN),
		fmt.Sprintf("W=%d", p.W), fmt.Sprintf("IW=%d", p.IW), fmt.Sprintf("ACC=%d", p.ACC), fmt.Sprintf("WB=%d", p.WB),
		fmt.Sprintf("SD=%d", p.SD), fmt.Sprintf("WD=%d", p.WD), fmt.Sprintf("AD=%d", p.AD), fmt.Sprintf("OD=%d", p.OD),
	}
}

// Images are the memory images and the expected result of one
// co-simulation.
type Images struct {
	Params ArrayParams
	// Sched, Weights and Acts are $readmemh text, one word a line.
	Sched, Weights, Acts string
	NSched, NW, NA, NO   int
	// Want is the Go kernels' M×N result, row-major.
	Want []int64
	// ScheduleCycles is, with one weight buffer, Σ Fold.Cycles over the
	// mapper's folds (dataflow.FoldCycles: t + r + c − 2 + r per fold);
	// with two, ShadowScheduleCycles of the folds' stream steps.
	ScheduleCycles int64
	Folds          int
}

// hexWord packs fields (value, width in bits), least significant first, into
// a hex word of ceil(total/4) digits.
type hexWord struct {
	words []uint64
	bit   int
}

func (h *hexWord) put(v uint64, width int) {
	v &= (1<<width - 1)
	for width > 0 {
		if h.bit/64 >= len(h.words) {
			h.words = append(h.words, 0)
		}
		off := h.bit % 64
		h.words[h.bit/64] |= v << off
		take := min(width, 64-off)
		v >>= take
		width -= take
		h.bit += take
	}
}

func (h *hexWord) String(totalBits int) string {
	for len(h.words)*64 < totalBits {
		h.words = append(h.words, 0)
	}
	digits := (totalBits + 3) / 4
	var sb strings.Builder
	for d := digits - 1; d >= 0; d-- {
		nib := h.words[d*4/64] >> (d * 4 % 64) & 0xf
		sb.WriteByte("0123456789abcdef"[nib])
	}
	return sb.String()
}

// Operands are the GEMM's operands for a spec: int8-range activations
// (M×K) and weights (K×N), the weights pruned to the pattern along K with
// the simulator's nm.Prune.
func (s CosimSpec) Operands() (x, w nm.Matrix[int64]) {
	x = nm.Random[int64](s.M, s.K, s.Seed, 127)
	w = nm.Random[int64](s.K, s.N, s.Seed+1, 127)
	if !s.Pattern.Dense() {
		w, _ = nm.Prune(w, s.Pattern, true)
	}
	return x, w
}

// BuildImages maps the GEMM with mapping.New (the mapper the simulator
// uses), writes one schedule entry per fold, the weight tiles in preload
// order and the activations as windows of M, and computes the expected
// result with the Go kernels (nm.SparseGEMM on the compressed weights, or
// nm.DenseGEMMRef).
func BuildImages(s CosimSpec) (*Images, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	df, _ := dataflow.Lookup("ws")
	huge := int64(1) << 40 // buffers play no part in the array's own cycles
	sch, err := mapping.New(df, mapping.Array{Rows: s.Rows, Cols: s.Cols, WordBytes: 1, SlotBytes: [3]int64{huge, huge, huge}},
		mapping.Problem{M: s.M, N: s.N, K: s.K, Groups: 1, Sparsity: s.Pattern})
	if err != nil {
		return nil, err
	}
	x, w := s.Operands()
	var comp nm.Compressed[int64]
	im := &Images{Folds: sch.NumFolds()}
	if s.Pattern.Dense() {
		im.Want = nm.DenseGEMMRef(x, w).Data
	} else {
		if comp, err = nm.Compress(w, s.Pattern); err != nil {
			return nil, err
		}
		im.Want = nm.SparseGEMM(x, comp).Data
	}
	win, nn, iw, g := s.window(), s.keptPerGroup(), s.indexBits(), s.groups()
	ww := cosimW + iw
	weight := func(k, n int) (val, idx int64) {
		if s.Pattern.Dense() {
			return w.At(k, n), 0
		}
		slot := n*comp.Groups*nn + k // kept row k is slot k%N of group k/N
		return comp.Values[slot], int64(comp.Index[slot])
	}
	var sched, wts, acts strings.Builder
	steps := make([]int, im.Folds)
	for i := 0; i < im.Folds; i++ {
		f := sch.Fold(i)
		im.ScheduleCycles += f.Cycles
		steps[i] = s.M // the schedule entry's t: the fold streams the whole time dimension
		k0, n0 := f.Row*s.Rows, f.Col*s.Cols
		var flags uint64
		if i == im.Folds-1 {
			flags |= 1
		}
		if f.Row > 0 {
			flags |= 2
		}
		var e hexWord
		for _, v := range []int{int(flags), i * s.Rows, k0, n0, f.UsedRows, f.UsedCols, s.M, g, s.N} {
			e.put(uint64(v), 32)
		}
		sched.WriteString(e.String(schedFields*32) + "\n")
		for p := 0; p < s.Rows; p++ {
			r := s.Rows - 1 - p // the first word shifted in ends in the bottom row
			var word hexWord
			for c := 0; c < s.Cols; c++ {
				var val, idx int64
				if r < f.UsedRows && c < f.UsedCols {
					val, idx = weight(k0+r, n0+c)
				}
				if iw > 0 {
					word.put(uint64(idx), iw)
				}
				word.put(uint64(val), cosimW)
			}
			wts.WriteString(word.String(s.Cols*ww) + "\n")
		}
	}
	for m := 0; m < s.M; m++ {
		for gi := 0; gi < g; gi++ {
			var word hexWord
			for j := 0; j < win; j++ {
				var v int64
				if k := gi*win + j; k < s.K {
					v = x.At(m, k)
				}
				word.put(uint64(v), cosimW)
			}
			acts.WriteString(word.String(win*cosimW) + "\n")
		}
	}
	if s.weightBuffers() == 2 {
		im.ScheduleCycles = ShadowScheduleCycles(s.Rows, s.Cols, steps)
	}
	im.Sched, im.Weights, im.Acts = sched.String(), wts.String(), acts.String()
	im.NSched, im.NW, im.NA, im.NO = im.Folds, im.Folds*s.Rows, s.M*g, s.M*s.N
	im.Params = ArrayParams{R: s.Rows, C: s.Cols, M: win, NN: nn, W: cosimW, IW: max(1, iw), ACC: cosimACC,
		WB: s.weightBuffers(), SD: pow2AtLeast(im.NSched), WD: pow2AtLeast(im.NW), AD: pow2AtLeast(im.NA), OD: pow2AtLeast(im.NO)}
	return im, nil
}

// ModelCycles runs the simulator itself (engines.Simulate, the akita model)
// on the GEMM as a one-layer workload with the ideal DRAM, on the same
// array, pattern and weight buffers, and returns the layer's compute cycles and its
// elapsed cycles.
func ModelCycles(s CosimSpec) (compute, elapsed int64, err error) {
	sets := []string{
		fmt.Sprintf("pe_array.rows=%d", s.Rows), fmt.Sprintf("pe_array.cols=%d", s.Cols),
		"dataflow=ws", "dram.model=ideal", "sparsity.nm=" + s.Pattern.String(),
		fmt.Sprintf("pe_array.weight_buffers=%d", s.weightBuffers()),
		// The RTL array runs BuildImages' schedule (mapping.New's row-major
		// fold order, time whole): the model runs the same, not a search.
		"mapping.search=rowmajor",
	}
	cfg, err := configs.Load(configs.DefaultName, sets)
	if err != nil {
		return 0, 0, err
	}
	w := workloads.Workload{Name: "cosim", Layers: []workloads.Layer{workloads.GEMM("gemm", s.M, s.N, s.K)}}
	res, err := engines.Simulate(cfg, w)
	if err != nil {
		return 0, 0, err
	}
	if len(res.Layers) != 1 {
		return 0, 0, fmt.Errorf("model returned %d layers for one GEMM", len(res.Layers))
	}
	return res.Layers[0].ComputeCycles, res.Layers[0].Elapsed, nil
}
