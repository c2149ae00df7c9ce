package arch

import (
	"math"
	"math/rand"
	"testing"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/memory"
)

// gatherOracle lists the selection element by element and counts the
// distinct aligned requests its bits occupy: the definition of burst
// granularity (a request moves one aligned block; selected elements that
// share a block share its request), independent of Tensor.Runs'
// arithmetic.
func gatherOracle(t memory.Tensor, rows []int64, c0, c1, req int64) (useful, requests int64) {
	bits := int64(t.ElemBits)
	reqBits := 8 * req
	blocks := map[int64]bool{}
	for _, p := range rows {
		for c := c0; c < c1; c++ {
			a := int64(t.Base)*8 + (p*t.Channels+c)*bits
			blocks[a/reqBits] = true
			blocks[(a+bits-1)/reqBits] = true
		}
	}
	n := int64(len(rows)) * (c1 - c0)
	return (n*bits + 7) / 8, int64(len(blocks))
}

func rowsRegion(rows []int64, c0, c1 int64) memory.Region {
	var pix []memory.Span
	for _, p := range rows {
		pix = append(pix, memory.Span{Lo: p, Hi: p + 1})
	}
	return memory.NewRegion([]memory.Seg{{C: memory.Span{Lo: c0, Hi: c1}, Pix: pix}})
}

// TestGatherSummaryMatchesByteOracle: random row selections of tensors
// with rows narrower, equal to and wider than the request, unaligned
// bases and head slices, against the byte-level oracle.
func TestGatherSummaryMatchesByteOracle(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 60; trial++ {
		tens := memory.Tensor{Pixels: 200, Channels: int64(1 + rng.Intn(96)), ElemBits: []int{4, 8, 16}[rng.Intn(3)],
			Base: uint64(rng.Intn(4) * 16)}
		req := []int64{32, 64, 128}[rng.Intn(3)]
		c0 := int64(rng.Intn(int(tens.Channels)))
		c1 := c0 + 1 + int64(rng.Intn(int(tens.Channels-c0)))
		var rows []int64
		for p := int64(0); p < tens.Pixels; p++ {
			if rng.Float64() < 0.3 {
				rows = append(rows, p)
			}
		}
		if len(rows) == 0 {
			continue
		}
		wantU, wantR := gatherOracle(tens, rows, c0, c1, req)
		got := SummarizeGather(tens, rowsRegion(rows, c0, c1), req)
		if got.UsefulBytes != wantU || got.Requests != wantR {
			t.Fatalf("trial %d (%d ch × %d bits, base %d, req %d, ch [%d,%d)): got %+v, oracle useful %d requests %d",
				trial, tens.Channels, tens.ElemBits, tens.Base, req, c0, c1, got, wantU, wantR)
		}
		if got.WastedBytes(req) < 0 {
			t.Fatalf("negative waste %+v", got)
		}
	}
}

// TestGatherShortRowsWaste: the example, 128-byte rows on a 64-byte
// request channel are free of waste when aligned; 32-byte rows move 64.
func TestGatherShortRowsWaste(t *testing.T) {
	rows := []int64{3, 9, 10, 40}
	wide := memory.Tensor{Pixels: 64, Channels: 64, ElemBits: 16} // 128 B rows
	if s := SummarizeGather(wide, rowsRegion(rows, 0, 64), 64); s.WastedBytes(64) != 0 || s.UsefulBytes != 4*128 {
		t.Errorf("128 B rows: %+v", s)
	}
	narrow := memory.Tensor{Pixels: 64, Channels: 16, ElemBits: 16} // 32 B rows, 2 per request
	// Rows 9 and 10 are one run over the second half of request 4 and the
	// first of request 5; rows 3 and 40 one request each: four requests,
	// 128 useful of 256 bytes.
	s := SummarizeGather(narrow, rowsRegion(rows, 0, 16), 64)
	if s.UsefulBytes != 128 || s.Requests != 4 || s.WastedBytes(64) != 128 {
		t.Errorf("32 B rows: %+v, want 128 useful bytes in 4 requests", s)
	}
}

// TestGatherTimeIsBandwidthBound: on one channel the gather takes its
// requests' bus time plus the latency (closed form from the config), and
// the ledger books exactly the summary.
func TestGatherTimeIsBandwidthBound(t *testing.T) {
	cfg, err := configs.Load("llm-128x128", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []GatherSummary{{UsefulBytes: 1000, Requests: 17}, {UsefulBytes: 64 << 10, Requests: 1024}} {
		g, err := SimulateGather(cfg, s)
		if err != nil {
			t.Fatal(err)
		}
		busBytes := float64(s.Requests * int64(cfg.DRAM.RequestBytes))
		want := int64(math.Ceil(busBytes/(cfg.DRAM.BandwidthGBps*1e9)*cfg.ClockMHz*1e6-1e-9)) + int64(math.Ceil(cfg.DRAM.LatencyNS*cfg.ClockMHz/1e3-1e-9))
		if g.Cycles != want {
			t.Errorf("%+v: %d cycles, want %d", s, g.Cycles, want)
		}
		if g.Traffic.ReadBytes != s.UsefulBytes || g.Traffic.Requests != s.Requests {
			t.Errorf("%+v: ledger booked %+v", s, g.Traffic)
		}
	}
	if g, err := SimulateGather(cfg, GatherSummary{}); err != nil || g.Cycles != 0 {
		t.Errorf("empty gather: %+v %v", g, err)
	}
	// A scatter (Write) books writes, not reads, and on one channel takes
	// the same bus time as the reads.
	rd, err := SimulateGather(cfg, GatherSummary{UsefulBytes: 1000, Requests: 17})
	if err != nil {
		t.Fatal(err)
	}
	wr, err := SimulateGather(cfg, GatherSummary{UsefulBytes: 1000, Requests: 17, Write: true})
	if err != nil {
		t.Fatal(err)
	}
	if wr.Traffic.WriteBytes != 1000 || wr.Traffic.ReadBytes != 0 || wr.Traffic.Requests != 17 {
		t.Errorf("scatter: ledger booked %+v, want 1000 bytes written in 17 requests", wr.Traffic)
	}
	if wr.Cycles != rd.Cycles {
		t.Errorf("scatter %d cycles, gather %d: the same requests on one channel", wr.Cycles, rd.Cycles)
	}
}
