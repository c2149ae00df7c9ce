package attention

import (
	"math/rand"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
)

// This file is the request formation of SpAtten's released RTL testbench
// (shared/reference/spatten/rtl, cited as file:line): how a trace row
// becomes the metadata the controller sees, and what each unit then
// charges. The engine in attention.go only schedules what is built here.

const (
	// rtlFetchRound: the testbench rounds key_fetch_num and
	// value_fetch_num up to a multiple of 8 in the request metadata
	// (sim/TestSpAtten.scala:180-181); the fetcher then issues exactly that
	// many addresses (SpAttenController.scala:277,305).
	rtlFetchRound = 8
	// rtlRequantBits: the LSB refetch is always a 4-bit profile
	// (SpAttenController.scala:35-39), whatever the trace's
	// auto_requant_incre says.
	rtlRequantBits = 4
	// rtlFusedBits: 6-bit matrices are fused in pairs (fused_mat = 2,
	// sim/TestSpAtten.scala:174-176; MatrixFetcher.scala:48-51 supports
	// the profiles (4,1), (6,2), (8,1)).
	rtlFusedBits = 6
	// rtlMaxFused: buffer line counts are rounded up to maxFusedMatrix = 2
	// (SpAttenController.scala:55-64; SpAtten.scala:33).
	rtlMaxFused = 2
	// rtlDecisionTree: the requantization decision's max reduction tree
	// has log2(8 softmax lanes) = 3 register stages (ReductionTree.scala,
	// numLayers), plus one FIFO and one output stage
	// (RequantDecision.scala:57-76).
	rtlDecisionStages = 3 + 2
)

// rowWidths are the bit widths one row is fetched with.
type rowWidths struct {
	key, value, query int
	// lsb > 0: the keys' LSBs are refetched for requantQueries queries.
	lsb            int
	requantQueries int
}

// widthsOf reads a row's bit widths. With the testbench reading
// (attention.unquantized: testbench), a key width of −1, 10 or 12 becomes
// 8 bits with a forced 4-bit LSB refetch, a value width of −1, 10 or 12
// becomes 8 bits (sim/TestSpAtten.scala:74-87); a row that asks for
// requantization refetches 4 LSBs (the RTL's only LSB profile) for every
// query, as the testbench sets
// its threshold to the maximum (sim/TestSpAtten.scala:188-192, and
// RequantDecision.scala:72 then always fires). With full_bits, unquantized
// K and V are fetched once at full_bits. Queries are not part of the
// testbench's traffic (the query arrives with the request,
// sim/TestSpAtten.scala:170); sparsesim fetches them at their width.
func widthsOf(r workloads.AttnRow, a configs.Attention) rowWidths {
	q := int(max(r.Queries, 1))
	w := rowWidths{key: r.KeyBits, value: r.ValueBits, query: workloads.BitsOr(r.QueryBits, a.FullBits)}
	if r.LSBBits > 0 && r.RequantQueries > 0 {
		w.lsb, w.requantQueries = r.LSBBits, min(r.RequantQueries, q)
	}
	if a.Unquantized == "full_bits" {
		w.key, w.value = workloads.BitsOr(w.key, a.FullBits), workloads.BitsOr(w.value, a.FullBits)
		return w
	}
	if w.key <= 0 || w.key == 10 || w.key == 12 {
		w.key, w.lsb, w.requantQueries = 8, rtlRequantBits, q
	}
	if w.value <= 0 || w.value == 10 || w.value == 12 {
		w.value = 8
	}
	if w.lsb > 0 {
		w.lsb = rtlRequantBits // the RTL has only the 4-bit LSB profile
	}
	return w
}

// roundUp rounds n up to a multiple of m.
func roundUp(n, m int64) int64 { return (n + m - 1) / m * m }

// bufferLines is how many buffer lines n vectors take: numMultipliers/d
// vectors a line, rounded up to an even count (keymatNumLines and
// valmatNumLines, SpAttenController.scala:55-64). The Q×K and prob×V
// modules take one line a cycle.
func bufferLines(n int64, multipliers, d int) int64 {
	perLine := int64(max(1, multipliers/max(d, 1)))
	return roundUp(ceilDiv64(n, perLine), rtlMaxFused)
}

// pairsWith reports whether rows a and b (consecutive) form one fused
// request: the testbench pairs consecutive 6-bit key rows, the first of a
// pair carrying the top-k latency and the second zero
// (sim/TestSpAtten.scala:194-202). Values are fused when both are 6-bit.
func pairsWith(a, b rowWidths) bool { return a.key == rtlFusedBits && b.key == rtlFusedBits }

// TopKModelRounds is the testbench's top-k latency model
// (sim/TopKLatencyModel.scala:9-37) as candidate counts per round:
// quick-select over size random distinct values for the target-th
// smallest, three-way partition around a random pivot, stopping at the
// round that finds it. There is no extra pass. Each round costs
// ceil(n/p) + 3 cycles (TopKCycles).
func TopKModelRounds(size, target int, rng *rand.Rand) []int {
	seq := make([]int64, size)
	for i := range seq {
		seq[i] = rng.Int63()
	}
	var rounds []int
	lo := make([]int64, 0, size)
	hi := make([]int64, 0, size)
	for len(seq) > 0 {
		rounds = append(rounds, len(seq))
		pivot := seq[rng.Intn(len(seq))]
		lo, hi = lo[:0], hi[:0]
		eq := 0
		for _, v := range seq {
			switch {
			case v < pivot:
				lo = append(lo, v)
			case v > pivot:
				hi = append(hi, v)
			default:
				eq++
			}
		}
		if len(lo) <= target {
			if len(lo)+eq > target {
				break
			}
			target -= len(lo) + eq
			seq = append(seq[:0], hi...)
		} else {
			seq = append(seq[:0], lo...)
		}
	}
	return rounds
}

// decisionLatency is the requantization decision's latency on a row of n
// scores: the row's probabilities leave RequantDecision only once its
// maximum is known, i.e. after the whole row has streamed through the
// reduction tree (RequantDecision.scala:57-76). Every request passes the
// decision (SpAttenController.scala:375-395), requantized or not.
func decisionLatency(n int64, lanes int) int64 {
	return ceilDiv64(n, int64(lanes)) + rtlDecisionStages
}
