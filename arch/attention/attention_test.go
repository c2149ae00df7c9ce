package attention

import (
	"math"
	"math/rand"
	"testing"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/traces"
	"github.com/sparsesim/sparsesim/workloads"
	"github.com/sparsesim/sparsesim/workloads/attention"
)

const spattenDir = "../../../shared/reference/spatten/"

func spattenRun(t *testing.T, cfgName, trace string, sets ...string) *arch.Result {
	t.Helper()
	cfg, err := configs.Load(cfgName, sets)
	if err != nil {
		t.Fatal(err)
	}
	w, err := traces.ReadSpAttenTrace(spattenDir + trace)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Simulate(cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func totals(r *arch.Result) (cycles, bytes int64) {
	for _, l := range r.Layers {
		bytes += l.DRAMReadBytes + l.DRAMWriteBytes
	}
	return r.Span.Elapsed, bytes
}

// Switching every technique off turns the full trace into the baseline
// trace, row by row.
func TestAblateRecoversBaseline(t *testing.T) {
	wf, _ := traces.ReadSpAttenTrace(spattenDir + "summary-gpt2-small-wikitext2-per8.csv")
	wb, _ := traces.ReadSpAttenTrace(spattenDir + "summary-gpt2-small-wikitext2-per8-step1+dedic.csv")
	off := configs.Attention{}
	for i, r := range wf.Attention {
		a, b := Ablate(r, off), wb.Attention[i]
		if a.KeyFetch != b.KeyFetch || a.ValueFetch != b.ValueFetch || a.KeyBits != b.KeyBits ||
			a.ValueBits != b.ValueBits || a.QueryBits != b.QueryBits || a.RequantQueries != 0 || a.TopKSize != 0 {
			t.Fatalf("row %d: ablated %+v, baseline %+v", i, a, b)
		}
	}
}

// The top-k engine's time for real data is SpAtten's RTL latency model,
// ceil(n/16) + 3 per quick-select round, on the rounds the data takes, with
// no extra pass (sim/TopKLatencyModel.scala:23).
func TestTopKEngineMatchesRTLModel(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	probs := make([]float64, 993)
	for i := range probs {
		probs[i] = math.Exp(rng.NormFloat64())
	}
	attention.Softmax(probs)
	_, rounds := attention.QuickSelect(probs, 204, rng)
	var want int64
	for _, n := range rounds {
		want += int64((n+15)/16) + 3
	}
	row := workloads.AttnRow{D: 64, Context: 993, Queries: 1, KeyFetch: 993, ValueFetch: 204, VRounds: rounds}
	cfg, _ := configs.Load("spatten", nil)
	r, err := Simulate(cfg, workloads.Workload{Name: "one", Attention: []workloads.AttnRow{row}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Attention.TopKLocalVCycles != want || r.Attention.UnitBusy[unitTopK] != want {
		t.Errorf("top-k took %d cycles (unit %d), RTL model says %d over rounds %v",
			r.Attention.TopKLocalVCycles, r.Attention.UnitBusy[unitTopK], want, rounds)
	}
	if len(rounds) < 3 {
		t.Errorf("quick-select took only %d rounds on 993 elements", len(rounds))
	}
}

// Kernel-generated workloads run end to end and are deterministic.
func TestOwnAttentionWorkload(t *testing.T) {
	cfg, _ := configs.Load("spatten", nil)
	run := func() *arch.Result {
		w, err := traces.LoadFor(cfg, "bert-base", workloads.Params{SeqLen: 64})
		if err != nil {
			t.Fatal(err)
		}
		r, err := Simulate(cfg, w)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := run(), run()
	ac, ab := totals(a)
	bc, bb := totals(b)
	if ac != bc || ab != bb || a.Events != b.Events {
		t.Errorf("two runs differ: %d/%d cycles, %d/%d bytes", ac, bc, ab, bb)
	}
	if a.Attention.Rows >= 144 || a.Attention.KeysFetched >= int64(144*64) {
		t.Errorf("no head or token pruning: %d rows, %d keys", a.Attention.Rows, a.Attention.KeysFetched)
	}
}

func BenchmarkSpAttenGPT2Trace(b *testing.B) {
	cfg, _ := configs.Load("spatten", nil)
	w, err := traces.ReadSpAttenTrace(spattenDir + "summary-gpt2-small-wikitext2-per8.csv")
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		if _, err := Simulate(cfg, w); err != nil {
			b.Fatal(err)
		}
	}
}

// The importance accumulators are busy q·ceil(keys/lanes) cycles for every
// row that accumulates, without holding the row up.
func TestImportanceUnit(t *testing.T) {
	r := spattenRun(t, "spatten", "summary-gpt2-small-wikitext2-per8.csv")
	var want int64
	for _, row := range r.Workload.Attention {
		if row.AccumImportance {
			want += int64((row.KeyFetch + 7) / 8)
		}
	}
	if got := r.Attention.UnitBusy[unitImportance]; got != want || want == 0 {
		t.Errorf("importance unit busy %d cycles, want %d", got, want)
	}
}

// The speed targets: the whole gpt2-medium run (kernels and
// simulation) under 3 s.
func BenchmarkSpAttenGPT2Medium(b *testing.B) {
	cfg, _ := configs.Load("spatten", nil)
	for i := 0; i < b.N; i++ {
		w, err := traces.LoadFor(cfg, "gpt2-medium", workloads.Params{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Simulate(cfg, w); err != nil {
			b.Fatal(err)
		}
	}
}
