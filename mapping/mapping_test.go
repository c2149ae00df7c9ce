package mapping

import (
	"testing"

	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

func sched(t *testing.T, df string, slot int64, p Problem) *Schedule {
	d, _ := dataflow.Lookup(df)
	s, err := New(d, Array{Rows: 32, Cols: 32, WordBytes: 1, SlotBytes: [3]int64{slot, slot, slot}}, p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func totals(s *Schedule) (fetch [3]int64, write int64, macs int64) {
	for i := 0; i < s.NumFolds(); i++ {
		f := s.Fold(i)
		for o := range fetch {
			fetch[o] += f.FetchBytes[o]
		}
		write += f.WriteBytes
		macs += f.MACs
	}
	return
}

// SCALE-Sim's fold count and per-fold cycles (shared/reference/README.md).
func TestFoldsAndCycles(t *testing.T) {
	p := Problem{M: 128, N: 64, K: 256, Groups: 1}
	for df, want := range map[string][2]int64{"os": {8, 318}, "ws": {16, 222}, "is": {32, 158}} {
		s := sched(t, df, 1<<20, p)
		if int64(s.NumFolds()) != want[0] || s.Fold(0).Cycles != want[1] || s.MappingEfficiency() != 1 {
			t.Errorf("%s: %d folds of %d cycles, want %v", df, s.NumFolds(), s.Fold(0).Cycles, want)
		}
		if _, _, macs := totals(s); macs != 128*64*256 {
			t.Errorf("%s: %d MACs", df, macs)
		}
	}
}

// With buffers that hold everything each byte comes from DRAM once; with
// tiny ones the weight-stationary activations are refetched for every
// column fold and partial sums spill: written every fold, read back on
// every row fold but the first.
func TestReuseFollowsBufferSize(t *testing.T) {
	p := Problem{M: 128, N: 64, K: 256, Groups: 1}
	fetch, write, _ := totals(sched(t, "ws", 1<<20, p))
	if fetch[dataflow.Ifmap] != 128*256 || fetch[dataflow.Filter] != 256*64 || fetch[dataflow.Ofmap] != 0 || write != 128*64 {
		t.Errorf("resident: fetch %v write %d", fetch, write)
	}
	fetch, write, _ = totals(sched(t, "ws", 1024, p))
	rowFolds, colFolds := int64(256/32), int64(64/32)
	if fetch[dataflow.Ifmap] != 128*256*colFolds || fetch[dataflow.Filter] != 256*64 {
		t.Errorf("tiny buffers: fetch %v", fetch)
	}
	if write != 128*64*rowFolds || fetch[dataflow.Ofmap] != 128*64*(rowFolds-1) {
		t.Errorf("tiny buffers: partial sums written %d, read %d", write, fetch[dataflow.Ofmap])
	}
}

// N:M shortens K for os and ws only; activations stay dense, weights shrink
// and carry log2(M)-bit indices.
func TestNMShortensK(t *testing.T) {
	p := Problem{M: 64, N: 32, K: 512, Groups: 1, Sparsity: nm.Pattern{N: 2, M: 8}}
	s := sched(t, "ws", 1<<20, p)
	fetch, _, macs := totals(s)
	if s.RowFold != 128/32 || macs != 64*32*128 || fetch[dataflow.Ifmap] != 64*512 || fetch[dataflow.Filter] != 128*32 {
		t.Errorf("ws 2:8: %d row folds, %d MACs, fetch %v", s.RowFold, macs, fetch)
	}
	var meta int64
	for i := 0; i < s.NumFolds(); i++ {
		meta += s.Fold(i).MetadataFetch
	}
	if meta != 128*32*3/8 {
		t.Errorf("metadata %d bytes, want 3 bits × %d", meta, 128*32)
	}
	if is := sched(t, "is", 1<<20, p); !is.SparsityApplied().Dense() {
		t.Error("input stationary applied N:M")
	}
}

// Depthwise groups whose tile fits the array share folds block-
// diagonally: 3 groups of K = 9 rows fit 32 rows, so 32 groups take 11
// folds, and every group's tiles are still fetched once.
func TestGroupsPackBlockDiagonally(t *testing.T) {
	p := Problem{M: 100, N: 1, K: 9, Groups: 32}
	s := sched(t, "ws", 1<<20, p)
	if s.Pack != 3 || s.NumFolds() != 11 {
		t.Fatalf("pack %d, %d folds; want 3 and 11", s.Pack, s.NumFolds())
	}
	fetch, write, macs := totals(s)
	if macs != 32*100*9 || fetch[dataflow.Ifmap] != 32*100*9 || fetch[dataflow.Filter] != 32*9 || write != 32*100 {
		t.Errorf("macs %d fetch %v write %d", macs, fetch, write)
	}
	if last := s.Fold(10); last.UsedRows != 2*9 || last.UsedCols != 2 {
		t.Errorf("last fold holds %dx%d, want 2 groups (18x2)", last.UsedRows, last.UsedCols)
	}
	if e := s.MappingEfficiency(); e != float64(32*9)/float64(11*32*32) {
		t.Errorf("mapping efficiency %g", e)
	}
	// A group that needs several folds is not packed.
	if s := sched(t, "ws", 1<<20, Problem{M: 100, N: 64, K: 9, Groups: 4}); s.Pack != 1 || s.NumFolds() != 8 {
		t.Errorf("unpackable: pack %d, %d folds", s.Pack, s.NumFolds())
	}
}

// Column-major order finishes each output column before the next: with K
// along the rows (ws) only one tile of partial sums must stay on chip, so a
// small ofmap buffer no longer spills, while activations are now refetched
// per column pass unless the whole ifmap fits.
func TestColumnMajorKeepsPartialSums(t *testing.T) {
	p := Problem{M: 128, N: 64, K: 256, Groups: 1}
	d, _ := dataflow.Lookup("ws")
	arr := Array{Rows: 32, Cols: 32, WordBytes: 1, SlotBytes: [3]int64{1 << 20, 1 << 20, 128 * 32}} // one 128×32 output tile
	row, _ := New(d, arr, p)
	p.Order = OrderSCALESim
	col, _ := New(d, arr, p)
	_, rw, _ := totals(row)
	cf, cw, cm := totals(col)
	if rw != 128*64*8 {
		t.Errorf("row-major spills %d bytes of partial sums, want %d", rw, 128*64*8)
	}
	if cw != 128*64 || cf[dataflow.Ofmap] != 0 || cm != 128*64*256 {
		t.Errorf("column-major writes %d, reads back %d partial-sum bytes; want each output once", cw, cf[dataflow.Ofmap])
	}
	if f := col.Fold(1); f.Row != 1 || f.Col != 0 {
		t.Errorf("column-major fold 1 at (%d, %d), want (1, 0)", f.Row, f.Col)
	}
}

// The closed form equals the per-fold counts summed, on every order, odd
// shapes, time tiles, N:M filters and buffers from tiny to roomy.
func TestEstimateEqualsFoldSum(t *testing.T) {
	shapes := []Problem{
		{M: 128, N: 64, K: 256, Groups: 1},
		{M: 97, N: 45, K: 301, Groups: 2},
		{M: 3136, N: 64, K: 576, Groups: 1},
		{M: 49, N: 512, K: 4608, Groups: 1, Sparsity: nm.Pattern{N: 2, M: 4}},
	}
	for _, df := range []string{"os", "ws", "is"} {
		d, _ := dataflow.Lookup(df)
		for _, p := range shapes {
			for _, slot := range []int64{512, 4096, 32 << 10, 1 << 22} {
				for _, o := range Orders() {
					for _, tile := range []int{0, 7, 64, 100} {
						q := p
						q.Order, q.TimeTile = o, tile
						s, err := New(d, Array{Rows: 32, Cols: 32, WordBytes: 1, PsumBytes: 4, RequestBytes: 64, SlotBytes: [3]int64{slot, slot, slot}}, q)
						if err != nil {
							t.Fatal(err)
						}
						if got, want := s.Estimate(), s.sumFolds(); got.Total() != want.Total() || got.Read != want.Read || got.Write != want.Write || got.Transferred != want.Transferred {
							t.Fatalf("%s %+v slot %d order %s tile %d: closed form %+v, folds %+v", df, p, slot, o, tile, got, want)
						}
					}
				}
			}
		}
	}
}
