package inference

import (
	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/inference/ops"
)

// summarizeOp is SummarizeGather of an operator's gather, from the cost
// its lowering measured when it has one for these requests.
func summarizeOp(g *ops.Gather, requestBytes int64) arch.GatherSummary {
	var s arch.GatherSummary
	if c := g.Cost; c != nil && c.RequestBytes == requestBytes && !g.Rows.Empty() {
		s = arch.GatherSummary{UsefulBytes: g.Tensor.Bytes(c.Elems), Requests: c.Requests}
	} else {
		s = arch.SummarizeGather(g.Tensor, g.Rows, requestBytes)
	}
	s.Write = g.Write
	return s
}

// GatherTotals sums gathers: useful bytes (the ones counted in Bytes) and
// the bytes the bursts actually moved.
type GatherTotals struct {
	Ops              int64
	UsefulBytes      int64
	TransferredBytes int64
}

// WastedBytes is the burst waste of the gathers.
func (g GatherTotals) WastedBytes() int64 { return g.TransferredBytes - g.UsefulBytes }

// add counts n gathers of s.
func (g *GatherTotals) add(s arch.GatherSummary, requestBytes, n int64) {
	g.Ops += n
	g.UsefulBytes += n * s.UsefulBytes
	g.TransferredBytes += n * s.TransferredBytes(requestBytes)
}

// gatherBytes puts a gather's useful bytes in the split it names.
func gatherBytes(split string, useful int64) Bytes {
	switch split {
	case ops.BytesWeights:
		return Bytes{Weights: useful}
	case ops.BytesActivations:
		return Bytes{Activations: useful}
	}
	return Bytes{KV: useful}
}
