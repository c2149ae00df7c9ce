package systolic

import (
	"fmt"
	"sort"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/internal/usererr"
	"github.com/sparsesim/sparsesim/mapping"
	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/workloads"
)

// Fused ("flash") attention on the array (workloads.KindAttnFused): for
// each group (sequence × KV head), each tile of the group's queries and
// each block of cached keys, the array computes the tile's scores Q·Kᵀ
// and then P·V into the tile's partial output, in the order
// FlashAttention-2 uses (queries outer, KV blocks inner). The scores, the
// probabilities and the partial output never leave the chip: DRAM sees Q
// (read once per tile, held across the KV blocks), K and V (read per
// query tile unless the filter buffer keeps them from the previous one)
// and O (written once, after the last block). The online softmax runs on
// the vector unit as operators of its own (inference/ops).

// FlashTile is a fused attention's tile: Queries rows of one group's
// queries against a block of Keys cached keys.
type FlashTile struct{ Queries, Keys int }

// flashFits reports whether a tile of br queries and bc keys of head
// dimension hd fits the buffers. What the fused pipeline double-buffers
// (with buffers.double_buffered) is what one tile hands the next while
// the other unit works: the score tile (the array writes the next while
// the vector unit runs the online softmax on this one), the
// probabilities fed back to the array, and the K and V blocks (the next
// block loads while this one computes). The Q tile, the partial output
// and its running max and sum stay for the whole KV loop, once. So: in the
// ofmap buffer the score tiles, the partial output and the running
// stats, at the accumulator width; in the ifmap buffer the Q tile and the
// probability tiles; in the filter buffer the K and V blocks (widened to
// the operand width, as the fetcher does for a narrow cache).
func flashFits(cfg *configs.Config, hd, br, bc int64) bool {
	acc := int64(cfg.AccBits())
	wb := int64(8 * cfg.WordBytes())
	slots := int64(1)
	if cfg.Buffers.DoubleBuffered {
		slots = 2
	}
	scores := slots
	if cfg.PEArray.WeightBuffers >= 2 {
		scores += flashLag // the tiles a unit runs ahead (flashStepper)
	}
	// Each matrix unit works on a tile of its own: a tile gets its share.
	bits := func(kb float64) int64 { return int64(kb * 1024 * 8 / float64(cfg.PEArray.Units)) }
	b := cfg.Buffers
	return br*(scores*bc+hd+2)*acc <= bits(b.OfmapKB) &&
		br*(hd+slots*bc)*wb <= bits(b.IfmapKB) &&
		slots*2*bc*hd*wb <= bits(b.FilterKB)
}

// largest is the largest x in [lo, hi] with ok(x), given ok(lo) and ok
// monotone (true up to some point, false after).
func largest(lo, hi int, ok func(int) bool) int {
	// The first x past lo where ok fails, less one.
	return lo + sort.Search(hi-lo, func(i int) bool { return !ok(lo + 1 + i) })
}

// FlashTiling picks fused attention layer l's tile on cfg, or reports
// false when not even one query against one key (a row of K and of V)
// fits the buffers: the caller then runs attention unfused. The KV block
// starts at the array's width (one fold of Q·Kᵀ columns, as decode's
// split-K blocks); the query tile is then as tall as fits, whole array
// row folds, since each tile refills the array and a streamed dimension
// amortizes that fill; when every query fits, the block grows in whole
// array widths (fewer tiles, fewer rescales). Tiles are then evened out
// (even).
func FlashTiling(cfg *configs.Config, l workloads.Layer) (FlashTile, bool) {
	hd := int64(l.K)
	fits := func(br, bc int) bool { return flashFits(cfg, hd, int64(br), int64(bc)) }
	rows, cols := cfg.PEArray.Rows, cfg.PEArray.Cols
	if !fits(1, 1) {
		return FlashTile{}, false
	}
	bc := largest(1, min(l.N, cols), func(b int) bool { return fits(1, b) })
	br := largest(1, l.M, func(q int) bool { return fits(q, bc) })
	if br < l.M && br >= rows {
		br -= br % rows
	}
	if br == l.M && bc < l.N {
		if b := largest(bc, l.N, func(b int) bool { return fits(br, b) }); b < l.N {
			bc = max(bc, b-b%cols)
		} else {
			bc = b
		}
	}
	return FlashTile{Queries: even(l.M, br, rows), Keys: even(l.N, bc, cols)}, true
}

// even is a tile of at most t along a dimension of n that takes as many
// tiles as t does but evens them out, in whole multiples of unit when t
// is one: a short last tile computes too briefly to hide the next tile's
// load behind it.
func even(n, t, unit int) int {
	e := ceilDiv(n, ceilDiv(n, t))
	if t%unit == 0 && e%unit != 0 {
		e += unit - e%unit
	}
	return min(e, t)
}

// tileCost is what the array does for one product of a tile: its folds
// as the dataflow times them (mapping.Schedule, SCALE-Sim's per-fold
// count), its MACs and buffer accesses.
type tileCost struct {
	sched                 *mapping.Schedule // the product's folds on one unit
	cycles, macs          int64
	sramReads, sramWrites [3]int64
	efficiency            float64 // spatial utilization
}

// Products of a tile, in the order the array runs them.
const (
	flashQK = iota // scores Q·Kᵀ
	flashPV        // partial output P·V
)

// flashPlan is a fused attention layer's walk: groups × query tiles × KV
// blocks (mapping.Plan for the controller's statistics: a tile is a
// fold), two steps a tile.
type flashPlan struct {
	l       workloads.Layer
	tile    FlashTile
	df      dataflow.Dataflow
	arr     mapping.Array
	qTiles  int
	kBlocks int
	costs   map[FlashTile][2]tileCost
}

// newFlashPlan tiles l and picks the dataflow (of those the mapper may
// use) that runs a whole tile's two products in the fewest cycles.
func newFlashPlan(cfg *configs.Config, arr mapping.Array, l workloads.Layer, dfs []dataflow.Dataflow) (*flashPlan, error) {
	t, ok := FlashTiling(cfg, l)
	if !ok {
		return nil, usererr.New("layer %q: fused attention: the buffers cannot hold one query's scores against one key (head_dim %d); set attention.fused=false", l.Name, l.K)
	}
	p := &flashPlan{l: l, tile: t, arr: arr, qTiles: ceilDiv(l.M, t.Queries), kBlocks: ceilDiv(l.N, t.Keys)}
	best, bestDF := int64(-1), dfs[0]
	for _, df := range dfs {
		p.df, p.costs = df, map[FlashTile][2]tileCost{}
		c, err := p.cost(t.Queries, t.Keys)
		if err != nil {
			return nil, err
		}
		if cyc := c[flashQK].cycles + c[flashPV].cycles; best < 0 || cyc < best {
			best, bestDF = cyc, df
		}
	}
	// Costs are per dataflow: start the winner's table afresh.
	p.df, p.costs = bestDF, map[FlashTile][2]tileCost{}
	return p, nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// cost is a tile of q queries and k keys: Q·Kᵀ (q×hd)·(hd×k), then P·V
// (q×k)·(k×hd), each its own folds on the array.
func (p *flashPlan) cost(q, k int) ([2]tileCost, error) {
	key := FlashTile{q, k}
	if c, ok := p.costs[key]; ok {
		return c, nil
	}
	hd := p.l.K
	var c [2]tileCost
	one := p.arr
	one.Units = 1 // a tile runs on one unit; tiles are dealt to the units
	for i, prob := range [2]mapping.Problem{{M: q, N: k, K: hd, Groups: 1}, {M: q, N: hd, K: k, Groups: 1}} {
		s, err := mapping.New(p.df, one, prob)
		if err != nil {
			return c, fmt.Errorf("layer %q: %w", p.l.Name, err)
		}
		c[i].sched = s
		c[i].cycles = s.ComputeCycles()
		c[i].efficiency = s.MappingEfficiency()
		for f := range s.NumFolds() {
			fold := s.Fold(f)
			c[i].macs += fold.MACs
			for o := range 3 {
				c[i].sramReads[o] += fold.SRAMReads[o]
				c[i].sramWrites[o] += fold.SRAMWrites[o]
			}
		}
	}
	p.costs[key] = c
	return c, nil
}

// NumFolds is the tiles.
func (p *flashPlan) NumFolds() int { return p.l.Groups * p.qTiles * p.kBlocks }

// at is tile i's group, query tile and KV block (blocks innermost).
func (p *flashPlan) at(i int) (g, qt, kb int) {
	kb = i % p.kBlocks
	i /= p.kBlocks
	return i / p.qTiles, i % p.qTiles, kb
}

// span is tile i's queries [q0, q1) and keys [k0, k1).
func (p *flashPlan) span(i int) (g int, q0, q1, k0, k1 int64) {
	g, qt, kb := p.at(i)
	q0, k0 = int64(qt*p.tile.Queries), int64(kb*p.tile.Keys)
	return g, q0, min(int64(p.l.M), q0+int64(p.tile.Queries)), k0, min(int64(p.l.N), k0+int64(p.tile.Keys))
}

// Fold is tile i as a fold: its group, query tile (Row), KV block (Col),
// both products' cycles and MACs.
func (p *flashPlan) Fold(i int) mapping.Fold {
	g, qt, kb := p.at(i)
	_, q0, q1, k0, k1 := p.span(i)
	c, _ := p.cost(int(q1-q0), int(k1-k0))
	f := mapping.Fold{Group: g, Row: qt, Col: kb, UsedRows: p.arr.Rows, UsedCols: p.arr.Cols, Final: kb == p.kBlocks-1}
	for _, x := range c {
		f.Cycles += x.cycles
		f.MACs += x.macs
		for o := range 3 {
			f.SRAMReads[o] += x.sramReads[o]
			f.SRAMWrites[o] += x.sramWrites[o]
		}
	}
	return f
}

// MappingEfficiency is a whole tile's: its two products' mean spatial
// utilization (partial tiles at the edges are left out).
func (p *flashPlan) MappingEfficiency() float64 {
	c, _ := p.cost(p.tile.Queries, p.tile.Keys)
	return (c[flashQK].efficiency + c[flashPV].efficiency) / 2
}

// flashTensors lays out a fused attention's tensors: Q (queries × the
// groups' head dimensions), the cache (keys × each group's K then V
// columns, at the cache's width) and O; no scores.
func flashTensors(cfg *configs.Config, li int, l workloads.Layer) layerTensors {
	g, hd := int64(l.Groups), int64(l.K)
	wb := 8 * cfg.WordBytes()
	lt := layerTensors{groupK: hd, keptK: hd, groupN: hd, filterK: int64(l.N)}
	lt.set(li, arch.TensorIfmap, l.Name+".q", int64(l.M), hd*g, wb)
	fb := wb
	if l.FilterBits > 0 {
		fb = l.FilterBits
	}
	lt.set(li, arch.TensorFilter, l.Name+".kv", int64(l.N), 2*hd*g, fb)
	lt.set(li, arch.TensorMeta, l.Name+".metadata", 1, 1, 1)
	ob := cfg.OutBits()
	if l.OutBits > 0 {
		ob = l.OutBits
	}
	lt.set(li, arch.TensorOfmap, l.Name+".o", int64(l.M), hd*g, ob)
	lt.set(li, arch.TensorPsum, l.Name+".psum", int64(l.M), hd*g, cfg.AccBits())
	lt.set(li, arch.TensorExtra, l.Name+".compressed", 1, 1, 8)
	return lt
}

// flashStepper walks a fused attention fold by fold, as the array runs
// it: each tile's Q·Kᵀ folds once the Q tile and the K block are on chip,
// then its P·V folds once the V block is (it loads while the scores
// compute) and the scores have left the array. The last block of a query
// tile writes the tile's output. A tile's folds stay on one unit (st.fold
// is the tile), since its P·V needs its own scores. With shadow weights a
// unit runs its next tiles' Q·Kᵀ before a tile's P·V (lag tiles
// ahead), so the scores drain while other folds stream rather than
// stalling the unit (flashFits counts the score tiles this keeps).
type flashStepper struct {
	p  *flashPlan
	lt *layerTensors
	// units are each unit's products left, in issue order; the walk
	// takes a fold from each unit in turn, so the request window spans
	// every unit's work.
	units []flashQueue
	turn  int
}

// flashQueue is one unit's products left and the next fold of the first.
type flashQueue struct {
	order []flashProduct
	fold  int
}

// flashProduct is one product of one tile.
type flashProduct struct{ tile, prod int }

// flashLag is how many of its own tiles' Q·Kᵀ a unit with shadow weights
// runs ahead of a tile's P·V: a fold's scores leave R + C − 2 cycles
// after its last step, about two folds' preloads on a square array.
const flashLag = 2

func newFlashStepper(p *flashPlan, lt *layerTensors) *flashStepper {
	nu := p.arr.UnitCount()
	fs := &flashStepper{p: p, lt: lt, units: make([]flashQueue, nu)}
	lag := 0
	if p.arr.WeightBuffers >= 2 {
		lag = flashLag
	}
	for u := range fs.units {
		var tiles []int
		for t := u; t < p.NumFolds(); t += nu {
			tiles = append(tiles, t)
		}
		q := &fs.units[u]
		for i := 0; i < len(tiles)+lag; i++ {
			if i < len(tiles) {
				q.order = append(q.order, flashProduct{tiles[i], flashQK})
			}
			if j := i - lag; j >= 0 && j < len(tiles) {
				q.order = append(q.order, flashProduct{tiles[j], flashPV})
			}
		}
	}
	return fs
}

func (fs *flashStepper) next() (step, bool) {
	p := fs.p
	var q *flashQueue
	for range fs.units {
		if x := &fs.units[fs.turn]; len(x.order) > 0 {
			q = x
		}
		fs.turn = (fs.turn + 1) % len(fs.units)
		if q != nil {
			break
		}
	}
	if q == nil {
		return step{}, false
	}
	cur := q.order[0]
	g, q0, q1, k0, k1 := p.span(cur.tile)
	c, _ := p.cost(int(q1-q0), int(k1-k0))
	s := c[cur.prod].sched
	fold := q.advance(s)
	f := s.Fold(fold)
	first, last := fold == 0, fold == s.NumFolds()-1
	hd, gi := int64(p.l.K), int64(g)
	qBox := memory.Box(q0, q1, gi*hd, (gi+1)*hd)
	st := step{fold: cur.tile, firstOfFold: true, lastOfFold: true, stream: int64(f.T1 - f.T0), cycles: f.Cycles, macs: f.MACs,
		sramReads: f.SRAMReads, sramWrites: f.SRAMWrites}
	if cur.prod == flashQK && last {
		st.scoresOut = cur.tile + 1
	}
	if cur.prod == flashPV && first {
		st.scoresIn = cur.tile + 1
	}
	wb := int64(p.arr.WordBytes)
	st.portBytes = (f.SRAMReads[0] + f.SRAMReads[1]) * wb
	st.outBytes = f.SRAMWrites[2] * int64(max(1, p.arr.PsumBytes))
	// Each fold reads the keys (Q·Kᵀ) or values (P·V) it covers, so the
	// block streams in with the folds; the Q tile comes with the first.
	keys := dataflow.N
	col := 2 * gi * hd
	if cur.prod == flashPV {
		keys, col = dataflow.K, (2*gi+1)*hd
	}
	lo, hi := foldRange(s, f, keys)
	if first && cur.prod == flashQK {
		st.reads = append(st.reads, access{kind: arch.TensorIfmap, r: qBox})
	}
	if f.Tile == 0 || s.DF.TimeDim == keys {
		st.reads = append(st.reads, access{kind: arch.TensorFilter, r: memory.Box(k0+lo, k0+hi, col, col+hd)})
	}
	if cur.prod == flashPV && last && k1 == int64(p.l.N) {
		st.hasOut, st.final, st.out = true, true, qBox
	}
	return st, true
}

// foldRange is the part of GEMM dimension d fold f covers.
func foldRange(s *mapping.Schedule, f mapping.Fold, d dataflow.Dim) (lo, hi int64) {
	switch d {
	case s.DF.RowDim:
		lo = int64(f.Row * s.Arr.Rows)
		return lo, lo + int64(f.UsedRows)
	case s.DF.ColDim:
		lo = int64(f.Col * s.Arr.Cols)
		return lo, lo + int64(f.UsedCols)
	}
	return int64(f.T0), int64(f.T1)
}

// advance takes the next fold of the queue's first product (whose
// schedule is s) and drops the product after its last fold.
func (q *flashQueue) advance(s *mapping.Schedule) int {
	f := q.fold
	if q.fold++; q.fold == s.NumFolds() {
		q.fold = 0
		q.order = q.order[1:]
	}
	return f
}

// Array implements mapping.Plan: tiles are dealt to its units.
func (p *flashPlan) Array() mapping.Array { return p.arr }

// NewPipeline implements mapping.Plan: a unit runs a tile's products as
// folds of the chosen dataflow.
func (p *flashPlan) NewPipeline() *mapping.FoldPipeline {
	return mapping.NewFoldPipeline(p.arr.Rows, p.arr.Cols, p.df.Preloads(), p.arr.WeightBuffers >= 2)
}
