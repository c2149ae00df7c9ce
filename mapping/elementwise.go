package mapping

import "github.com/sparsesim/sparsesim/dataflow"

// Plan is what the controller walks: a sequence of folds.
type Plan interface {
	NumFolds() int
	Fold(i int) Fold
	MappingEfficiency() float64
	// Array is the array the plan runs on; NewPipeline times its folds
	// on one of the array's units.
	Array() Array
	NewPipeline() *FoldPipeline
}

// Elementwise is a streaming element-wise pass over Elems values (the
// weight update W −= η·dW): each element reads ReadsPerElem words (W into
// the ifmap buffer, dW into the filter buffer), writes one, and the array
// does one multiply-add per PE per cycle. The pass is chunked so a chunk
// fits one ifmap buffer slot. ExtraWriteBytes (e.g. pre-generated
// compressed weights) go out with the last chunk.
type Elementwise struct {
	Arr             Array
	Elems           int64
	ReadsPerElem    int
	ExtraWriteBytes int64
	chunk           int64
}

// NewElementwise plans the pass.
func NewElementwise(arr Array, elems int64, readsPerElem int, extraWriteBytes int64) *Elementwise {
	chunk := max(arr.SlotBytes[dataflow.Ifmap]/int64(arr.WordBytes), int64(arr.Rows*arr.Cols))
	return &Elementwise{Arr: arr, Elems: elems, ReadsPerElem: readsPerElem, ExtraWriteBytes: extraWriteBytes, chunk: chunk}
}

// NumFolds is the number of chunks.
func (e *Elementwise) NumFolds() int { return int((e.Elems + e.chunk - 1) / e.chunk) }

// Fold returns chunk i.
func (e *Elementwise) Fold(i int) Fold {
	n := min(e.chunk, e.Elems-int64(i)*e.chunk)
	pes := int64(e.Arr.Rows * e.Arr.Cols)
	wb := int64(e.Arr.WordBytes)
	f := Fold{Row: i, UsedRows: e.Arr.Rows, UsedCols: e.Arr.Cols,
		Cycles: (n + pes - 1) / pes, MACs: n, WriteBytes: n * wb, LastOfGroup: i == e.NumFolds()-1}
	f.FetchBytes[dataflow.Ifmap] = n * wb
	f.SRAMReads[dataflow.Ifmap] = n
	if e.ReadsPerElem > 1 {
		f.FetchBytes[dataflow.Filter] = int64(e.ReadsPerElem-1) * n * wb
		f.SRAMReads[dataflow.Filter] = int64(e.ReadsPerElem-1) * n
	}
	f.SRAMWrites[dataflow.Ofmap] = n
	if f.LastOfGroup {
		f.WriteBytes += e.ExtraWriteBytes
	}
	return f
}

// MappingEfficiency is the fraction of PE-cycles doing an update.
func (e *Elementwise) MappingEfficiency() float64 {
	var cyc int64
	for i := 0; i < e.NumFolds(); i++ {
		cyc += e.Fold(i).Cycles
	}
	return float64(e.Elems) / float64(cyc*int64(e.Arr.Rows*e.Arr.Cols))
}

// ChunkElems is the elements per chunk (the last may be shorter).
func (e *Elementwise) ChunkElems() int64 { return e.chunk }

// Array implements Plan.
func (e *Elementwise) Array() Array { return e.Arr }

// NewPipeline implements Plan: an element-wise pass neither preloads nor
// drains (FoldPipeline.Fixed).
func (e *Elementwise) NewPipeline() *FoldPipeline {
	return NewFoldPipeline(e.Arr.Rows, e.Arr.Cols, false, false)
}
