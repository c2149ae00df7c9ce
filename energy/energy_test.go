package energy_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/arch/engines"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/energy"
	"github.com/sparsesim/sparsesim/energy/catalog"
	"github.com/sparsesim/sparsesim/workloads"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// Each table value against its source (Horowitz ISSCC 2014; Accelergy's
// tables; shared/reference/README.md).
func TestTableAgainstSources(t *testing.T) {
	tb := catalog.Base()
	for name, want := range map[string]float64{
		"mac_int8": 0.2 + 0.03, "mac_int32": 3.1 + 0.1, "mac_fp16": 1.1 + 0.4, "mac_fp32": 3.7 + 0.9,
		"dram_bit_hbm2": 3.9, "dram_bit_lpddr4": 8, "dram_bit_gddr5": 14, "dram_bit_ddr3": 70, "reg_16b": 0.41,
	} {
		if !near(tb[name].PJ, want) || tb[name].Source == "" {
			t.Errorf("%s = %g (%q), want %g with a source", name, tb[name].PJ, tb[name].Source, want)
		}
	}
	for _, p := range []struct{ kb, pj float64 }{{8, 10}, {32, 20}, {1024, 100}} {
		if got := tb.SRAMWord(p.kb, 64); !near(got, p.pj) {
			t.Errorf("64-bit read of %g KB = %g pJ, want %g", p.kb, got, p.pj)
		}
	}
	if got := tb.SRAMWord(32, 16); !near(got, 5) {
		t.Errorf("16-bit word of a 32 KB SRAM = %g, want 20·16/64 = 5", got)
	}
	if a, b := tb.SRAMWord(16, 64), tb.SRAMWord(64, 64); !(a > 10 && a < 20 && b > 20 && b < 100) {
		t.Errorf("SRAM fit not monotone between points: 16 KB %g, 64 KB %g", a, b)
	}
	// Stillmaker & Baas factors from 45 nm.
	for nm, want := range map[float64]float64{45: 1, 32: 0.66, 20: 0.22, 16: 0.17, 7: 0.094} {
		if got, _ := energy.Scale(nm); !near(got, want) {
			t.Errorf("scale(%g nm) = %g, want %g", nm, got, want)
		}
	}
	if f, _ := energy.Scale(40); f < 0.66 || f > 1 {
		t.Errorf("40 nm factor %g not between 32 and 45 nm's", f)
	}
	if f, _ := energy.Scale(28); f < 0.22 || f > 0.66 {
		t.Errorf("28 nm factor %g not between 20 and 32 nm's", f)
	}
	if _, err := energy.Scale(5); err == nil {
		t.Error("5 nm accepted")
	}
}

func simulate(t *testing.T, cfg *configs.Config, w workloads.Workload) *arch.Result {
	t.Helper()
	r, err := engines.Simulate(cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Energy is linear in action counts: the same layer twice costs twice.
func TestEnergyLinearInActions(t *testing.T) {
	// Layers apart (no weight prefetch into the previous layer's span), so
	// two runs of a layer take exactly twice the time of one.
	cfg, _ := configs.Load("systolic-32x32", []string{"memory.prefetch_next_layer=false"})
	l := workloads.GEMM("g", 256, 128, 512)
	one, err := energy.Estimate(cfg, simulate(t, cfg, workloads.Workload{Layers: []workloads.Layer{l}}))
	if err != nil {
		t.Fatal(err)
	}
	two, _ := energy.Estimate(cfg, simulate(t, cfg, workloads.Workload{Layers: []workloads.Layer{l, l}}))
	if !near(two.TotalPJ, 2*one.TotalPJ) {
		t.Errorf("two layers %g pJ, one layer %g pJ", two.TotalPJ, one.TotalPJ)
	}
	// Compute energy is MACs × the table's MAC energy.
	macs := float64(256 * 128 * 512)
	if got := one.ByComponent["pe_array"]; !near(got, macs*0.23) {
		t.Errorf("PE energy %g, want %g", got, macs*0.23)
	}
	// An override changes exactly what it names.
	over := *cfg
	over.Energy.Overrides = map[string]float64{"mac_int8": 0.46}
	o, _ := energy.Estimate(&over, simulate(t, &over, workloads.Workload{Layers: []workloads.Layer{l}}))
	if !near(o.ByComponent["pe_array"], 2*one.ByComponent["pe_array"]) || !near(o.ByComponent["dram"], one.ByComponent["dram"]) {
		t.Error("override of mac_int8 did not double only the PE energy")
	}
	// Technology scaling applies on chip, not to DRAM.
	at7 := *cfg
	at7.Energy.TechnologyNM = 7
	s, _ := energy.Estimate(&at7, simulate(t, &at7, workloads.Workload{Layers: []workloads.Layer{l}}))
	if !near(s.ByComponent["pe_array"], 0.094*one.ByComponent["pe_array"]) || !near(s.ByComponent["dram"], one.ByComponent["dram"]) {
		t.Error("7 nm scaling wrong")
	}
	var sum float64
	for _, v := range one.ByClass {
		sum += v
	}
	if !near(sum, one.TotalPJ) {
		t.Error("classes do not add up to the total")
	}
}

func TestSATFitsAndOversizeRefused(t *testing.T) {
	cfg, err := configs.Load("sat-vcu1525", nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := energy.FPGA(cfg)
	if err != nil || !r.Fits || !r.ClockAchievable {
		t.Fatalf("sat-vcu1525 should fit the XCVU9P at 200 MHz: %+v %v", r, err)
	}
	// 4,096 int16 N:M PEs take one DSP48E2 each: yosys maps each PE's
	// multiplier of the whole array (sa_array, W=16, window 8) to one.
	if r.Units[0].Unit != "nm_pe_array" || r.Units[0].Res.DSP != 4096 || !strings.Contains(r.Units[0].Source, "sa_array") {
		t.Errorf("PE array %+v, want 4096 DSPs from the whole-array fit", r.Units[0])
	}
	big, _ := configs.Load("sat-vcu1525", []string{"pe_array.rows=128", "pe_array.cols=128"})
	r, _ = energy.FPGA(big)
	if r.Fits || !strings.Contains(r.Overfull(), "dsp") {
		t.Errorf("128x128 int16 (16,384 DSPs) fits a 6,840-DSP part: %s", r.Overfull())
	}
	// int8: the synthesised array still takes one DSP48E2 per PE (yosys
	// does not pack two int8 MACs into one, WP486-style).
	i8, _ := configs.Load("sat-vcu1525", []string{"pe_array.dtype=int8"})
	if r, _ = energy.FPGA(i8); r.Units[0].Res.DSP != 4096 || !strings.Contains(r.Units[0].Source, "W=8") {
		t.Errorf("int8: %g PE DSPs, want 4096 from the W=8 fit", r.Units[0].Res.DSP)
	}
	// The N:M window: 1:8 is supported, so a 64-row tile reads 64 groups
	// of 8 activations a cycle, 8× the dense fan-in.
	if w := energy.IfmapPortWords(cfg); w != 512 {
		t.Errorf("ifmap port %d words, want 512", w)
	}
	dense := *cfg
	dense.Sparsity.NM, dense.Sparsity.Supported = "dense", nil
	if w := energy.IfmapPortWords(&dense); w != 64 {
		t.Errorf("dense ifmap port %d words, want 64", w)
	}
}

func TestConfigValidatesEnergyNames(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.yaml")
	os.WriteFile(p, []byte("energy:\n  overrides:\n    mac_int9: 1\n"), 0o644)
	if _, err := configs.Load(p, nil); err == nil || !strings.Contains(err.Error(), "a.yaml:3: field energy.overrides.mac_int9") {
		t.Errorf("unknown action: %v", err)
	}
	os.WriteFile(p, []byte("fpga:\n  device: xc7a35t\n"), 0o644)
	if _, err := configs.Load(p, nil); err == nil || !strings.Contains(err.Error(), "a.yaml:2: field fpga.device") {
		t.Errorf("unknown device: %v", err)
	}
	if c, err := configs.Load("systolic-32x32", []string{"energy.overrides.mac_int8=0.5"}); err != nil || c.Energy.Overrides["mac_int8"] != 0.5 {
		t.Errorf("--set an override: %v", err)
	}
}

// DRAM energy is charged on what the bus moves (issue 27, item 4): the
// useful bytes as dram, the rest of each whole request as
// dram_burst_waste. GEMM 13×37×29 in os with 64 MB buffers moves 3,584
// bytes in requests for 1,931 useful ones.
func TestDRAMEnergyChargesWholeRequests(t *testing.T) {
	cfg, err := configs.Load("systolic-32x32", []string{"dataflow=os", "buffers.ifmap_kb=65536",
		"buffers.filter_kb=65536", "buffers.ofmap_kb=65536"})
	if err != nil {
		t.Fatal(err)
	}
	r := simulate(t, cfg, workloads.Workload{Layers: []workloads.Layer{workloads.GEMM("g", 13, 37, 29)}})
	l := r.Layers[0]
	useful := l.DRAMReadBytes + l.DRAMWriteBytes
	var requests int64
	for _, tr := range l.Traffic {
		requests += tr.Requests
	}
	moved := requests * int64(cfg.DRAM.RequestBytes)
	if moved <= useful {
		t.Fatalf("want burst waste: %d useful, %d moved", useful, moved)
	}
	b, err := energy.Estimate(cfg, r)
	if err != nil {
		t.Fatal(err)
	}
	bit, _ := catalog.Base().DRAMBit("ddr4")
	if got, want := b.ByComponent["dram"], float64(8*useful)*bit; !near(got, want) {
		t.Errorf("dram %g pJ, want %g (useful bytes)", got, want)
	}
	if got, want := b.ByComponent["dram_burst_waste"], float64(8*(moved-useful))*bit; !near(got, want) {
		t.Errorf("dram_burst_waste %g pJ, want %g", got, want)
	}
	if b.ByClass["dram"] != b.ByComponent["dram"]+b.ByComponent["dram_burst_waste"] {
		t.Error("the waste is not in the dram class")
	}
}

// pe_array.weight_buffers = 2 costs more per PE: from the shadow-weight
// array fit where one was synthesised (int8), else the single-register
// cost plus the stated bank assumption (int16).
func TestShadowWeightsCostMore(t *testing.T) {
	for _, dtype := range []string{"int8", "int16"} {
		one, err := configs.Load("sat-vcu1525", []string{"pe_array.dtype=" + dtype})
		if err != nil {
			t.Fatal(err)
		}
		two, err := configs.Load("sat-vcu1525", []string{"pe_array.dtype=" + dtype, "pe_array.weight_buffers=2"})
		if err != nil {
			t.Fatal(err)
		}
		r1, err1 := energy.FPGA(one)
		r2, err2 := energy.FPGA(two)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		a, b := r1.Units[0], r2.Units[0]
		if b.Res.LUT <= a.Res.LUT || b.Res.FF <= a.Res.FF || b.Res.DSP != a.Res.DSP {
			t.Errorf("%s: weight_buffers=2 %+v, not more LUT and FF than weight_buffers=1 %+v", dtype, b.Res, a.Res)
		}
		want := "shadow"
		if !strings.Contains(b.Source, want) {
			t.Errorf("%s: source %q does not name the shadow weights", dtype, b.Source)
		}
		t.Logf("%s per PE: LUT %.1f → %.1f, FF %.1f → %.1f (%s)", dtype, a.Res.LUT/float64(a.Count), b.Res.LUT/float64(b.Count),
			a.Res.FF/float64(a.Count), b.Res.FF/float64(b.Count), b.Source)
	}
}

// A Meter prices a measured layer exactly as Estimate does (the same
// charge, bit for bit, closed over the same time), and k runs of it as k
// times one; DRAM outside the array is charged on the bytes moved.
func TestMeterIsEstimate(t *testing.T) {
	cfg, _ := configs.Load("systolic-32x32", []string{"sparsity.nm=2:4"})
	r := simulate(t, cfg, workloads.Workload{Layers: []workloads.Layer{workloads.GEMM("g", 100, 96, 72)}})
	want, err := energy.Estimate(cfg, r)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := energy.NewMeter(cfg, false)
	own := m.Layer(r.Layers[0], 1)
	got := m.Finish(r.Layers[0].Elapsed)
	if got.TotalPJ != want.TotalPJ || got.ByComponent["nm_mux"] != want.ByComponent["nm_mux"] || got.ByComponent["nm_mux"] == 0 ||
		own != got.TotalPJ-got.ByComponent["leakage"] {
		t.Errorf("meter %+v (own %g), Estimate %+v", got, own, want)
	}
	m3, _ := energy.NewMeter(cfg, false)
	if three := m3.Layer(r.Layers[0], 3); !near(three, 3*own) {
		t.Errorf("three runs %g pJ, one %g", three, own)
	}
	md, _ := energy.NewMeter(cfg, false)
	if got, want := md.Price(energy.TallyDRAM(100, 128)), 8*128*17.5; !near(got, want) { // systolic-32x32: DDR4
		t.Errorf("DRAM of 100 useful bytes in 128 moved: %g pJ, want %g", got, want)
	}
	// The integer tally prices a layer as Layer does, and k runs as k
	// tallies added (the same bits whatever the order).
	if got := md.Price(md.TallyLayer(r.Layers[0], 1)); !near(got, own) {
		t.Errorf("tally of the layer %g pJ, Layer %g", got, own)
	}
	var k energy.Tally
	for range 3 {
		k.Add(md.TallyLayer(r.Layers[0], 1))
	}
	if md.Price(k) != md.Price(md.TallyLayer(r.Layers[0], 3)) {
		t.Errorf("three tallies added price apart from one of three runs")
	}
}
