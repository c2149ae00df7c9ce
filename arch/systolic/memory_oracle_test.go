package systolic

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/mapping"
	"github.com/sparsesim/sparsesim/workloads"
)

// elemLRU is the buffers' documented policy (docs/memory.md) replayed on
// sets of element addresses: a request fetches what no entry holds, joins
// as the newest entry, and the oldest unpinned entries leave while the
// union exceeds the capacity (a lone entry larger than the capacity
// streams through and leaves too).
type elemLRU struct {
	capacity int64
	bits     int64
	entries  []elemEntry
}

type elemEntry struct {
	set    map[int64]bool
	pinned bool
}

func (l *elemLRU) held() map[int64]bool {
	u := map[int64]bool{}
	for _, e := range l.entries {
		for k := range e.set {
			u[k] = true
		}
	}
	return u
}

func (l *elemLRU) bytes(n int) int64 { return (int64(n)*l.bits + 7) / 8 }

// trim returns the entries it evicts.
func (l *elemLRU) trim() []map[int64]bool {
	var out []map[int64]bool
	for len(l.entries) > 128 {
		// Past 128 entries the oldest unpinned one joins the next unpinned.
		i := 0
		for i < len(l.entries) && l.entries[i].pinned {
			i++
		}
		j := i + 1
		for j < len(l.entries) && l.entries[j].pinned {
			j++
		}
		if j >= len(l.entries) {
			break
		}
		for k := range l.entries[i].set {
			l.entries[j].set[k] = true
		}
		l.entries = append(l.entries[:i], l.entries[i+1:]...)
	}
	for len(l.entries) > 0 && (len(l.entries) > 128 || l.bytes(len(l.held())) > l.capacity) {
		i := 0
		for i < len(l.entries) && l.entries[i].pinned {
			i++
		}
		if i == len(l.entries) || (i == len(l.entries)-1 && len(l.entries) > 1 && l.bytes(len(l.entries[i].set)) <= l.capacity) {
			break
		}
		out = append(out, l.entries[i].set)
		l.entries = append(l.entries[:i], l.entries[i+1:]...)
	}
	return out
}

func (l *elemLRU) request(set map[int64]bool) int {
	h := l.held()
	n := 0
	for k := range set {
		if !h[k] {
			n++
		}
	}
	if len(set) > 0 {
		l.entries = append(l.entries, elemEntry{set: set})
	}
	l.trim()
	return n
}

func (l *elemLRU) remove(set map[int64]bool) {
	out := l.entries[:0]
	for _, e := range l.entries {
		ns := map[int64]bool{}
		for k := range e.set {
			if !set[k] {
				ns[k] = true
			}
		}
		if len(ns) > 0 {
			out = append(out, elemEntry{set: ns, pinned: e.pinned})
		}
	}
	l.entries = out
}

// oracleWords replays one layer's schedule element by element and counts
// the DRAM words of each tensor kind.
func oracleWords(cfg *configs.Config, l workloads.Layer, s *mapping.Schedule) [arch.NumTensorKinds]int64 {
	chunk, err := chunkLen(cfg, s)
	if err != nil {
		panic(err)
	}
	df := s.DF
	g, kk, nn := int64(l.Groups), int64(l.K), int64(l.N)
	inKey := func(grp, m, k int64) (int64, bool) {
		if c := l.Conv; c != nil {
			cg := int64(c.Channels) / g
			n, oy, ox := m/int64(c.OutH*c.OutW), (m/int64(c.OutW))%int64(c.OutH), m%int64(c.OutW)
			tap, ch := k/cg, k%cg
			fy, fx := tap/int64(c.FilterW), tap%int64(c.FilterW)
			iy, ix := oy*int64(c.Stride)+fy-int64(c.Pad), ox*int64(c.Stride)+fx-int64(c.Pad)
			if iy < 0 || ix < 0 || iy >= int64(c.InH) || ix >= int64(c.InW) {
				return 0, false // padding: zeros made on chip
			}
			return ((n*int64(c.InH)+iy)*int64(c.InW)+ix)*int64(c.Channels) + grp*cg + ch, true
		}
		return m*kk*g + grp*kk + k, true
	}
	wb := int64(8 * cfg.WordBytes())
	in := &elemLRU{capacity: int64(cfg.Buffers.IfmapKB * 1024), bits: wb}
	fl := &elemLRU{capacity: int64(cfg.Buffers.FilterKB * 1024), bits: wb}
	acc := &elemLRU{capacity: int64(cfg.Buffers.OfmapKB * 1024), bits: int64(cfg.AccBits())}
	var words [arch.NumTensorKinds]int64
	type pend struct {
		out         map[int64]bool
		hasOut, fin bool
	}
	slots := 1
	if cfg.Buffers.DoubleBuffered {
		slots = 2
	}
	var queue []pend
	retire := func() {
		p := queue[0]
		queue = queue[1:]
		if !p.hasOut {
			return
		}
		acc.remove(p.out)
		if !p.fin {
			acc.entries = append(acc.entries, elemEntry{set: p.out})
		} else {
			words[arch.TensorOfmap] += int64(len(p.out))
		}
		for _, e := range acc.trim() {
			words[arch.TensorPsum] += int64(len(e))
		}
	}
	for fi := 0; fi < s.NumFolds(); fi++ {
		f := s.Fold(fi)
		total := int64(s.Extent(df.TimeDim))
		pack := 1
		if s.Pack > 1 { // groups side by side on the diagonal
			pack = min(s.Pack, s.P.Groups-f.Group)
			f.UsedRows, f.UsedCols = f.UsedRows/pack, f.UsedCols/pack
		}
		for t0 := int64(0); t0 < total; t0 += chunk {
			t1 := min(total, t0+chunk)
			rng := func(d dataflow.Dim) (int64, int64) {
				switch d {
				case df.RowDim:
					return int64(f.Row * s.Arr.Rows), int64(f.Row*s.Arr.Rows + f.UsedRows)
				case df.ColDim:
					return int64(f.Col * s.Arr.Cols), int64(f.Col*s.Arr.Cols + f.UsedCols)
				}
				return t0, t1
			}
			ins, fs, outs := map[int64]bool{}, map[int64]bool{}, map[int64]bool{}
			m0, m1 := rng(dataflow.M)
			n0, n1 := rng(dataflow.N)
			k0, k1 := rng(dataflow.K)
			for grp := int64(f.Group); grp < int64(f.Group+pack); grp++ {
				for m := m0; m < m1; m++ {
					for k := k0; k < k1; k++ {
						if key, ok := inKey(grp, m, k); ok {
							ins[key] = true
						}
					}
					for n := n0; n < n1; n++ {
						outs[m*nn*g+grp*nn+n] = true
					}
				}
				for k := k0; k < k1; k++ {
					for n := n0; n < n1; n++ {
						fs[k*nn*g+grp*nn+n] = true
					}
				}
			}
			// R(s) comes after C(s−slots): retire the oldest first.
			if len(queue) == slots {
				retire()
			}
			if df.Stationary() != dataflow.Ifmap || t0 == 0 {
				words[arch.TensorIfmap] += int64(in.request(ins))
			}
			if df.Stationary() != dataflow.Filter || t0 == 0 {
				words[arch.TensorFilter] += int64(fl.request(fs))
			}
			p := pend{}
			if df.SpatialReduction() || t1 == total {
				p = pend{out: outs, hasOut: true, fin: !df.SpatialReduction() || f.Row == s.RowFold-1}
				h := acc.held()
				if df.SpatialReduction() && f.Row > 0 {
					for k := range outs {
						if !h[k] {
							words[arch.TensorPsum] += 1 // read back
						}
					}
				}
				acc.remove(outs)
				acc.entries = append(acc.entries, elemEntry{set: outs, pinned: true})
			}
			queue = append(queue, p)
		}
	}
	for len(queue) > 0 {
		retire()
	}
	return words
}

// The transaction-level memory model against the element-level oracle on
// small random convolutions (stride, padding, groups) and GEMMs, every
// dataflow, buffers small enough to stream and evict.
func TestMemoryModelMatchesElementOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	cases := 0
	for cases < 300 {
		var l workloads.Layer
		var err error
		if rng.IntN(3) > 0 {
			groups := 1
			if rng.IntN(4) == 0 {
				groups = 2 + rng.IntN(3)
			}
			cg := 1 + rng.IntN(5)
			h := 3 + rng.IntN(9)
			k := 1 + rng.IntN(3)
			pad := rng.IntN(2)
			stride := 1 + rng.IntN(2)
			oh := (h+2*pad-k)/stride + 1
			used := (oh-1)*stride + k
			l, err = workloads.ConvSpec{Name: "c", IfmapH: used, IfmapW: used, FilterH: k, FilterW: k, Channels: cg * groups,
				Filters: (1 + rng.IntN(6)) * groups, Stride: stride, Groups: groups, Batch: 1 + rng.IntN(2), InH: h, InW: h, Pad: pad}.Lower()
			if err != nil {
				continue
			}
		} else {
			l = workloads.GEMM("g", 1+rng.IntN(60), 1+rng.IntN(40), 1+rng.IntN(50))
		}
		df := []string{"ws", "os", "is"}[rng.IntN(3)]
		size := []int{4, 8}[rng.IntN(2)]
		kb := func() string { return fmt.Sprintf("%.3f", float64(256+rng.IntN(2048))/1024) }
		cfg, err := configs.Load("scalesim-32x32", []string{"dataflow=" + df, fmt.Sprintf("pe_array.rows=%d", size), fmt.Sprintf("pe_array.cols=%d", size),
			"buffers.ifmap_kb=" + kb(), "buffers.filter_kb=" + kb(), "buffers.ofmap_kb=" + kb(), fmt.Sprintf("buffers.double_buffered=%v", rng.IntN(2) == 0)})
		if err != nil {
			t.Fatal(err)
		}
		jobs, err := planWorkload(cfg, workloads.Workload{Layers: []workloads.Layer{l}})
		if err != nil {
			continue // a stationary tile that cannot fit: refused, as documented
		}
		res, err := Simulate(cfg, workloads.Workload{Layers: []workloads.Layer{l}})
		if err != nil {
			t.Fatal(err)
		}
		want := oracleWords(cfg, l, jobs[0].plan.(*mapping.Schedule))
		got := res.Layers[0].Traffic
		wb := int64(cfg.WordBytes())
		gotWords := [arch.NumTensorKinds]int64{
			arch.TensorIfmap:  got[arch.TensorIfmap].ReadBytes / wb,
			arch.TensorFilter: got[arch.TensorFilter].ReadBytes / wb,
			arch.TensorOfmap:  got[arch.TensorOfmap].WriteBytes * 8 / int64(cfg.OutBits()),
			arch.TensorPsum:   (got[arch.TensorPsum].ReadBytes + got[arch.TensorPsum].WriteBytes) * 8 / int64(cfg.AccBits()),
		}
		for _, k := range []int{arch.TensorIfmap, arch.TensorFilter, arch.TensorOfmap, arch.TensorPsum} {
			if gotWords[k] != want[k] {
				t.Errorf("%s %s %+v conv=%+v on %dx%d, buffers %v: %s words %d, oracle %d",
					df, l.Name, l, l.Conv, size, size, cfg.Buffers, arch.TensorKindNames[k], gotWords[k], want[k])
			}
		}
		cases++
	}
}
