package mapping

// FoldPipeline times the folds of one matrix unit in the order they run.
// A fold is cut into streamed chunks (the engine's steps); each chunk is
// timed when its operands are on chip.
//
// With one weight register a PE's next weights can only shift in once the
// previous fold has drained, so a fold costs SCALE-Sim's
// preload + t + R + C − 2 and folds follow each other. With a shadow
// register (Shadow, pe_array.weight_buffers: 2) the next fold's weights
// shift in while the current fold streams, and every PE keeps two banks
// selected by a bit that travels with the activations, so consecutive
// folds' wavefronts follow each other. The contract the RTL array meets
// (rtl/src, docs/rtl.md), for folds g with t_g streamed steps:
//
//	P_g = max(P_{g−1} + R, S_{g−2} + t_{g−2} + C − 2)  preload start
//	S_g = max(P_g + R, S_{g−1} + t_{g−1})              stream start
//	done = S_last + t_last + R + C − 2
//
// The weight port loads one fold at a time (R cycles); bank g%2 is free
// once fold g−2's last step has passed the bottom-right PE. In steady
// state a fold costs max(R, t, (R + C − 2 + t)/2) cycles instead of
// 2R + C + t − 2.
type FoldPipeline struct {
	R, C    int64
	Preload bool // the dataflow preloads a stationary input (ws, is)
	Shadow  bool // two weight registers per PE (only with Preload)

	prevDone   int64 // single register: the previous chunk's end
	weightFree int64 // shadow: the weight port's next free cycle
	streamFree int64 // shadow: the stream port's next free cycle
	bankFree   [2]int64
	bank       int
}

// NewFoldPipeline is the pipeline of an R×C array; shadow applies only
// to a dataflow that preloads.
func NewFoldPipeline(rows, cols int, preload, shadow bool) *FoldPipeline {
	return &FoldPipeline{R: int64(rows), C: int64(cols), Preload: preload, Shadow: shadow && preload}
}

// ChunkTimes is when a chunk occupies the array: from Start (its fold's
// preload, or its first streamed step) to Done (its last step streamed,
// plus the drain when it ends its fold).
type ChunkTimes struct {
	Start, Stream, Done int64
}

// Chunk times a chunk of n streamed steps whose operands are on chip at
// ready. first and last say whether it begins or ends its fold.
func (p *FoldPipeline) Chunk(ready int64, first, last bool, n int64) ChunkTimes {
	var c ChunkTimes
	pre := int64(0)
	if first && p.Preload {
		pre = p.R
	}
	if !p.Shadow {
		c.Start = max(ready, p.prevDone)
		c.Stream = c.Start + pre
	} else if first {
		c.Start = max(ready, p.weightFree, p.bankFree[p.bank])
		p.weightFree = c.Start + p.R
		c.Stream = max(c.Start+p.R, p.streamFree)
	} else {
		c.Stream = max(ready, p.streamFree)
		c.Start = c.Stream
	}
	end := c.Stream + n
	p.streamFree = end
	c.Done = end
	if last {
		c.Done += p.R + p.C - 2
		if p.Shadow {
			p.bankFree[p.bank] = end + p.C - 2
			p.bank ^= 1
		}
	}
	p.prevDone = c.Done
	return c
}

// Fixed times a step of n cycles that is neither preloaded nor drained
// (an element-wise pass): it follows everything before it.
func (p *FoldPipeline) Fixed(ready, n int64) ChunkTimes {
	start := max(ready, p.prevDone, p.streamFree, p.weightFree)
	c := ChunkTimes{Start: start, Stream: start, Done: start + n}
	p.prevDone, p.streamFree, p.weightFree = c.Done, c.Done, c.Done
	return c
}

// Array implements Plan.
func (s *Schedule) Array() Array { return s.Arr }

// NewPipeline implements Plan: one unit's pipeline for this schedule.
func (s *Schedule) NewPipeline() *FoldPipeline {
	return NewFoldPipeline(s.Arr.Rows, s.Arr.Cols, s.DF.Preloads(), s.Shadow())
}
