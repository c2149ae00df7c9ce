package report

import (
	"bytes"
	"fmt"
	"path/filepath"
)

// ScaleSimFiles are the reports WriteScaleSim writes, named and laid out
// as SCALE-Sim v2 writes them so scripts written for it keep working.
var ScaleSimFiles = []string{"COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv", "DETAILED_ACCESS_REPORT.csv"}

// WriteScaleSim writes SCALE-Sim v2's three per-layer reports into dir
// (docs/report.md, "SCALE-Sim reports"): cycles and utilisations;
// average SRAM and DRAM bandwidth per operand in words per cycle; and the
// start and stop cycles and word counts of each operand's SRAM and DRAM
// traffic. Start and stop are the layer's span (sparsesim does not time
// each operand's stream separately). DRAM OFMAP writes include partial
// sums spilled; partial sums read back have no SCALE-Sim column and are
// in the JSON only (memory.read_bytes.psum).
func WriteScaleSim(dir string, r *Report) error {
	wb := float64(r.Config.WordBytes())
	pes := float64(r.Config.PEs())
	var comp, bw, det bytes.Buffer
	comp.WriteString("LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,\n")
	bw.WriteString("LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, Avg IFMAP DRAM BW, Avg FILTER DRAM BW, Avg OFMAP DRAM BW,\n")
	det.WriteString("LayerID, SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, SRAM Filter Start Cycle, SRAM Filter Stop Cycle, SRAM Filter Reads, " +
		"SRAM OFMAP Start Cycle, SRAM OFMAP Stop Cycle, SRAM OFMAP Writes, DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, DRAM IFMAP Reads, " +
		"DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, DRAM OFMAP Start Cycle, DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,\n")
	var start int64
	for i, l := range r.Layers {
		cyc := float64(max(1, l.Cycles))
		computeUtil := 0.0
		if l.ComputeCycles > 0 {
			computeUtil = 100 * float64(l.MACs) / (float64(l.ComputeCycles) * pes)
		}
		fmt.Fprintf(&comp, "%d, %d, %d, %.4f, %.4f, %.4f,\n", i, l.Cycles, l.StallCycles, 100*l.Utilization, 100*l.MappingEfficiency, computeUtil)
		var inRd, fRd, outWr int64
		if m := l.Memory; m != nil {
			inRd = m.ReadBytes["ifmap"]
			fRd = m.ReadBytes["filter"] + m.ReadBytes["metadata"]
			outWr = m.WriteBytes["ofmap"] + m.WriteBytes["psum"]
		}
		words := func(b int64) float64 { return float64(b) / wb }
		fmt.Fprintf(&bw, "%d, %.4f, %.4f, %.4f, %.4f, %.4f, %.4f,\n", i,
			float64(l.SRAMReads.Ifmap)/cyc, float64(l.SRAMReads.Filter)/cyc, float64(l.SRAMWrites.Ofmap)/cyc,
			words(inRd)/cyc, words(fRd)/cyc, words(outWr)/cyc)
		stop := start + l.Cycles
		fmt.Fprintf(&det, "%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %.0f, %d, %d, %.0f, %d, %d, %.0f,\n", i,
			start, stop, l.SRAMReads.Ifmap, start, stop, l.SRAMReads.Filter, start, stop, l.SRAMWrites.Ofmap,
			start, stop, words(inRd), start, stop, words(fRd), start, stop, words(outWr))
		start = stop + 1
	}
	for i, b := range []*bytes.Buffer{&comp, &bw, &det} {
		if err := WriteFileAtomic(filepath.Join(dir, ScaleSimFiles[i]), b.Bytes()); err != nil {
			return err
		}
	}
	return nil
}
