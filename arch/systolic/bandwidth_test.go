package systolic

import (
	"fmt"
	"testing"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
)

func resnet18(t testing.TB) workloads.Workload {
	m, _ := workloads.Lookup("resnet18")
	w, err := m.Build(workloads.Params{})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// With finite bandwidth the array must wait: every layer takes at least its
// ideal cycles, stalls appear, and no channel moves data faster than its
// configured bandwidth.
func TestFiniteBandwidthStallsAndBound(t *testing.T) {
	w := resnet18(t)
	for _, df := range []string{"os", "ws", "is"} {
		ideal, err := configs.Load("systolic-32x32", []string{"dram.model=ideal", "dataflow=" + df})
		if err != nil {
			t.Fatal(err)
		}
		slow, err := configs.Load("systolic-32x32", []string{"dram.bandwidth_gbps=2", "dataflow=" + df})
		if err != nil {
			t.Fatal(err)
		}
		ri, err := Simulate(ideal, w)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := Simulate(slow, w)
		if err != nil {
			t.Fatal(err)
		}
		var stalls, elapsed, bytes int64
		for i := range rs.Layers {
			li, ls := ri.Layers[i], rs.Layers[i]
			if ls.Cycles() < li.Cycles() {
				t.Errorf("%s %s: %d cycles with 2 GB/s < %d ideal", df, ls.Layer.Name, ls.Cycles(), li.Cycles())
			}
			if li.StallCycles() != 0 {
				t.Errorf("%s %s: ideal DRAM stalled %d cycles", df, li.Layer.Name, li.StallCycles())
			}
			stalls += ls.StallCycles()
			elapsed += ls.Elapsed
			bytes += ls.DRAMReadBytes + ls.DRAMWriteBytes
		}
		if stalls <= 0 {
			t.Errorf("%s: no stalls at 2 GB/s", df)
		}
		// 2 GB/s at 1 GHz is 2 bytes per cycle on the one channel.
		if got := float64(bytes) / float64(elapsed); got > 2.0+1e-9 {
			t.Errorf("%s: achieved %.3f B/cycle > configured 2", df, got)
		}
		var chBytes int64
		for _, c := range rs.Channels {
			chBytes += c.ReadBytes + c.WriteBytes
		}
		if chBytes != bytes {
			t.Errorf("%s: channels moved %d bytes, layers asked for %d", df, chBytes, bytes)
		}
	}
}

// Double buffering overlaps fetch and compute, so it never makes a run slower.
func TestDoubleBufferingHelps(t *testing.T) {
	w := resnet18(t)
	run := func(db string) int64 {
		c, err := configs.Load("systolic-32x32", []string{"buffers.double_buffered=" + db})
		if err != nil {
			t.Fatal(err)
		}
		r, err := Simulate(c, w)
		if err != nil {
			t.Fatal(err)
		}
		var s int64
		for _, l := range r.Layers {
			s += l.Cycles()
		}
		return s
	}
	single, double := run("false"), run("true")
	if double >= single {
		t.Errorf("double-buffered %d cycles ≥ single-buffered %d", double, single)
	}
}

func BenchmarkResNet18Channel(b *testing.B) {
	cfg, err := configs.Load("systolic-32x32", nil)
	if err != nil {
		b.Fatal(err)
	}
	w := resnet18(b)
	var events, cycles int64
	for i := 0; i < b.N; i++ {
		r, err := Simulate(cfg, w)
		if err != nil {
			b.Fatal(err)
		}
		events = r.Events
		cycles = 0
		for _, l := range r.Layers {
			cycles += l.Elapsed
		}
	}
	b.ReportMetric(float64(events), "events/op")
	b.ReportMetric(float64(cycles)*float64(b.N)/b.Elapsed().Seconds(), "sim-cycles/s")
}

// channelAndDetailed runs a bandwidth-bound and a latency-bound GEMM in
// dataflow df on the channel model and on akita's detailed DRAM, the same
// config otherwise (sets added).
func channelAndDetailed(t *testing.T, df string, sets ...string) (channel, detailed *arch.Result) {
	t.Helper()
	w := workloads.Workload{Layers: []workloads.Layer{workloads.GEMM("a", 256, 128, 512), workloads.GEMM("b", 64, 512, 1024)}}
	var res [2]*arch.Result
	for i, model := range []string{"channel", "detailed"} {
		c, err := configs.Load("systolic-32x32", append([]string{"dram.model=" + model, "dataflow=" + df}, sets...))
		if err != nil {
			t.Fatal(err)
		}
		if res[i], err = Simulate(c, w); err != nil {
			t.Fatal(err)
		}
	}
	return res[0], res[1]
}

// The channel model is checked against akita's cycle-level DRAM with the
// DDR4-2400 preset on the same traffic: both see 19.2 GB/s peak, and the
// channel model's 50 ns latency stands for tRCD + tCL plus queueing. Measured
// agreement is within 2.5% per layer; 5% is the bound asserted.
func TestChannelModelAgreesWithDetailedDRAM(t *testing.T) {
	for _, df := range []string{"os", "ws"} {
		chr, der := channelAndDetailed(t, df)
		for j := range chr.Layers {
			ch, de := chr.Layers[j], der.Layers[j]
			if ch.DRAMReadBytes != de.DRAMReadBytes || ch.DRAMWriteBytes != de.DRAMWriteBytes {
				t.Errorf("%s %s: traffic differs between DRAM models", df, ch.Layer.Name)
			}
			if rel := float64(de.Cycles()-ch.Cycles()) / float64(ch.Cycles()); rel > 0.05 || rel < -0.05 {
				t.Errorf("%s %s: detailed %d vs channel %d cycles (%.1f%%)", df, ch.Layer.Name, de.Cycles(), ch.Cycles(), 100*rel)
			}
			if de.StallCycles() <= 0 {
				t.Errorf("%s %s: detailed DRAM never stalled the array", df, de.Layer.Name)
			}
		}
	}
}

// akita's DRAM controller (v4.9.2) is close-page only: every burst
// activates its row and precharges after it, so a stream that rotates over
// banks issues one activation per burst, and the activation-to-activation
// gap tRRD_S caps it at one burst per tRRD_S. On DDR4-2400 that ceiling
// equals the pins' 19.2 GB/s; on HBM2 (64-byte bursts, tRRD_S = 4 ns) it is
// 16 GB/s, half the 32 GB/s pin bandwidth. The check: detailed HBM2 is
// within 5% of the channel model set to that ceiling (computed here from
// the preset's timings) and never above it, on a bandwidth-bound (ws) and a
// latency-bound (os) pair of GEMMs.
func TestDetailedHBM2AtClosePageCeiling(t *testing.T) {
	p := configs.DRAMPresets["hbm2"]
	ceiling := float64(p.AccessBytes()) / (float64(p.TRRDS) * 1000 / p.ClockMHz) // bytes per ns = GB/s
	latency := float64(p.TRCD+p.TCL) * 1000 / p.ClockMHz
	for _, df := range []string{"os", "ws"} {
		chr, der := channelAndDetailed(t, df, "dram.preset=hbm2",
			fmt.Sprintf("dram.bandwidth_gbps=%g", ceiling), fmt.Sprintf("dram.latency_ns=%g", latency))
		for j := range chr.Layers {
			ch, de := chr.Layers[j], der.Layers[j]
			if rel := float64(de.Cycles()-ch.Cycles()) / float64(ch.Cycles()); rel > 0.05 || rel < -0.05 {
				t.Errorf("%s %s: detailed HBM2 %d vs channel at %.1f GB/s %d cycles (%.1f%%)", df, ch.Layer.Name, de.Cycles(), ceiling, ch.Cycles(), 100*rel)
			}
			ns := float64(de.Cycles()) * 1000 / der.Config.ClockMHz
			if gbps := float64(de.DRAMReadBytes+de.DRAMWriteBytes) / ns; gbps > ceiling*1.001 {
				t.Errorf("%s %s: detailed HBM2 moved %.2f GB/s, above the close-page ceiling %.1f", df, de.Layer.Name, gbps, ceiling)
			}
		}
	}
}
