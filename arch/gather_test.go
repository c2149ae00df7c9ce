package arch

import (
	"math"
	"math/rand"
	"reflect"
	"testing"

	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/llm"
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
	cfg := loadCfg(t, "llm-128x128")
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

// TestFilterOnChipSkipsFilterReads: a GEMM whose operand a gather left on
// chip reads no filter bytes and otherwise moves what the plain GEMM does;
// one too big for the filter buffer streams it as the plain one does.
func TestFilterOnChipSkipsFilterReads(t *testing.T) {
	cfg := loadCfg(t, "llm-128x128")
	small := workloads.Layer{Name: "qk", Kind: "attn_qk", M: 4, N: 128, K: 128, Groups: 16}
	big := small
	big.Groups = 4096 // 128·128·2 B · 4096 = 128 MB
	for _, c := range []struct {
		l    workloads.Layer
		held bool
	}{{small, true}, {big, false}} {
		plain, err := Simulate(cfg, workloads.Workload{Layers: []workloads.Layer{c.l}})
		if err != nil {
			t.Fatal(err)
		}
		h := c.l
		h.FilterOnChip = true
		held, err := Simulate(cfg, workloads.Workload{Layers: []workloads.Layer{h}})
		if err != nil {
			t.Fatal(err)
		}
		p, q := plain.Layers[0], held.Layers[0]
		if FilterFits(cfg, c.l) != c.held || q.FilterHeld != c.held || p.FilterHeld {
			t.Fatalf("groups %d: fits %v, held %v (plain %v), want %v", c.l.Groups, FilterFits(cfg, c.l), q.FilterHeld, p.FilterHeld, c.held)
		}
		wantFilter := int64(c.l.K) * int64(c.l.N) * int64(c.l.Groups) * 2
		if p.DRAMReadByOperand[dataflow.Filter] != wantFilter {
			t.Errorf("plain filter reads %d, want %d", p.DRAMReadByOperand[dataflow.Filter], wantFilter)
		}
		if c.held {
			if q.DRAMReadByOperand[dataflow.Filter] != 0 {
				t.Errorf("held filter still read %d bytes", q.DRAMReadByOperand[dataflow.Filter])
			}
			if q.Elapsed > p.Elapsed {
				t.Errorf("held filter slower: %d > %d cycles", q.Elapsed, p.Elapsed)
			}
		} else if !reflect.DeepEqual(p.DRAMReadByOperand, q.DRAMReadByOperand) {
			t.Errorf("streamed operand: %v vs %v", q.DRAMReadByOperand, p.DRAMReadByOperand)
		}
		if p.DRAMReadByOperand[dataflow.Ifmap] != q.DRAMReadByOperand[dataflow.Ifmap] || p.DRAMWriteBytes != q.DRAMWriteBytes {
			t.Errorf("other operands changed: %v/%d vs %v/%d", q.DRAMReadByOperand, q.DRAMWriteBytes, p.DRAMReadByOperand, p.DRAMWriteBytes)
		}
	}
}

// gatherLowering is a test attention: every KV head's keys of every
// third token gathered, then a QKᵀ over them from the filter buffer.
type gatherLowering struct{}

func (gatherLowering) Attention(m llm.Model, layer int, p string, s llm.StepSpec, L int) []llm.Op {
	hd, kv := m.HeadSize(), m.KVHeads()
	cache := memory.Tensor{Name: "k", Pixels: int64(L), Channels: int64(kv * hd), ElemBits: 16}
	var pix []memory.Span
	n := 0
	for t := 0; t < L; t += 3 {
		pix = append(pix, memory.Span{Lo: int64(t), Hi: int64(t + 1)})
		n++
	}
	g := llm.GatherOp(llm.ClassAttention, p+"k_gather", llm.Gather{Tensor: cache, Bytes: llm.BytesKV,
		Rows: memory.NewRegion([]memory.Seg{{C: memory.Span{Lo: 0, Hi: int64(kv * hd)}, Pix: pix}})})
	qk := llm.Op{Kind: llm.OpGEMM, Class: llm.ClassAttention, Name: p + "qk", KVOperand: true,
		Layer: workloads.Layer{Name: p + "qk", Kind: "attn_qk", M: m.QueryGroup(), N: n, K: hd, Groups: kv, FilterOnChip: true}}
	return []llm.Op{g, qk}
}

// TestLLMGatherMemoEqualsOneEngine: a decode whose attention gathers
// rows gives the same operators memoized and unmemoized, and the gathered
// bytes are the KV split's share with no filter reads by the GEMM.
func TestLLMGatherMemoEqualsOneEngine(t *testing.T) {
	cfg := loadCfg(t, "llm-128x128", "dram.channels=4", "dram.bandwidth_gbps=204.8")
	m := zooModel(t, "llama-3.2-1b")
	o := LLMOptions{Phase: PhaseDecode, Prompt: 40, Gen: 3, Batch: 1, RecordOps: true, Attention: gatherLowering{}}
	memo, one := memoAndOneEngine(t, cfg, m, o)
	if len(memo.Ops) != len(one.Ops) || !reflect.DeepEqual(memo.Steps, one.Steps) || !reflect.DeepEqual(memo.Decode, one.Decode) {
		t.Fatalf("memoized and one-engine runs differ")
	}
	for i := range memo.Ops {
		if !reflect.DeepEqual(memo.Ops[i], one.Ops[i]) {
			t.Fatalf("operator %d differs:\n%+v\n%+v", i, memo.Ops[i], one.Ops[i])
		}
	}
	var gathered int64
	for _, r := range memo.Ops {
		if r.Gather.Requests > 0 {
			gathered += r.Gather.UsefulBytes
			if r.Cycles <= 0 {
				t.Errorf("%s: a gather of %d requests took %d cycles", r.Name, r.Gather.Requests, r.Cycles)
			}
		}
		if r.Stats.Layer.FilterOnChip && !r.Stats.FilterHeld {
			t.Errorf("%s: gathered operand not held", r.Name)
		}
	}
	// Keys of every third token: ceil(L/3) rows of kv·hd bf16 per layer.
	var want int64
	for _, s := range memo.Steps {
		want += int64((s.Context+2)/3) * int64(m.KVHeads()*m.HeadSize()) * 2 * int64(m.NumHiddenLayers)
	}
	if gathered != want || memo.Decode.Gather.UsefulBytes != want || memo.Decode.Bytes.KV < want {
		t.Errorf("gathered %d (phase %d), want %d; KV split %d", gathered, memo.Decode.Gather.UsefulBytes, want, memo.Decode.Bytes.KV)
	}
}

// repeatLowering is gatherLowering with each operator repeated reps
// times back to back: by Repeat, or unrolled into reps operators.
type repeatLowering struct {
	reps   int
	unroll bool
}

func (r repeatLowering) Attention(m llm.Model, layer int, p string, s llm.StepSpec, L int) []llm.Op {
	ops := gatherLowering{}.Attention(m, layer, p, s, L)
	ops = append(ops, llm.Op{Kind: llm.OpVector, Class: llm.ClassAttention, Name: p + "v", Elems: int64(L), OpsPerElem: 3})
	var out []llm.Op
	for _, op := range ops {
		if r.unroll {
			for range r.reps {
				out = append(out, op)
			}
			continue
		}
		op.Repeat = r.reps
		out = append(out, op)
	}
	return out
}

// TestRepeatedOpsAreTheirRuns: an operator repeated by Repeat measures
// as its runs unrolled into operators of their own — the same steps,
// phase totals, simulations, reuses and events — memoized on one DRAM
// channel (every run starts where the last did: measured once and
// counted) and on four (the boundary state moves), and the same as one
// engine operator by operator.
func TestRepeatedOpsAreTheirRuns(t *testing.T) {
	for _, ch := range []string{"1", "4"} {
		cfg := loadCfg(t, "llm-128x128", "dram.channels="+ch, "dram.bandwidth_gbps=204.8")
		m := zooModel(t, "llama-3.2-1b")
		m.NumHiddenLayers, m.VocabSize = 2, 512
		o := LLMOptions{Phase: PhaseDecode, Prompt: 40, Gen: 3, Batch: 1, Attention: repeatLowering{reps: 5}}
		rep, err := SimulateLLM(cfg, m, o)
		if err != nil {
			t.Fatal(err)
		}
		o.Attention = repeatLowering{reps: 5, unroll: true}
		unrolled, err := SimulateLLM(cfg, m, o)
		if err != nil {
			t.Fatal(err)
		}
		for i := range unrolled.Decode.Classes {
			unrolled.Decode.Classes[i].Ops = rep.Decode.Classes[i].Ops
		}
		if !reflect.DeepEqual(rep.Steps, unrolled.Steps) || !reflect.DeepEqual(rep.Decode, unrolled.Decode) ||
			rep.Simulated != unrolled.Simulated || rep.Reused != unrolled.Reused || rep.Events != unrolled.Events {
			t.Errorf("%s channels: repeated %d simulated, %d reused, %d events; unrolled %d, %d, %d (or the totals differ)",
				ch, rep.Simulated, rep.Reused, rep.Events, unrolled.Simulated, unrolled.Reused, unrolled.Events)
		}
		o.Attention, o.RecordOps = repeatLowering{reps: 5}, true
		memo, one := memoAndOneEngine(t, cfg, m, o)
		if !reflect.DeepEqual(memo.Ops, one.Ops) || !reflect.DeepEqual(memo.Steps, one.Steps) || !reflect.DeepEqual(memo.Decode, one.Decode) {
			t.Errorf("%s channels: repeated operators differ memoized and on one engine", ch)
		}
	}
}
