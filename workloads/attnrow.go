package workloads

// AttnRow is one attention head of one layer at one generation iteration
// (or of the single summarization pass): the data-dependent facts a sparse
// attention engine's timing needs. SpAtten's CSV traces and our own kernels
// (workloads/attention) both produce it.
type AttnRow struct {
	Iteration, Layer, Head int
	D                      int // head dimension
	Context                int // tokens in the context (sentence length L)
	Queries                int // queries processed (1 per generation step)
	KeyFetch               int // tokens whose keys are fetched, per query
	KeyBits                int // key bits fetched first (MSBs); 0 = unquantized
	QueryBits              int // 0 = unquantized
	Threshold              float64
	// RequantQueries is how many queries needed the key LSBs (progressive
	// quantization); LSBBits is how many LSBs each key element adds.
	RequantQueries int
	LSBBits        int
	ValueFetch     int // tokens whose values are fetched, per query
	ValueBits      int // 0 = unquantized
	// AccumImportance: the row adds its probabilities to the token
	// importance scores (cascade pruning bookkeeping).
	AccumImportance bool
	// TopKSize > 0: a token-pruning top-k of that size runs after the row.
	TopKSize int
	// VRounds and TokenRounds are the candidate counts of each quick-select
	// round the data took (local V pruning over all queries, and the token
	// top-k). Nil means unknown: the engine draws seeded synthetic scores.
	VRounds     []int
	TokenRounds []int
	// VRoundQueries is how many queries VRounds covers when the kernels
	// sampled queries (0: all Queries); the engine scales the charge.
	VRoundQueries int
	// HeadCandidates > HeadKeep > 0: a head-pruning top-k keeping HeadKeep
	// of the layer's HeadCandidates alive heads runs after the row;
	// HeadRounds are its quick-select rounds (nil: unknown).
	HeadCandidates, HeadKeep int
	HeadRounds               []int
	// KeyTokens and ValueTokens are the sorted positions of the fetched
	// keys and values when known (our kernels; shared, never modified);
	// nil: only the counts are known (SpAtten's traces), and the engine
	// spreads the kept tokens evenly over the context. They decide the
	// DRAM requests a gather costs (docs/spatten.md, "Memory").
	KeyTokens, ValueTokens []int
}

// BitsOr reports the bit width to use for an unquantized operand.
func BitsOr(bits, full int) int {
	if bits <= 0 {
		return full
	}
	return bits
}
