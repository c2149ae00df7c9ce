package energy

import (
	"maps"
	"slices"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/energy/catalog"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

// Breakdown is a run's energy.
type Breakdown struct {
	TotalPJ       float64            `json:"total_pj"`
	AveragePowerW float64            `json:"average_power_w"`
	TechnologyNM  float64            `json:"technology_nm"`
	ScaleFactor   float64            `json:"scale_factor"`
	DRAMType      string             `json:"dram_type"`
	ByComponent   map[string]float64 `json:"by_component_pj"`
	ByClass       map[string]float64 `json:"by_class_pj"`
	// LayerPJ is each layer's energy: its own actions plus its
	// elapsed-time share of run-wide ones (leakage, static power, and the
	// attention engine's softmax and top-k).
	LayerPJ []float64 `json:"-"`
}

// componentClass sorts components into compute / sram / dram / other.
var componentClass = map[string]string{
	"pe_array": "compute", "registers": "compute", "shadow_weights": "compute", "nm_mux": "compute", "softmax": "compute",
	"ifmap_sram": "sram", "filter_sram": "sram", "ofmap_sram": "sram", "k_sram": "sram", "v_sram": "sram",
	"dram": "dram", "dram_burst_waste": "dram",
	"mask_unit": "other", "topk": "other", "importance": "other", "leakage": "other", "fpga_static": "other",
}

// dramTypes maps DRAM presets to energy-table memory types.
var dramTypes = map[string]string{"ddr4-2400": "ddr4", "hbm2": "hbm2"}

// Meter prices actions as they are measured, with Estimate's tables: a
// run that is not one arch.Result (an LLM phase, whose GEMMs are measured
// operator by operator and repeated) prices each layer and each transfer
// outside the array as it comes, then closes the account with the time
// it took (leakage, static power).
type Meter struct {
	cfg      *configs.Config
	t        catalog.Table
	scale    float64
	overhead float64
	dramBit  float64
	dev      *catalog.Device
	wordBits int
	bufKB    [3]float64
	bufName  [3]string
	engine   bool // the attention engine's: no systolic registers
	b        *Breakdown
}

// NewMeter prices cfg's actions; attention names the attention engine's
// buffers (k_sram, v_sram) and leaves out the systolic PE's registers.
func NewMeter(cfg *configs.Config, attention bool) (*Meter, error) {
	t, err := catalog.Base().With(cfg.Energy.Overrides)
	if err != nil {
		return nil, err
	}
	scale, err := Scale(cfg.Energy.TechnologyNM)
	if err != nil {
		return nil, err
	}
	dramType := cfg.Energy.DRAM
	if dramType == "" {
		dramType = dramTypes[cfg.DRAM.Preset]
	}
	dramBit, err := t.DRAMBit(dramType)
	if err != nil {
		return nil, err
	}
	m := &Meter{cfg: cfg, t: t, scale: scale, overhead: 1, dramBit: dramBit, wordBits: 8 * cfg.WordBytes(),
		bufName: [3]string{"ifmap_sram", "filter_sram", "ofmap_sram"},
		b: &Breakdown{TechnologyNM: cfg.Energy.TechnologyNM, ScaleFactor: scale, DRAMType: dramType,
			ByComponent: map[string]float64{}, ByClass: map[string]float64{}}}
	if cfg.FPGA.Device != "" {
		d := catalog.Devices[cfg.FPGA.Device]
		m.dev, m.overhead = &d, d.DynamicOverhead
	}
	slot := func(kb float64) float64 {
		if cfg.Buffers.DoubleBuffered {
			return kb / 2
		}
		return kb
	}
	m.bufKB = [3]float64{slot(cfg.Buffers.IfmapKB), slot(cfg.Buffers.FilterKB), slot(cfg.Buffers.OfmapKB)}
	if attention {
		m.bufName, m.engine = [3]string{"k_sram", "v_sram", "ofmap_sram"}, true
	}
	return m, nil
}

func (m *Meter) chip(component string, pj float64) {
	m.b.ByComponent[component] += pj * m.scale * m.overhead
}

// Layer prices times runs of a measured layer (times 1: exactly Estimate's
// charge for it) and returns their energy, pJ: its Tally, charged. The
// systolic registers are charged unless the meter is the attention
// engine's.
func (m *Meter) Layer(l arch.LayerStats, times int64) float64 {
	before := sum(m.b.ByComponent)
	m.Charge(m.TallyLayer(l, times))
	return sum(m.b.ByComponent) - before
}

// Finish closes the account over a run of cycles: leakage and an FPGA's
// static power for that time, the class totals and the average power.
func (m *Meter) Finish(cycles int64) *Breakdown {
	b, t, cfg := m.b, m.t, m.cfg
	seconds := float64(cycles) / (cfg.ClockMHz * 1e6)
	pes := float64(cfg.PEs())
	sramKiB := cfg.Buffers.IfmapKB + cfg.Buffers.FilterKB + cfg.Buffers.OfmapKB
	leakMW := pes*t["leak_pe_mw"].PJ + sramKiB*t["leak_sram_kib_mw"].PJ
	b.ByComponent["leakage"] = leakMW * m.scale * seconds * 1e9 // mW·s = 1e9 pJ
	if m.dev != nil {
		b.ByComponent["fpga_static"] = m.dev.StaticW * seconds * 1e12
	}
	for _, c := range keysOf(b.ByComponent) {
		b.ByClass[componentClass[c]] += b.ByComponent[c]
	}
	b.TotalPJ = sum(b.ByComponent)
	if seconds > 0 {
		b.AveragePowerW = b.TotalPJ * 1e-12 / seconds
	}
	return b
}

// Estimate prices the run's actions. On-chip energies scale with the
// technology node; DRAM energy is the memory device's and does not. FPGA
// targets multiply on-chip dynamic energy by the device's FPGA/ASIC
// overhead and add its static power.
func Estimate(cfg *configs.Config, r *arch.Result) (*Breakdown, error) {
	m, err := NewMeter(cfg, r.Attention != nil)
	if err != nil {
		return nil, err
	}
	var elapsed int64
	own := make([]float64, len(r.Layers))
	for i, l := range r.Layers {
		elapsed += l.Elapsed
		own[i] = m.Layer(l, 1)
	}
	shared := sum(m.b.ByComponent)
	if a := r.Attention; a != nil {
		t, wordBits := m.t, float64(m.wordBits)
		m.chip("softmax", float64(a.SoftmaxElems)*t["softmax_elem"].PJ)
		m.chip("importance", float64(a.ImportanceAdds)*t["add_8b"].PJ*2) // 16-bit accumulate
		// Per candidate and round: a compare, the zero eliminator's
		// nm.CeilLog2(c)-step prefix sum and nm.CeilLog2(c) shift stages, and a FIFO write.
		lg := float64(nm.CeilLog2(cfg.Attention.TopKComparators))
		perElem := t["add_8b"].PJ*wordBits/8*(1+lg) + t["mux_select_8b"].PJ*wordBits/8*lg +
			t["reg_16b"].PJ*wordBits/16
		m.chip("topk", float64(a.TopKCompares)*perElem)
	}
	b := m.Finish(elapsed)
	// Run-wide energy goes to layers by their share of the elapsed time.
	shared = b.TotalPJ - shared
	b.LayerPJ = make([]float64, len(r.Layers))
	for i, l := range r.Layers {
		b.LayerPJ[i] = own[i]
		if elapsed > 0 {
			b.LayerPJ[i] += shared * float64(l.Elapsed) / float64(elapsed)
		}
	}
	return b, nil
}

// sum adds a map's values in sorted key order, so totals are bit-identical
// run to run.
func sum(m map[string]float64) float64 {
	var s float64
	for _, k := range keysOf(m) {
		s += m[k]
	}
	return s
}

func keysOf(m map[string]float64) []string { return slices.Sorted(maps.Keys(m)) }

// shadowOperand is the buffer whose words a shadow weight register
// loads (pe_array.weight_buffers: 2): the stationary operand of a
// dataflow that preloads.
func shadowOperand(cfg *configs.Config, df string) (int, bool) {
	if cfg.PEArray.WeightBuffers < 2 {
		return 0, false
	}
	switch df {
	case "ws":
		return 1, true // the filter buffer
	case "is":
		return 0, true // the ifmap buffer
	}
	return 0, false
}
