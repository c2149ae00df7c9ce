package systolic

import (
	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/mapping"
	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/workloads"
)

// layerTensors are the DRAM tensors of one layer and how GEMM tiles map
// onto them: the array sees im2col (M×K)·(K×N); DRAM holds the real
// input tensor, the (compressed) weights and the output.
type layerTensors struct {
	t       [arch.NumTensorKinds]memory.Tensor
	conv    *memory.Conv
	groupK  int64 // dense K per group (im2col columns)
	keptK   int64 // K as the array sees it (compressed)
	groupN  int64
	filterK int64 // K rows of the filter tensor in DRAM
	meta    bool  // index metadata travels with the filter
	// windows caches conv input windows: a window is the same for every
	// column fold of a row fold and time range, and costly to derive.
	windows map[[5]int64]memory.Region
	touched int64 // touchedInput, once computed
}

// newLayerTensors lays out layer li's tensors: the input (the real conv
// input when the geometry is known, else the M×K operand), the weights as
// DRAM holds them (compressed K rows unless compressed only on chip) with
// their index metadata, the output and its partial sums.
func newLayerTensors(cfg *configs.Config, li int, l workloads.Layer, s *mapping.Schedule) layerTensors {
	wb := 8 * cfg.WordBytes()
	g := int64(l.Groups)
	lt := layerTensors{groupK: int64(l.K), groupN: int64(l.N), keptK: int64(s.KeptK()), filterK: int64(l.K)}
	if !s.P.FilterDenseInDRAM {
		lt.filterK = lt.keptK
		lt.meta = s.MetaBits() > 0
	}
	lt.setIO(cfg, li, l)
	fb := wb
	if l.FilterBits > 0 {
		fb = l.FilterBits
	}
	lt.set(li, arch.TensorFilter, l.Name+".filter", lt.filterK, lt.groupN*g, fb)
	lt.set(li, arch.TensorMeta, l.Name+".metadata", lt.filterK, lt.groupN*g, max(s.MetaBits(), 1))
	lt.set(li, arch.TensorPsum, l.Name+".psum", int64(l.M), lt.groupN*g, cfg.AccBits())
	lt.set(li, arch.TensorExtra, l.Name+".compressed", 1, 1, 8)
	return lt
}

// setIO lays out GEMM layer li's input and output, which do not depend on
// its schedule (keepsInput compares them before any schedule is chosen).
func (lt *layerTensors) setIO(cfg *configs.Config, li int, l workloads.Layer) {
	g := int64(l.Groups)
	inPixels, inChannels := int64(l.M), int64(l.K)*g
	if c := l.Conv; c != nil {
		lt.conv = &memory.Conv{Batch: c.Batch, InH: c.InH, InW: c.InW, Channels: c.Channels, FilterH: c.FilterH, FilterW: c.FilterW,
			Stride: c.Stride, PadH: c.Pad, PadW: c.Pad, OutH: c.OutH, OutW: c.OutW, GroupChannels: c.Channels / l.Groups}
		inPixels, inChannels = lt.conv.Pixels(), int64(c.Channels)
	}
	lt.set(li, arch.TensorIfmap, l.Name+".ifmap", inPixels, inChannels, 8*cfg.WordBytes())
	ob := cfg.OutBits()
	if l.OutBits > 0 {
		ob = l.OutBits
	}
	lt.set(li, arch.TensorOfmap, l.Name+".ofmap", int64(l.M), int64(l.N)*g, ob)
}

// set lays out tensor kind of layer li: its ID is unique per layer and
// kind (buffers key residency on it) and its address range disjoint from
// the layer's other tensors.
func (lt *layerTensors) set(li, kind int, name string, pixels, channels int64, bits int) {
	lt.t[kind] = memory.Tensor{ID: li*arch.NumTensorKinds + kind, Layer: li, Kind: kind, Name: name,
		Pixels: pixels, Channels: channels, ElemBits: bits, Base: uint64(kind) << 36}
}

// denseK maps the array's (compressed) K index to the dense activation
// column: activations keep every group of M, so kept column k sits in
// dense column k·K/kept. The map partitions dense K across K tiles.
func (lt *layerTensors) denseK(k int64) int64 {
	if k >= lt.keptK {
		return lt.groupK
	}
	return k * lt.groupK / lt.keptK
}

func (lt *layerTensors) filterRow(k int64) int64 {
	if lt.filterK == lt.keptK {
		return k
	}
	return lt.denseK(k)
}

func (lt *layerTensors) ifmapRegion(g int, m0, m1, k0, k1 int64) memory.Region {
	dk0, dk1 := lt.denseK(k0), lt.denseK(k1)
	if lt.conv != nil {
		key := [5]int64{int64(g), m0, m1, dk0, dk1}
		if r, ok := lt.windows[key]; ok {
			return r
		}
		if lt.windows == nil || len(lt.windows) > 1<<12 {
			lt.windows = map[[5]int64]memory.Region{}
		}
		r := lt.conv.Window(g, m0, m1, dk0, dk1)
		lt.windows[key] = r
		return r
	}
	return memory.Box(m0, m1, int64(g)*lt.groupK+dk0, int64(g)*lt.groupK+dk1)
}

func (lt *layerTensors) filterRegion(g int, k0, k1, n0, n1 int64) memory.Region {
	return memory.Box(lt.filterRow(k0), lt.filterRow(k1), int64(g)*lt.groupN+n0, int64(g)*lt.groupN+n1)
}

func (lt *layerTensors) outRegion(g int, m0, m1, n0, n1 int64) memory.Region {
	return memory.Box(m0, m1, int64(g)*lt.groupN+n0, int64(g)*lt.groupN+n1)
}

// touchedInput is the input bytes the layer's computation reads: the
// whole operand for a GEMM; for a convolution the union of every output's
// windows, which a stride larger than the filter (a 1×1 stride-2
// downsample reads a quarter of its input) leaves short of the tensor.
func (lt *layerTensors) touchedInput() int64 {
	in := lt.t[arch.TensorIfmap]
	if lt.conv == nil {
		return in.Size()
	}
	if lt.touched == 0 {
		cv := *lt.conv
		m := int64(cv.Batch) * int64(cv.OutH) * int64(cv.OutW)
		var r memory.Region
		for g := range cv.Channels / max(1, cv.GroupChannels) {
			r = memory.Union(r, cv.Window(g, 0, m, 0, lt.groupK))
		}
		lt.touched = in.Bytes(r.Elems())
	}
	return lt.touched
}

// compulsory is each tensor once: the input the layer touches, weights
// (+ metadata), output.
func (lt *layerTensors) compulsory() (read, write int64) {
	read = lt.touchedInput() + lt.t[arch.TensorFilter].Size()
	if lt.meta {
		read += lt.t[arch.TensorMeta].Size()
	}
	return read, lt.t[arch.TensorOfmap].Size()
}

// access is one operand request of a step.
type access struct {
	kind int
	r    memory.Region
}

// step is a slice of a fold along its streamed dimension: the array
// computes it once its operands are on chip.
type step struct {
	fold        int
	firstOfFold bool
	cycles      int64
	macs        int64
	sramReads   [3]int64
	sramWrites  [3]int64
	reads       []access // ifmap / filter (+ metadata) regions to have on chip
	hasOut      bool
	out         memory.Region // output region the step adds to
	prior       bool          // earlier K folds contributed to out
	final       bool          // out is complete after this step
	extraWrite  int64         // bytes written besides out (update's compressed weights)
	// stream is the steps streamed (cycles without preload or drain);
	// lastOfFold: the fold drains after it; fixed: cycles is the whole
	// time (an element-wise pass, no preload or drain).
	stream     int64
	lastOfFold bool
	fixed      bool
	// scoresOut and scoresIn (tile + 1, 0: none) tie a fused attention's
	// P·V to its tile's Q·Kᵀ: the step that makes the scores, and the one
	// that waits for them to leave the array.
	scoresOut, scoresIn int
	// portBytes are the operand bytes a unit's crossbar port carries in
	// for the step, outBytes the outputs it sends back.
	portBytes, outBytes int64
}

// chunkLen is the length of a streamed chunk: the largest that keeps every
// operand a step streams within one buffer slot, bounded by the im2col
// size (never below the real footprint). Stationary tiles must fit too.
func chunkLen(cfg *configs.Config, s *mapping.Schedule) (int64, error) {
	wb := int64(cfg.WordBytes())
	acc := int64(cfg.AccBits())
	out := int64(cfg.OutBits())
	df := s.DF
	rows, cols := int64(s.Arr.Rows), int64(s.Arr.Cols)
	slot := s.Arr.SlotBytes
	names := [3]string{"buffers.ifmap_kb", "buffers.filter_kb", "buffers.ofmap_kb"}
	// Bytes per unit of chunk length, and fixed bytes, per buffer.
	var per, fixed [3]int64
	// Dense activation columns behind a K tile, with one column of slack
	// for the kept→dense index rounding.
	kRows := int64(s.StoredK(int(min(rows, int64(s.KeptK()))))) + 1
	wide := max(acc, out)
	switch df.TimeDim {
	case dataflow.M: // ws: filter stationary; ifmap and psums stream along M
		fixed[dataflow.Filter] = rows * cols * wb
		per[dataflow.Ifmap] = kRows * wb
		per[dataflow.Ofmap] = (cols*wide + 7) / 8
	case dataflow.K: // os: outputs stationary; both inputs stream along K
		kept := int64(max(1, s.KeptK()))
		per[dataflow.Ifmap] = (rows*wb*int64(s.KDense()) + kept - 1) / kept
		fixed[dataflow.Ifmap] = rows * wb
		per[dataflow.Filter] = cols * wb
		fixed[dataflow.Ofmap] = (rows*cols*wide + 7) / 8
	case dataflow.N: // is: ifmap stationary; filter and psums stream along N
		fixed[dataflow.Ifmap] = kRows * cols * wb
		per[dataflow.Filter] = rows * wb
		per[dataflow.Ofmap] = (cols*wide + 7) / 8
	}
	length := int64(s.TimeTile)
	for o := range 3 {
		avail := slot[o] - fixed[o]
		if avail < 0 || (per[o] > 0 && avail < per[o]) {
			return 0, usererr.New("%s: a buffer slot of %d bytes cannot hold one step of layer tiles (%d bytes stationary + %d bytes per streamed row); raise %s",
				names[o], slot[o], fixed[o], per[o], names[o])
		}
		if per[o] > 0 {
			length = min(length, avail/per[o])
		}
	}
	// Event budget: at most maxStepsPerFold steps per fold. A step longer
	// than a slot streams through the buffer (it is not kept for reuse).
	total := int64(s.TimeTile)
	return max(1, length, (total+maxStepsPerFold-1)/maxStepsPerFold), nil
}

// maxStepsPerFold bounds the events a fold costs (docs/memory.md).
const maxStepsPerFold = 16

// stepper walks a layer's steps in execution order.
type stepper interface {
	next() (step, bool)
}

// foldStepper cuts each fold of a GEMM schedule into chunks.
type foldStepper struct {
	s     *mapping.Schedule
	lt    *layerTensors
	chunk int64
	fold  int
	off   int64 // start of the next chunk, relative to the fold's first step
}

func newFoldStepper(cfg *configs.Config, s *mapping.Schedule, lt *layerTensors) (*foldStepper, error) {
	c, err := chunkLen(cfg, s)
	if err != nil {
		return nil, err
	}
	return &foldStepper{s: s, lt: lt, chunk: c}, nil
}

func (fs *foldStepper) next() (step, bool) {
	s := fs.s
	if fs.fold >= s.NumFolds() {
		return step{}, false
	}
	f := s.Fold(fs.fold)
	df := s.DF
	end := int64(f.T1)
	t0 := int64(f.T0) + fs.off
	t1 := min(end, t0+fs.chunk)
	first := fs.off == 0
	st := step{fold: fs.fold, firstOfFold: first, cycles: t1 - t0, stream: t1 - t0, lastOfFold: t1 == end}
	st.portBytes, st.outBytes = fs.portBytes(f, first, t1-t0)
	if first {
		st.sramReads, st.sramWrites = f.SRAMReads, f.SRAMWrites
		if df.Preloads() {
			st.cycles += int64(s.Arr.Rows)
		}
	}
	last := t1 == end
	if last {
		st.cycles += int64(s.Arr.Rows + s.Arr.Cols - 2)
		fs.fold++
		fs.off = 0
	} else {
		fs.off = t1 - int64(f.T0)
	}
	groups := 1
	usedR, usedC := f.UsedRows, f.UsedCols
	if s.Pack > 1 { // Pack groups' single-fold tiles on the diagonal
		groups = min(s.Pack, s.P.Groups-f.Group)
		usedR, usedC = usedR/groups, usedC/groups
	}
	st.macs = int64(usedR) * int64(usedC) * (t1 - t0) * int64(groups)
	// Ranges of M, N, K this step covers, per group of the pack.
	rng := func(d dataflow.Dim) (int64, int64) {
		switch d {
		case df.RowDim:
			lo := int64(f.Row * s.Arr.Rows)
			return lo, lo + int64(usedR)
		case df.ColDim:
			lo := int64(f.Col * s.Arr.Cols)
			return lo, lo + int64(usedC)
		}
		return t0, t1
	}
	m0, m1 := rng(dataflow.M)
	n0, n1 := rng(dataflow.N)
	k0, k1 := rng(dataflow.K)
	stationary := df.Stationary()
	var in, filt, out memory.Region
	for gi := 0; gi < groups; gi++ {
		g := f.Group + gi
		if stationary != dataflow.Ifmap || first {
			in = memory.Union(in, fs.lt.ifmapRegion(g, m0, m1, k0, k1))
		}
		if stationary != dataflow.Filter || first {
			filt = memory.Union(filt, fs.lt.filterRegion(g, k0, k1, n0, n1))
		}
		out = memory.Union(out, fs.lt.outRegion(g, m0, m1, n0, n1))
	}
	if !in.Empty() && !s.P.SharedFetch[dataflow.Ifmap] {
		st.reads = append(st.reads, access{kind: arch.TensorIfmap, r: in})
	}
	if !filt.Empty() && !s.P.SharedFetch[dataflow.Filter] {
		st.reads = append(st.reads, access{kind: arch.TensorFilter, r: filt})
		if fs.lt.meta {
			st.reads = append(st.reads, access{kind: arch.TensorMeta, r: filt})
		}
	}
	// Outputs: with K across the rows every chunk adds to its outputs;
	// with K streamed (os) the fold's outputs leave at its end. Prior and
	// final come from the loop nest (mapping.Fold): a K fold or K tile
	// after the first adds to partial sums, the last completes them.
	if df.SpatialReduction() || last {
		st.hasOut = true
		st.out = out
		st.prior = f.Prior && !s.P.SharedFetch[dataflow.Ofmap]
		st.final = f.Final
	}
	return st, true
}

// portBytes splits a fold's buffer reads and writes over its chunks: the
// stationary tile travels with the first, streamed operands and outputs
// in proportion to the chunk's steps.
func (fs *foldStepper) portBytes(f mapping.Fold, first bool, n int64) (in, out int64) {
	wb := int64(fs.s.Arr.WordBytes)
	share := func(words int64) int64 { return words * n / max(1, int64(f.T1-f.T0)) }
	for _, o := range []dataflow.Operand{dataflow.Ifmap, dataflow.Filter} {
		switch {
		case o != fs.s.DF.Stationary():
			in += share(f.SRAMReads[o]) * wb
		case first:
			in += f.SRAMReads[o] * wb
		}
	}
	return in, share(f.SRAMWrites[dataflow.Ofmap]) * int64(max(1, fs.s.Arr.PsumBytes))
}

// elementwiseStepper walks an element-wise pass (the weight update): each
// chunk reads W and dW and writes W.
type elementwiseStepper struct {
	e     *mapping.Elementwise
	lt    *layerTensors
	chunk int
}

func (es *elementwiseStepper) next() (step, bool) {
	if es.chunk >= es.e.NumFolds() {
		return step{}, false
	}
	f := es.e.Fold(es.chunk)
	per := es.e.ChunkElems()
	lo := int64(es.chunk) * per
	hi := lo + f.MACs
	st := step{fold: es.chunk, firstOfFold: true, cycles: f.Cycles, fixed: true, lastOfFold: true, macs: f.MACs,
		sramReads: f.SRAMReads, sramWrites: f.SRAMWrites, hasOut: true, final: true,
		out: memory.Box(lo, hi, 0, 1)}
	st.reads = append(st.reads, access{kind: arch.TensorIfmap, r: memory.Box(lo, hi, 0, 1)})
	if es.e.ReadsPerElem > 1 {
		st.reads = append(st.reads, access{kind: arch.TensorFilter, r: memory.Box(lo, hi, 0, int64(es.e.ReadsPerElem-1))})
	}
	if f.LastOfGroup {
		st.extraWrite = es.e.ExtraWriteBytes
	}
	es.chunk++
	return st, true
}

// elementwiseTensors lays out an update's tensors: W (elements × 1),
// dW (elements × reads−1) and W written back.
func elementwiseTensors(cfg *configs.Config, li int, l workloads.Layer, e *mapping.Elementwise) layerTensors {
	wb := 8 * cfg.WordBytes()
	var lt layerTensors
	lt.set(li, arch.TensorIfmap, l.Name+".w", e.Elems, 1, wb)
	lt.set(li, arch.TensorFilter, l.Name+".dw", e.Elems, int64(max(1, e.ReadsPerElem-1)), wb)
	lt.set(li, arch.TensorMeta, l.Name+".metadata", 1, 1, 1)
	lt.set(li, arch.TensorOfmap, l.Name+".w_out", e.Elems, 1, wb)
	lt.set(li, arch.TensorPsum, l.Name+".psum", e.Elems, 1, cfg.AccBits())
	lt.set(li, arch.TensorExtra, l.Name+".compressed", 1, 1, 8)
	return lt
}
