package attention

import (
	"github.com/sparsesim/sparsesim/memory"
)

// The attention engine's compute units, in AttnStats.UnitBusy order.
const (
	unitQK = iota
	unitSoftmax
	unitTopK
	unitPV
	unitImportance
	numAttnUnits
)

// Step kinds that are not units: a fill through the K or V buffer, and
// the drain of a request's outputs through the output buffer.
const (
	fetchStep = -1
	writeStep = -2
)

// SRAMs a step can hold.
const (
	sramK = iota
	sramV
	outBuffer
)

// Top-k kinds, for the statistics.
const (
	topkNone = iota
	topkLocalV
	topkToken
	topkHead
)

// attnStep is one stage of one attention request: a transfer through a
// buffer or a job on a unit.
type attnStep struct {
	unit   int // fetchStep, writeStep or a unit index
	buffer int // sramK, sramV or outBuffer
	row    int // the row (index into the run's rows) the step belongs to
	// parts are the tensor regions a fetch or write moves; the buffer
	// turns them into DRAM requests and books them in the ledger.
	parts   []tensorRegion
	cycles  int64
	latency int64
	macs    int64
	// acquire/release an SRAM (-1 none): a request holds hold bytes of
	// the K SRAM from its key fetch to its last Q×K, of the V SRAM from
	// its value fetch to its last prob×V.
	acquire, release int
	hold             int64
	// side jobs occupy their unit but the request does not wait for them
	// (the importance accumulators add up probabilities as softmax
	// streams them out); it still waits for the unit to issue one.
	side bool
	topk int
}

func fetch(buffer, row int, parts ...tensorRegion) attnStep {
	return attnStep{unit: fetchStep, buffer: buffer, row: row, parts: parts, acquire: -1, release: -1}
}

func compute(unit, row int, cycles, latency, macs int64) attnStep {
	return attnStep{unit: unit, row: row, cycles: cycles, latency: latency, macs: macs, acquire: -1, release: -1}
}

// attnJob is one request: one row, or two fused 6-bit rows.
type attnJob struct {
	rows    []int
	steps   []attnStep
	next    int
	running bool
	done    bool
}

// buildSteps turns a request into its stages and accounts its traffic.
func (c *attnController) buildSteps(rows []int) []attnStep {
	a := c.cfg.Attention
	st := &c.Stats
	first := c.rows[rows[0]]
	li := c.layerOf(first.Layer)
	w0 := widthsOf(first, a)
	fused := len(rows) == 2
	st.Requests++
	if fused {
		st.FusedPairs++
	}
	// On chip every element is a full-width word (widthQuantValue = 12,
	// SpAtten.scala:10; MSBs and LSBs are recombined in place,
	// MatrixFetcher.scala:335-341).
	word := func(vectors int64, d int) int64 { return ceilDiv64(vectors*int64(d*a.FullBits), 8) }

	var steps []attnStep
	// Keys: a fused pair fetches its first row's rounded count of fused
	// vectors (SpAttenController.scala:271,296-305); otherwise each row
	// its own.
	type rowPlan struct {
		w            rowWidths
		q, d, kf, vf int64 // kf, vf rounded as the metadata is
		vn           int64 // values the top-k passes on
		rows         int64 // rows of the row's K/V tensors: context + padding
		keys, vals   tokenSet
	}
	plans := make([]rowPlan, len(rows))
	var qParts []tensorRegion
	for i, ri := range rows {
		r := c.rows[ri]
		p := rowPlan{w: widthsOf(r, a), q: int64(max(r.Queries, 1)), d: int64(r.D),
			kf: roundUp(int64(r.KeyFetch), rtlFetchRound), vf: roundUp(int64(r.ValueFetch), rtlFetchRound)}
		// The top-k is skipped when value_fetch_num ≥ key_fetch_num and
		// then every fetched key's value is used (SpAttenController.scala:591-597);
		// otherwise it emits target + 1 = value_fetch_num (TopK.scala:75-78).
		p.vn = min(p.vf, p.kf)
		ctx := int64(r.Context)
		p.keys = keptTokens(&c.keyCache, r.KeyTokens, int64(r.KeyFetch), p.kf, ctx)
		p.rows = max(ctx, p.keys[len(p.keys)-1].Hi)
		if r.ValueTokens != nil && int64(len(r.ValueTokens)) >= int64(r.ValueFetch) && p.vn < p.kf {
			var fresh tokenCache // a row's own values: nothing to share
			p.vals = keptTokens(&fresh, r.ValueTokens, int64(r.ValueFetch), p.vn, ctx)
			p.rows = max(p.rows, p.vals[len(p.vals)-1].Hi)
		} else {
			p.vals = p.keys.pick(p.vn)
		}
		plans[i] = p
		qt := attnTensor(li, r, attnQuery, false, p.q, p.d, p.w.query)
		qParts = append(qParts, tensorRegion{T: qt, R: qt.All()})
		st.Rows++
		st.Queries += p.q
		st.DenseMACs += 2 * p.q * int64(r.Context) * p.d
	}
	p0 := plans[0]
	var kT memory.Tensor
	var kHold int64
	if fused {
		kT = attnTensor(li, first, attnKeyMSB, true, p0.rows, 2*p0.d, w0.key)
		kHold = 2 * word(bufferLines(p0.kf, a.QKMultipliers, first.D)*int64(max(1, a.QKMultipliers/first.D)), first.D)
	} else {
		kT = attnTensor(li, first, attnKeyMSB, false, p0.rows, p0.d, w0.key)
		kHold = word(bufferLines(p0.kf, a.QKMultipliers, first.D)*int64(max(1, a.QKMultipliers/first.D)), first.D)
	}
	st.KeysFetched += p0.kf
	qk := func(i int, queries, keys int64) attnStep {
		p := plans[i]
		lines := bufferLines(keys, a.QKMultipliers, int(p.d))
		c.layerSlotsAdd(c.rows[rows[i]].Layer, 0, queries*lines*int64(a.QKMultipliers))
		return compute(unitQK, rows[i], queries*lines, int64(a.QKLatency), queries*keys*p.d)
	}
	softmax := func(i int, queries int64) attnStep {
		p := plans[i]
		st.SoftmaxElems += queries * p.kf
		s := compute(unitSoftmax, rows[i], queries*ceilDiv64(p.kf, int64(a.SoftmaxLanes)), int64(a.SoftmaxLatency), 0)
		s.latency += decisionLatency(p.kf, a.SoftmaxLanes)
		return s
	}
	// A request whose keys do not fit the K SRAM streams them in chunks
	// of half the SRAM, each chunk's Q×K overlapping the next one's fetch.
	kChunks := int64(1)
	if c.capacity[sramK] > 0 && kHold > c.capacity[sramK] {
		kChunks = ceilDiv64(kHold, c.capacity[sramK]/2)
		st.KChunks++
	}
	chunk := func(total, k, n int64) int64 { return total*(k+1)/n - total*k/n }
	// chunkOf is chunk k of n of a token set, by rank.
	chunkOf := func(s tokenSet, k, n int64) tokenSet {
		m := s.len()
		return s.slice(m*k/n, m*(k+1)/n)
	}
	lastQK := -1
	for k := int64(0); k < kChunks; k++ {
		var parts []tensorRegion
		if k == 0 {
			parts = append(parts, qParts...) // the queries come with the first chunk
		}
		parts = append(parts, tensorRegion{T: kT, R: keptRegion(chunkOf(p0.keys, k, kChunks), kT.Channels)})
		f := fetch(sramK, rows[0], parts...)
		f.acquire, f.hold = sramK, chunk(kHold, k, kChunks)
		steps = append(steps, f)
		for i := range rows {
			steps = append(steps, qk(i, plans[i].q, chunk(plans[i].kf, k, kChunks)))
			lastQK = len(steps) - 1
		}
		if k+1 < kChunks {
			steps[lastQK].release = sramK
		}
	}
	for i, ri := range rows {
		r := c.rows[ri]
		steps = append(steps, softmax(i, plans[i].q))
		if r.AccumImportance {
			st.ImportanceAdds += plans[i].q * plans[i].kf
			acc := compute(unitImportance, ri, plans[i].q*ceilDiv64(plans[i].kf, int64(a.SoftmaxLanes)), 0, 0)
			acc.side = true
			steps = append(steps, acc)
		}
	}
	// Progressive quantization: the requests whose decision fired fetch
	// the keys' LSBs (4-bit profile, own base address — a plane of its
	// own, SpAttenController.scala:296-297) and run Q×K and softmax
	// again. Streamed keys must come back whole (MSBs and LSBs).
	for i, ri := range rows {
		p := plans[i]
		r := c.rows[ri]
		rq := int64(p.w.requantQueries)
		if rq == 0 || p.w.lsb == 0 {
			continue
		}
		lsbT := attnTensor(li, r, attnKeyLSB, false, p.rows, p.d, p.w.lsb)
		st.RequantRows++
		st.RequantQueries += rq
		if kChunks == 1 {
			steps = append(steps, fetch(sramK, ri, tensorRegion{T: lsbT, R: keptRegion(p.keys, p.d)}), qk(i, rq, p.kf))
			lastQK = len(steps) - 1
		} else {
			// Unfused: this row's own MSB plane (a fused pair's is
			// interleaved with the other head's, fetched whole again).
			msbT := kT
			if !fused {
				msbT = attnTensor(li, r, attnKeyMSB, false, p.rows, p.d, p.w.key)
			}
			steps[lastQK].release = sramK
			for k := int64(0); k < kChunks; k++ {
				ks := chunkOf(p.keys, k, kChunks)
				f := fetch(sramK, ri, tensorRegion{T: msbT, R: keptRegion(ks, msbT.Channels)}, tensorRegion{T: lsbT, R: keptRegion(ks, p.d)})
				f.acquire, f.hold = sramK, chunk(kHold, k, kChunks)
				steps = append(steps, f, qk(i, rq, chunk(p.kf, k, kChunks)))
				lastQK = len(steps) - 1
				if k+1 < kChunks {
					steps[lastQK].release = sramK
				}
			}
		}
		steps = append(steps, softmax(i, rq))
	}
	steps[lastQK].release = sramK
	// Local V pruning: one top-k per request, on its first row; the
	// second row of a fused pair is charged nothing
	// (sim/TestSpAtten.scala:196). Skipped when every fetched key's value
	// is kept (SpAttenController.scala:591): the request's one
	// value_fetch_num then covers every key, whatever each query kept.
	if p0.vn < p0.kf {
		rounds := first.VRounds
		if rounds == nil {
			rounds = TopKModelRounds(first.KeyFetch, first.ValueFetch, c.rng)
		}
		cyc := TopKCycles(rounds, a.TopKComparators)
		if first.VRoundQueries > 0 && int64(first.VRoundQueries) < p0.q {
			cyc = ceilDiv64(cyc*p0.q, int64(first.VRoundQueries))
		}
		steps = append(steps, c.topk(rows[0], topkLocalV, rounds, cyc))
	}
	// Values: a fused pair of 6-bit values fetches its first row's count
	// of fused vectors (SpAttenController.scala:670,716).
	var vSets []tokenSet
	var vTs []memory.Tensor
	var vHold int64
	perLine := int64(max(1, a.PVMultipliers/first.D))
	if fused && plans[1].w.value == rtlFusedBits && w0.value == rtlFusedBits {
		vTs = append(vTs, attnTensor(li, first, attnValue, true, p0.rows, 2*p0.d, w0.value))
		vSets = append(vSets, p0.vals)
		vHold = 2 * word(bufferLines(p0.vn, a.PVMultipliers, first.D)*perLine, first.D)
		st.ValuesFetched += p0.vn
	} else {
		for i, p := range plans {
			vTs = append(vTs, attnTensor(li, c.rows[rows[i]], attnValue, false, p.rows, p.d, p.w.value))
			vSets = append(vSets, p.vals)
			vHold += word(bufferLines(p.vn, a.PVMultipliers, int(p.d))*perLine, int(p.d))
			st.ValuesFetched += p.vn
		}
	}
	vChunks := int64(1)
	if c.capacity[sramV] > 0 && vHold > c.capacity[sramV] {
		vChunks = ceilDiv64(vHold, c.capacity[sramV]/2)
		st.VChunks++
	}
	for k := int64(0); k < vChunks; k++ {
		var parts []tensorRegion
		for i, t := range vTs {
			parts = append(parts, tensorRegion{T: t, R: keptRegion(chunkOf(vSets[i], k, vChunks), t.Channels)})
		}
		f := fetch(sramV, rows[0], parts...)
		f.acquire, f.hold = sramV, chunk(vHold, k, vChunks)
		steps = append(steps, f)
		for i, ri := range rows {
			p := plans[i]
			n := chunk(p.vn, k, vChunks)
			lines := bufferLines(n, a.PVMultipliers, int(p.d))
			c.layerSlotsAdd(c.rows[ri].Layer, 1, p.q*lines*int64(a.PVMultipliers))
			steps = append(steps, compute(unitPV, ri, p.q*lines, int64(a.PVLatency), p.q*n*p.d))
		}
		steps[len(steps)-1].release = sramV
	}
	// Cascade token pruning ranks the tokens still alive — the fetched
	// keys, as many as the metadata's key_fetch_num — and cascade head
	// pruning the layer's alive heads. The testbench charges neither (it
	// ignores if_topk/topk); sparsesim runs them on the same top-k engine.
	for i, ri := range rows {
		r := c.rows[ri]
		if r.TopKSize > 0 && int64(r.TopKSize) < plans[i].kf {
			rounds := r.TokenRounds
			if rounds == nil {
				rounds = TopKModelRounds(int(plans[i].kf), r.TopKSize, c.rng)
			}
			steps = append(steps, c.topk(ri, topkToken, rounds, TopKCycles(rounds, a.TopKComparators)))
		}
		if r.HeadKeep > 0 && r.HeadKeep < r.HeadCandidates {
			rounds := r.HeadRounds
			if rounds == nil {
				rounds = TopKModelRounds(r.HeadCandidates, r.HeadKeep, c.rng)
			}
			steps = append(steps, c.topk(ri, topkHead, rounds, TopKCycles(rounds, a.TopKComparators)))
		}
	}
	// Outputs: one full-width result vector per query leaves the engine
	// (SpAttenResponse.results, SpAtten.scala:118) and is drained to DRAM,
	// one drain per request.
	var outParts []tensorRegion
	for i, p := range plans {
		ot := attnTensor(li, c.rows[rows[i]], attnOutput, false, p.q, p.d, a.FullBits)
		outParts = append(outParts, tensorRegion{T: ot, R: ot.All()})
	}
	steps = append(steps, attnStep{unit: writeStep, buffer: outBuffer, row: rows[0], parts: outParts, acquire: -1, release: -1})
	for _, s := range steps {
		st.MACs += s.macs
	}
	return steps
}

func (c *attnController) topk(row, kind int, rounds []int, cyc int64) attnStep {
	st := &c.Stats
	st.TopKCompares += sumInts(rounds)
	st.TopKRounds += int64(len(rounds))
	switch kind {
	case topkLocalV:
		st.TopKLocalVCycles += cyc
	case topkToken:
		st.TopKTokenCycles += cyc
	case topkHead:
		st.TopKHeadCycles += cyc
	}
	s := compute(unitTopK, row, cyc, 0, 0)
	s.topk = kind
	return s
}

func ceilDiv64(a, b int64) int64 { return (a + b - 1) / b }

func sumInts(x []int) int64 {
	var s int64
	for _, v := range x {
		s += int64(v)
	}
	return s
}
