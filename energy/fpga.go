package energy

import (
	"fmt"
	"io"
	"math"

	"sort"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/energy/catalog"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

// overheadNote documents the FPGA energy assumptions.
const overheadNote = "FPGA dynamic energy = ASIC tables at the node x 14 (Kuon & Rose, IEEE TCAD 2007, " +
	"'Measuring the gap between FPGAs and ASICs': ~14x dynamic power); static power is an assumption " +
	"(3 W for the VU9P, 1 W for the ZU9EG)"

// Resources is a resource count.
type Resources struct {
	LUT, FF, DSP float64
	BRAM36, URAM float64
}

func (r *Resources) add(o Resources) {
	r.LUT += o.LUT
	r.FF += o.FF
	r.DSP += o.DSP
	r.BRAM36 += o.BRAM36
	r.URAM += o.URAM
}

// UnitUsage is one row of the utilisation table.
type UnitUsage struct {
	Unit   string    `json:"unit"`
	Count  int       `json:"count"`
	Res    Resources `json:"resources"`
	Source string    `json:"source"`
}

// FPGAReport is the resource estimate of a config on its device.
type FPGAReport struct {
	Device          string             `json:"device"`
	Units           []UnitUsage        `json:"units"`
	Total           Resources          `json:"total"`
	Available       Resources          `json:"available"`
	Utilization     map[string]float64 `json:"utilization"`
	Fits            bool               `json:"fits"`
	SLRsUsed        int                `json:"slrs_used"`
	EstClockMHz     float64            `json:"est_clock_mhz"`
	ClockAchievable bool               `json:"clock_achievable"`
	Notes           []string           `json:"notes"`
}

// peCost is one MAC unit by data type: DSP48E2 count (27×18 multiplier),
// LUTs and FFs. int8 packs two MACs per DSP when they share an operand
// (Xilinx WP486), as neighbouring PEs of a systolic row share the streamed
// activation. Float costs are assumptions in the range of Xilinx's
// Floating-Point Operator (PG060) for a multiplier plus an adder.
var peCost = map[string]Resources{
	"int8":  {DSP: 0.5, LUT: 16, FF: 48},
	"int16": {DSP: 1, LUT: 8, FF: 64},
	"int32": {DSP: 4, LUT: 40, FF: 128},
	"fp16":  {DSP: 1, LUT: 300, FF: 150},
	"bf16":  {DSP: 1, LUT: 250, FF: 150},
	"fp32":  {DSP: 2, LUT: 600, FF: 300},
}

// FPGA estimates cfg's resources on its device.
func FPGA(cfg *configs.Config) (*FPGAReport, error) {
	dev, ok := catalog.Devices[cfg.FPGA.Device]
	if !ok {
		return nil, fmt.Errorf("no FPGA device configured")
	}
	rep := &FPGAReport{Device: dev.Name, Available: Resources{LUT: float64(dev.LUT), FF: float64(dev.FF),
		DSP: float64(dev.DSP), BRAM36: float64(dev.BRAM36), URAM: float64(dev.URAM)}}
	w := 8 * cfg.WordBytes()
	pes := cfg.PEArray.Rows * cfg.PEArray.Cols
	unit := func(name string, count int, each Resources, src string) {
		dsp := each.DSP * float64(count)
		if dsp > 0 {
			dsp = math.Ceil(dsp - 1e-6) // a per-PE share times the PE count is a whole number
		}
		r := Resources{LUT: each.LUT * float64(count), FF: each.FF * float64(count), DSP: dsp,
			BRAM36: each.BRAM36 * float64(count), URAM: each.URAM * float64(count)}
		rep.Units = append(rep.Units, UnitUsage{Unit: name, Count: count, Res: r, Source: src})
		rep.Total.add(r)
	}
	// Calibrated costs: yosys synth_xilinx counts of the rtl/ units at a
	// matching parameter set (energy/catalog/rtl_resources.csv), else the
	// stated assumptions.
	synth := func(unitName string, want map[string]int, per float64) (Resources, string, bool) {
		c, ok := catalog.FindSynth(unitName, want)
		if !ok {
			return Resources{}, "", false
		}
		return Resources{LUT: c.LUT / per, FF: c.FF / per, DSP: c.DSP / per},
			fmt.Sprintf("yosys synth_xilinx of rtl/src/%s.v (%s)", unitName, paramList(want)) + perNote(per), true
	}
	if cfg.Engine == "spatten" {
		a := cfg.Attention
		unit("qk_multipliers", a.QKMultipliers, peCost[cfg.PEArray.DType], "MAC unit per multiplier (see pe cost)")
		unit("pv_multipliers", a.PVMultipliers, peCost[cfg.PEArray.DType], "MAC unit per multiplier")
		unit("softmax_lanes", a.SoftmaxLanes, Resources{DSP: 4, LUT: 400, FF: 400}, "assumption: Taylor exp + Newton divide per lane")
		if r, src, ok := synth("topk_pass", map[string]int{"C": a.TopKComparators, "W": w}, 1); ok {
			unit("topk_engine", 1, r, src)
		} else {
			lg := float64(nm.CeilLog2(a.TopKComparators))
			unit("topk_comparators", a.TopKComparators, Resources{LUT: float64(w)/2 + float64(w)*lg, FF: float64(w)},
				"assumption: carry-chain compare (w/2 LUT) + zero eliminator shift stages (w·nm.CeilLog2(c) LUT)")
		}
	} else {
		sparse := !cfg.Pattern().Dense() || len(cfg.Sparsity.Supported) > 0
		n, m := 1, 1
		if sparse {
			n, m = maxPattern(cfg)
		}
		name := "pe_array"
		if sparse {
			name = "nm_pe_array"
		}
		integer := strings.HasPrefix(cfg.PEArray.DType, "int")
		wb := max(1, cfg.PEArray.WeightBuffers)
		// shadow is what the shadow-weight PE adds where no shadow-weight
		// (WB = 2) array of this width and window was synthesised: two
		// banks of the weight word (W + index bits) and the bank bit beside
		// the shift register, and a 2:1 bank mux (a LUT3) per word bit plus
		// two. yosys synth of rtl/src/sa_pe.v WB=2 against WB=1, 2026-12-08
		// (synth_xilinx -family xcup, W=8 ACC=32): M=1 +10 LUT +17 FF
		// (42/66 against 32/49), M=4 +12 LUT +21 FF (52/96 against 40/75),
		// M=8 +14 LUT +23 FF (70/131 against 56/108): word+2 LUT, 2·word+1 FF.
		shadow, shadowNote := Resources{}, ""
		if wb == 2 {
			word := float64(w)
			if sparse {
				word += float64(max(1, nm.CeilLog2(m)))
			}
			shadow = Resources{LUT: word + 2, FF: 2*word + 1}
			shadowNote = fmt.Sprintf("; + %.0f LUT, %.0f FF per PE for the shadow weights (pe_array.weight_buffers=2: "+
				"two weight banks, the bank bit and the bank mux, as yosys gives for rtl/src/sa_pe.v WB=2 at W=8)", shadow.LUT, shadow.FF)
		}
		if f, ok := catalog.FitArrayWB(m, w, wb); ok && integer {
			// The whole array, synthesised: registers, window, select,
			// multiplier and skew lines (docs/energy.md states the fit),
			// with the shadow-weight PE when weight_buffers is 2.
			lut, ff, dsp := f.Estimate(cfg.PEArray.Rows, cfg.PEArray.Cols)
			per := float64(pes)
			unit(name, pes, Resources{LUT: lut / per, FF: ff / per, DSP: dsp / per}, arrayFitNote(f))
		} else if f, ok := catalog.FitArray(m, w); ok && integer {
			lut, ff, dsp := f.Estimate(cfg.PEArray.Rows, cfg.PEArray.Cols)
			per := float64(pes)
			pe := Resources{LUT: lut / per, FF: ff / per, DSP: dsp / per}
			pe.add(shadow)
			unit(name, pes, pe, arrayFitNote(f)+shadowNote)
		} else if !sparse {
			pe := peCost[cfg.PEArray.DType]
			src := "assumption: DSP48E2 MAC; int8 packs 2 per DSP (WP486)"
			if r, s, ok := synth("sys_pe", map[string]int{"W": w}, 1); ok && integer {
				pe.LUT, pe.FF, src = r.LUT, r.FF, s+"; DSPs by the WP486 packing rule (no whole-array fit for this width)"
			}
			pe.add(shadow)
			unit("pe_array", pes, pe, src+shadowNote)
		} else if r, src, ok := synth("nm_pe", map[string]int{"N": n, "M": m, "W": w}, float64(n)); ok {
			r.add(shadow)
			unit("nm_pe_array", pes, r, src+"; without pass-through registers or the activation window (no whole-array fit for this width and M)"+shadowNote)
		} else {
			pe := peCost[cfg.PEArray.DType]
			pe.add(shadow)
			unit("pe_array", pes, pe, "assumption: DSP48E2 MAC; int8 packs 2 per DSP (WP486)"+shadowNote)
			unit("nm_select", pes, Resources{LUT: float64(n * w * int(math.Ceil(float64(m-1)/3))), FF: float64(n * nm.CeilLog2(m))},
				"assumption: N M:1 muxes of w bits per PE (a LUT6 selects 4:1, so ceil((M−1)/3) LUTs a bit) + N nm.CeilLog2(M)-bit indices")
		}
		if sparse {
			if r, src, ok := synth("mask_gen", map[string]int{"N": n, "M": m, "W": w}, 1); ok {
				unit("mask_unit_lanes", cfg.Sparsity.MaskUnitLanes, r, src)
			} else {
				ce := cfg.Sparsity.MaskUnitLanes * int(arch.MaskGenCompares(m))
				unit("mask_unit", ce, Resources{LUT: 1.5 * float64(w), FF: 2},
					"assumption: per lane M(M−1)/2 magnitude comparators (w/2 LUT each on the carry chain, plus |x|) and rank bits")
			}
		}
	}
	for i, kb := range []float64{cfg.Buffers.IfmapKB, cfg.Buffers.FilterKB, cfg.Buffers.OfmapKB} {
		portBits := w * cfg.PEArray.Rows
		if cfg.Engine == "spatten" {
			portBits = w * 64
		} else if i == 0 {
			portBits = w * IfmapPortWords(cfg)
		}
		unit([]string{"ifmap_buffer", "filter_buffer", "ofmap_buffer"}[i], 1, memory(dev, kb, portBits), "BRAM36 512x72 / URAM 4Kx72, width or depth bound")
	}
	unit("dram_controllers", cfg.DRAM.Channels, Resources{LUT: 9000, FF: 12000, BRAM36: 25},
		"assumption: one DDR4 MIG + AXI port per channel (Xilinx PG150 reports several thousand LUTs)")
	unit("control", 1, Resources{LUT: 20000, FF: 30000, BRAM36: 10}, "assumption: controller, DMA and host interface")
	rep.Utilization = map[string]float64{"lut": rep.Total.LUT / rep.Available.LUT, "ff": rep.Total.FF / rep.Available.FF,
		"dsp": rep.Total.DSP / rep.Available.DSP, "bram36": rep.Total.BRAM36 / rep.Available.BRAM36}
	if dev.URAM > 0 {
		rep.Utilization["uram"] = rep.Total.URAM / rep.Available.URAM
	} else if rep.Total.URAM > 0 {
		rep.Utilization["uram"] = math.Inf(1)
	}
	worst := 0.0
	rep.Fits = true
	for _, u := range rep.Utilization {
		worst = math.Max(worst, u)
		if u > 1 {
			rep.Fits = false
		}
	}
	// Clock: full speed to 70% utilisation, then down linearly to 70% of
	// it at 100%; each SLR crossing costs 10% more.
	rep.SLRsUsed = max(1, int(math.Ceil(math.Min(worst, 1)*float64(dev.SLRs)-1e-9)))
	derate := 1.0
	if worst > 0.7 {
		derate = 1 - (math.Min(worst, 1) - 0.7)
	}
	rep.EstClockMHz = dev.BaseClockMHz * derate * math.Pow(0.9, float64(rep.SLRsUsed-1))
	rep.ClockAchievable = cfg.ClockMHz <= rep.EstClockMHz+1e-9
	rep.Notes = []string{"unit costs come from yosys synth_xilinx of rtl/ (energy/catalog/rtl_resources.csv) where a matching parameter set exists, else stated assumptions (docs/energy.md)",
		"clock: base " + fmt.Sprint(dev.BaseClockMHz) + " MHz, derated above 70% utilisation and by 10% per SLR crossing", overheadNote}
	return rep, nil
}

// arrayFitNote states the whole-array fit a PE cost comes from.
func arrayFitNote(f catalog.ArrayFit) string {
	kind := ""
	if f.WB == 2 {
		kind = ", shadow weights WB=2"
	}
	return fmt.Sprintf("yosys synth_xilinx of the whole rtl/src/sa_array.v (W=%d, window M=%d%s), least-squares fit over %d sizes: "+
		"%.1f LUT, %.1f FF, %.2f DSP per PE + %.1f LUT, %.1f FF per unit of R+C (skew lines); max fit error %.1f%%",
		f.W, f.M, kind, f.Points, f.PerPE[0], f.PerPE[1], f.PerPE[2], f.PerEdge[0], f.PerEdge[1], f.MaxFitErrPercent)
}

// IfmapPortWords is how many activation words the array reads from the
// ifmap buffer per cycle. A dense array reads one per row. An N:M array
// reads, per group of N rows, the whole window of M activations the PEs
// select from: a tile of rows spans at most (rows−1)/N + 1 groups, so
// ((rows−1)/N + 1)·M words, about M/N times the dense fan-in, at the
// supported pattern that needs the most.
func IfmapPortWords(cfg *configs.Config) int {
	rows := cfg.PEArray.Rows
	words := rows
	pats := append([]string{cfg.Sparsity.NM}, cfg.Sparsity.Supported...)
	for _, s := range pats {
		p, err := nm.Parse(s)
		if err != nil || p.Dense() {
			continue
		}
		words = max(words, ((rows-1)/p.N+1)*p.M)
	}
	return words
}

func perNote(per float64) string {
	if per == 1 {
		return ""
	}
	return fmt.Sprintf(", divided by %g (one PE per kept weight)", per)
}

// maxPattern is the widest N and M the PEs must support.
func maxPattern(cfg *configs.Config) (n, m int) {
	p := cfg.Pattern()
	n, m = p.N, p.M
	for _, s := range cfg.Sparsity.Supported {
		var a, b int
		fmt.Sscanf(s, "%d:%d", &a, &b)
		n, m = max(n, a), max(m, b)
	}
	return n, m
}

// memory maps a buffer of kb KiB read portBits wide per cycle onto block
// RAM: URAM (4K×72) for large buffers when the device has it, else BRAM36
// (512×72); the count is bound by the width or by the capacity.
func memory(dev catalog.Device, kb float64, portBits int) Resources {
	bits := kb * 1024 * 8
	width := math.Ceil(float64(portBits) / 72)
	if dev.URAM > 0 && kb >= 256 {
		return Resources{URAM: math.Max(width, math.Ceil(bits/(288*1024)))}
	}
	return Resources{BRAM36: math.Max(width, math.Ceil(bits/(36*1024)))}
}

// Table writes a Vivado-style utilisation table.
func (r *FPGAReport) Table(w io.Writer) error {
	tb := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithFooterAutoFormat(tw.Off))
	tb.Header("unit", "count", "LUT", "FF", "DSP", "BRAM36", "URAM")
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	for _, u := range r.Units {
		_ = tb.Append(u.Unit, u.Count, f(u.Res.LUT), f(u.Res.FF), f(u.Res.DSP), f(u.Res.BRAM36), f(u.Res.URAM))
	}
	_ = tb.Append("total", "", f(r.Total.LUT), f(r.Total.FF), f(r.Total.DSP), f(r.Total.BRAM36), f(r.Total.URAM))
	_ = tb.Append("available ("+r.Device+")", "", f(r.Available.LUT), f(r.Available.FF), f(r.Available.DSP), f(r.Available.BRAM36), f(r.Available.URAM))
	pct := func(k string) string { return fmt.Sprintf("%.1f%%", 100*r.Utilization[k]) }
	_ = tb.Append("utilisation", "", pct("lut"), pct("ff"), pct("dsp"), pct("bram36"), pct("uram"))
	if err := tb.Render(); err != nil {
		return err
	}
	fit := "fits"
	if !r.Fits {
		fit = "DOES NOT FIT"
	}
	// Two lines: one would pass 80 columns.
	_, err := fmt.Fprintf(w, "FPGA %s: %s; %d SLR(s)\nestimated clock %.0f MHz (configured clock achievable: %v)\n",
		r.Device, fit, r.SLRsUsed, r.EstClockMHz, r.ClockAchievable)
	return err
}

// Overfull names the resources over 100%, for the refusal message.
func (r *FPGAReport) Overfull() string {
	var s []string
	for _, k := range []string{"lut", "ff", "dsp", "bram36", "uram"} {
		if u, ok := r.Utilization[k]; ok && u > 1 {
			s = append(s, fmt.Sprintf("%s %.0f%%", k, 100*u))
		}
	}
	return strings.Join(s, ", ")
}

// paramList writes unit parameters as "M=8 N=4 W=16", sorted, for text a
// user reads (Go's map syntax is not for users).
func paramList(p map[string]int) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, p[k])
	}
	return strings.Join(parts, " ")
}
