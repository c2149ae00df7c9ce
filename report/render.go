package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/internal/atomicfile"
	"github.com/sparsesim/sparsesim/internal/usererr"
)

// Formats lists the output formats.
var Formats = []string{"table", "json", "csv"}

// Render writes the report in format.
func (r *Report) Render(w io.Writer, format string) error {
	switch format {
	case "json":
		return r.JSON(w)
	case "csv":
		return r.CSV(w)
	case "table", "":
		return r.Table(w)
	}
	return fmt.Errorf("unknown format %q (allowed: %s)", format, strings.Join(Formats, ", "))
}

// JSON writes the report as indented JSON.
func (r *Report) JSON(w io.Writer) error { return writeJSON(w, r) }

// writeJSON is every report's JSON form: two-space indented, one value.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

var csvHeader = []string{"layer", "kind", "phase", "dataflow", "nm", "m", "n", "k", "groups", "folds", "macs", "dense_macs", "cycles",
	"compute_cycles", "stall_cycles", "utilization", "mapping_efficiency",
	"sram_reads_ifmap", "sram_reads_filter", "sram_reads_ofmap",
	"sram_writes_ifmap", "sram_writes_filter", "sram_writes_ofmap",
	"dram_read_bytes", "dram_write_bytes", "metadata_bytes", "mask_gen_cycles", "achieved_bandwidth_gbps", "seconds", "speedup_vs_dense", "energy_pj",
	"memory_input", "memory_bound", "transferred_bytes", "compulsory_read_bytes", "compulsory_write_bytes"}

// csvHeaderFull is csvHeader followed by the memory model's read and write
// bytes per tensor kind (memory_read_ifmap, …, memory_write_extra).
var csvHeaderFull = func() []string {
	h := append([]string(nil), csvHeader...)
	for _, dir := range []string{"read", "write"} {
		for _, k := range arch.TensorKindNames {
			h = append(h, "memory_"+dir+"_"+k)
		}
	}
	return append(h, "mapping_order", "mapping_time_tile", "mapping_psums_on_chip")
}()

// mappingColumns are a layer's mapping columns; empty without a mapper.
func mappingColumns(m *arch.MappingChoice) []string {
	if m == nil {
		return make([]string, 3)
	}
	return []string{m.Order, strconv.Itoa(m.TimeTile), strconv.FormatBool(m.PsumsOnChip)}
}

// memoryColumns are a layer's memory-model columns; empty where the layer
// has no memory block (the attention engine's rows).
func memoryColumns(m *LayerMemory) []string {
	n := 5 + 2*len(arch.TensorKindNames)
	if m == nil {
		return make([]string, n)
	}
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	cols := []string{m.Input, m.Bound, i(m.TransferredBytes), i(m.CompulsoryReadBytes), i(m.CompulsoryWriteBytes)}
	for _, by := range []map[string]int64{m.ReadBytes, m.WriteBytes} {
		for _, k := range arch.TensorKindNames {
			cols = append(cols, i(by[k]))
		}
	}
	return cols
}

// CSV writes one row per layer and a final TOTAL row.
func (r *Report) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(csvHeaderFull)
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 10, 64) }
	// A speedup over the dense run does not apply to a dense run: empty,
	// as the JSON omits it (docs/report.md).
	// Energy in picojoules, in plain decimal (a whole network's total
	// is past where %g switches to an exponent).
	energy := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	na := func(v float64) string {
		if v == 0 {
			return ""
		}
		return f(v)
	}
	for _, l := range r.Layers {
		_ = cw.Write(append([]string{l.Name, l.Kind, l.Phase, l.Dataflow, l.NM, i(int64(l.M)), i(int64(l.N)), i(int64(l.K)), i(int64(l.Groups)),
			i(int64(l.Folds)), i(l.MACs), i(l.DenseMACs), i(l.Cycles), i(l.ComputeCycles), i(l.StallCycles),
			f(l.Utilization), f(l.MappingEfficiency),
			i(l.SRAMReads.Ifmap), i(l.SRAMReads.Filter), i(l.SRAMReads.Ofmap),
			i(l.SRAMWrites.Ifmap), i(l.SRAMWrites.Filter), i(l.SRAMWrites.Ofmap),
			i(l.DRAMReadBytes), i(l.DRAMWriteBytes), i(l.MetadataBytes), i(l.MaskGenCycles), f(l.AchievedBandwidthGBps), f(l.Seconds), na(l.SpeedupVsDense), energy(l.EnergyPJ)},
			append(memoryColumns(l.Memory), mappingColumns(l.Mapping)...)...))
	}
	t := r.Total
	total := []string{"TOTAL", "", "", "", "", "", "", "", "", "", i(t.MACs), i(t.DenseMACs), i(t.Cycles), "", i(t.StallCycles),
		f(t.Utilization), "", "", "", "", "", "", "", i(t.DRAMReadBytes), i(t.DRAMWriteBytes), i(t.MetadataBytes), i(t.MaskGenCycles),
		f(t.AchievedBandwidthGBps), f(t.Seconds), na(t.SpeedupVsDense), energy(t.EnergyPJ)}
	_ = cw.Write(append(total, make([]string, len(csvHeaderFull)-len(total))...))
	cw.Flush()
	return cw.Error()
}

// Table writes a human-readable summary within Width columns. The layer
// figures do not fit one table of that width, so they come in two keyed
// by layer (time and traffic; GEMM shape and array use), and a third for
// sparse runs (docs/report.md).
func (r *Report) Table(w io.Writer) error {
	c := r.Config
	p := lines{w}
	p.Printf("sparsesim: %s on %s", r.Workload.Name, c.Name)
	p.Printf("array %s %s at %.0f MHz; DRAM %s", c.ArrayLine(), c.Dataflow, c.ClockMHz, c.DRAM.Model)
	sparse := r.Total.DenseCycles > 0
	t := r.Total
	d := func(v int64) string { return strconv.FormatInt(v, 10) }
	pct := func(v float64) string { return fmt.Sprintf("%.2f", 100*v) }
	timeTb := FitTable{Header: []string{"layer", "cycles", "stalls", "DRAM rd", "DRAM wr", "GB/s"}, Wrap: 0,
		Footer: []string{"total", d(t.Cycles), d(t.StallCycles), HumanBytes(t.DRAMReadBytes), HumanBytes(t.DRAMWriteBytes),
			fmt.Sprintf("%.2f", t.AchievedBandwidthGBps)}}
	shapeTb := FitTable{Header: []string{"layer", "M", "N", "K", "groups", "util %", "map eff %"}, Wrap: 0,
		Footer: []string{"total", "", "", "", "", pct(t.Utilization), ""}}
	sparseTb := FitTable{Header: []string{"layer", "df", "N:M", "mask cyc", "speedup"}, Wrap: 0,
		Footer: []string{"total", "", "", d(t.MaskGenCycles), fmt.Sprintf("%.2fx", t.SpeedupVsDense)}}
	for _, l := range r.Layers {
		timeTb.Rows = append(timeTb.Rows, []string{l.Name, d(l.Cycles), d(l.StallCycles), HumanBytes(l.DRAMReadBytes),
			HumanBytes(l.DRAMWriteBytes), fmt.Sprintf("%.2f", l.AchievedBandwidthGBps)})
		shapeTb.Rows = append(shapeTb.Rows, []string{l.Name, strconv.Itoa(l.M), strconv.Itoa(l.N), strconv.Itoa(l.K),
			strconv.Itoa(l.Groups), pct(l.Utilization), pct(l.MappingEfficiency)})
		sparseTb.Rows = append(sparseTb.Rows, []string{l.Name, l.Dataflow, l.NM, d(l.MaskGenCycles), fmt.Sprintf("%.2fx", l.SpeedupVsDense)})
	}
	tables := []FitTable{timeTb, shapeTb}
	if sparse {
		tables = append(tables, sparseTb)
	}
	for i, tb := range tables {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := tb.Render(w); err != nil {
			return err
		}
	}
	if sparse {
		p.Printf("df: the dataflow the layer ran with; mask cyc: cycles it waited for the\n" +
			"mask-generation unit; speedup: the dense run's cycles ÷ its cycles here")
	}
	p.Printf("time at %.0f MHz: %.6g s; MACs: %d (dense-equivalent %d)", c.ClockMHz, t.Seconds, t.MACs, t.DenseMACs)
	p.Printf("simulated in %.3f s (%d events)", r.Sim.WallSeconds, r.Sim.Events)
	if a := r.Attention; a != nil {
		p.Printf("attention: %d rows in %d requests (%d fused 6-bit pairs)", a.Rows, a.Requests, a.FusedPairs)
		p.Printf("queries: %d, of which %d needed key LSBs", a.Queries, a.RequantQueries)
		p.Printf("fetched Q %s, K MSB %s, K LSB %s, V %s; wrote %s",
			HumanBytes(a.QBytes), HumanBytes(a.KMSBBytes), HumanBytes(a.KLSBBytes), HumanBytes(a.VBytes), HumanBytes(a.OutBytes))
		p.Printf("units busy (cycles): QK %d, Softmax %d, Importance %d, PV %d",
			a.UnitBusyCycles["QK"], a.UnitBusyCycles["Softmax"], a.UnitBusyCycles["Importance"], a.UnitBusyCycles["PV"])
		p.Printf("  TopK %d (local V %d, token %d, head %d)", a.UnitBusyCycles["TopK"], a.TopKLocalVCycles, a.TopKTokenCycles, a.TopKHeadCycles)
		p.Printf("%.3f TFLOPS effective, %.3f executed", a.EffectiveTFLOPS, a.ExecutedTFLOPS)
		if useful := t.DRAMReadBytes + t.DRAMWriteBytes; a.TransferredBytes > useful {
			p.Printf("DRAM bus moved %s in %d requests for %s of data (%.1f%% burst waste: rows narrower than a request, or kept tokens not contiguous)",
				HumanBytes(a.TransferredBytes), a.DRAMRequests, HumanBytes(useful), 100*float64(a.TransferredBytes-useful)/float64(a.TransferredBytes))
		}
		if a.KChunks+a.VChunks > 0 {
			p.Printf("streamed through the SRAMs in chunks (context larger than the buffer): %d requests' keys, %d requests' values", a.KChunks, a.VChunks)
		}
	}
	if e := r.Energy; e != nil {
		p.Printf("energy: %s at %g nm, average %.3f W, %.1f GOPS, %.1f GOPS/W;", HumanPJ(e.TotalPJ), e.TechnologyNM, e.AveragePowerW, t.GOPS, t.GOPSPerW)
		p.Printf("  compute %s, SRAM %s, DRAM %s (%s), other %s",
			HumanPJ(e.ByClass["compute"]), HumanPJ(e.ByClass["sram"]), HumanPJ(e.ByClass["dram"]), e.DRAMType, HumanPJ(e.ByClass["other"]))
	}
	if f := r.Functional; f != nil {
		p.Printf("functional check against the CPU kernels: %d layers checked, %d skipped", f.LayersChecked, f.LayersSkipped)
		mismatch := ""
		if f.FirstMismatch != "" {
			mismatch = ", first mismatch " + f.FirstMismatch
		}
		p.Printf("  match %v, max abs error %.3g, max rel error %.3g%s", f.Match, f.MaxAbsError, f.MaxRelError, mismatch)
	}
	if f := r.FPGA; f != nil {
		if err := f.Table(w); err != nil {
			return err
		}
	}
	if sparse {
		p.Printf("dense run of the same config: %d cycles (speedup %.3fx)", t.DenseCycles, t.SpeedupVsDense)
		p.Printf("N:M metadata: %s", HumanBytes(t.MetadataBytes))
	}
	return nil
}

// NewTable is the project's table style: headers as written.
func NewTable(w io.Writer) *tablewriter.Table {
	return tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithFooterAutoFormat(tw.Off))
}

// HumanPJ prints an energy with an SI unit.
func HumanPJ(pj float64) string {
	switch {
	case pj >= 1e12:
		return fmt.Sprintf("%.3f J", pj/1e12)
	case pj >= 1e9:
		return fmt.Sprintf("%.3f mJ", pj/1e9)
	case pj >= 1e6:
		return fmt.Sprintf("%.3f uJ", pj/1e6)
	case pj >= 1e3:
		return fmt.Sprintf("%.3f nJ", pj/1e3)
	}
	return fmt.Sprintf("%.3f pJ", pj)
}

// HumanBytes prints a byte count with a binary unit.
func HumanBytes(b int64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := int64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTPE"[exp])
}

// WriteFileAtomic writes data to path via a temporary file in the same
// directory and a rename, so readers never see a half-written file. Missing
// parent directories are created; the file is atomicfile.Mode (0644), as
// every output file is.
func WriteFileAtomic(path string, data []byte) error { return atomicfile.Write(path, data) }

// writePlot renders p at w×h in the format ext names (".png", ".svg", …)
// and writes it to path atomically; flag names the option in errors.
func writePlot(p *plot.Plot, w, h vg.Length, path, ext, flag string) error {
	wt, err := p.WriterTo(w, h, ext[1:])
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return err
	}
	if err := WriteFileAtomic(path, buf.Bytes()); err != nil {
		return usererr.New("%s %s: %v", flag, path, err)
	}
	return nil
}
