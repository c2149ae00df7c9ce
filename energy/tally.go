package energy

import (
	"fmt"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

// Tally counts the priced actions of measured work in integers, so that a
// run's energy does not depend on the order its parts are added in: a
// memoized LLM run (one measurement counted k times) and the same run on
// one engine (k measurements) give the same counts and so, priced once at
// the end (Meter.Price), the same bits. Each count has one price per
// config.
type Tally struct {
	MACs         int64
	Registers    int64 // systolic register accesses: 3 a MAC
	ShadowWrites int64 // the second write of a weight a shadow register loads
	SRAMWords    [3]int64
	DRAMUseful   int64 // bytes
	DRAMWaste    int64 // bytes moved beyond the useful ones
	MuxSelects   int64 // N:M select stages: MACs × log2(M)
	MaskCompares int64
}

// Add adds o to t.
func (t *Tally) Add(o Tally) {
	t.MACs += o.MACs
	t.Registers += o.Registers
	t.ShadowWrites += o.ShadowWrites
	for i := range t.SRAMWords {
		t.SRAMWords[i] += o.SRAMWords[i]
	}
	t.DRAMUseful += o.DRAMUseful
	t.DRAMWaste += o.DRAMWaste
	t.MuxSelects += o.MuxSelects
	t.MaskCompares += o.MaskCompares
}

// TallyLayer counts times runs of a measured layer: what Layer prices.
func (m *Meter) TallyLayer(l arch.LayerStats, times int64) Tally {
	t := Tally{MACs: l.MACs * times}
	if !m.engine {
		t.Registers = 3 * l.MACs * times
		if st, ok := shadowOperand(m.cfg, l.Dataflow); ok {
			t.ShadowWrites = l.SRAMReads[st] * times
		}
	}
	for i := range 3 {
		t.SRAMWords[i] = (l.SRAMReads[i] + l.SRAMWrites[i]) * times
	}
	var requests int64
	for _, tr := range l.Traffic {
		requests += tr.Requests
	}
	useful, moved := l.DRAMReadBytes+l.DRAMWriteBytes, requests*int64(m.cfg.DRAM.RequestBytes)
	t.DRAMUseful = useful * times
	t.DRAMWaste = max(0, moved-useful) * times
	if l.Pattern != "" && l.Pattern != "dense" {
		var n, mm int
		fmt.Sscanf(l.Pattern, "%d:%d", &n, &mm)
		t.MuxSelects = l.MACs * times * int64(nm.CeilLog2(mm))
	}
	if l.MaskGroups > 0 {
		t.MaskCompares = l.MaskGroups * times * int64(arch.MaskGenCompares(l.MaskM))
	}
	return t
}

// TallyDRAM counts DRAM traffic outside the array's layers: useful bytes
// and the bytes the bus moved for them (0 when only the useful are known).
func TallyDRAM(useful, moved int64) Tally {
	return Tally{DRAMUseful: useful, DRAMWaste: max(0, moved-useful)}
}

// components prices each count of t, by component, in a fixed order.
func (m *Meter) components(t Tally) []struct {
	name string
	pj   float64
} {
	tb, wordBits := m.t, float64(m.wordBits)
	on := m.scale * m.overhead // on-chip energies scale with the node
	reg := tb["reg_16b"].PJ * wordBits / 16
	out := []struct {
		name string
		pj   float64
	}{
		{"pe_array", float64(t.MACs) * tb.MAC(m.cfg.PEArray.DType) * on},
		{"registers", float64(t.Registers) * reg * on},
		{"shadow_weights", float64(t.ShadowWrites) * reg * on},
	}
	for i := range 3 {
		out = append(out, struct {
			name string
			pj   float64
		}{m.bufName[i], float64(t.SRAMWords[i]) * tb.SRAMWord(m.bufKB[i], m.wordBits) * on})
	}
	return append(out, []struct {
		name string
		pj   float64
	}{
		{"dram", float64(8*t.DRAMUseful) * m.dramBit},
		{"dram_burst_waste", float64(8*t.DRAMWaste) * m.dramBit},
		{"nm_mux", float64(t.MuxSelects) * tb["mux_select_8b"].PJ * wordBits / 8 * on},
		{"mask_unit", float64(t.MaskCompares) * tb["add_8b"].PJ * wordBits / 8 * on},
	}...)
}

// Price is t's energy, pJ.
func (m *Meter) Price(t Tally) float64 {
	var pj float64
	for _, c := range m.components(t) {
		pj += c.pj
	}
	return pj
}

// Charge adds t to the meter's account, by component: the array's, its
// buffers' and the DRAM's always (as Layer does), the others when they
// have a count.
func (m *Meter) Charge(t Tally) {
	always := map[string]bool{"pe_array": true, "registers": !m.engine, "dram": true,
		m.bufName[0]: true, m.bufName[1]: true, m.bufName[2]: true}
	for _, c := range m.components(t) {
		if c.pj != 0 || always[c.name] {
			m.b.ByComponent[c.name] += c.pj
		}
	}
}
