package rtl

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/sparsesim/sparsesim/energy/catalog"
)

// SynthArray runs yosys synth_xilinx -family xcup on a whole array
// (sa_array with its PEs; the fold controller and memories are not part of
// it). Shift-register LUTs (SRL16E/SRLC32E, the skew lines) are counted as
// LUTs: they occupy SLICEM LUTs. WB = 2 synthesises the shadow-weight
// array; WB = 1 rows carry no WB parameter, as before it existed, so their
// commands and rows stay the same.
func SynthArray(a catalog.ArraySize) (SynthResult, error) {
	iw := max(1, ceilLog2(a.M))
	p := map[string]int{"R": a.R, "C": a.C, "M": a.M, "W": a.W, "IW": iw, "ACC": catalog.ArrayACC(a.W)}
	if a.WB == 2 {
		p["WB"] = 2
	}
	r := SynthResult{Unit: catalog.ArrayUnit, Params: p}
	dir, err := os.MkdirTemp("", "sparsesim-synth-array")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	var files []string
	for _, f := range []string{"sa_pe.v", "sa_array.v"} {
		src, err := sources.ReadFile("src/" + f)
		if err != nil {
			return r, err
		}
		path := filepath.Join(dir, f)
		if err := os.WriteFile(path, src, 0o644); err != nil {
			return r, err
		}
		files = append(files, f)
	}
	var sets []string
	for _, kv := range strings.Fields(ParamString(p)) {
		k, v, _ := strings.Cut(kv, "=")
		sets = append(sets, "-set "+k+" "+v)
	}
	script := fmt.Sprintf("read_verilog %s; chparam %s sa_array; synth_xilinx -family xcup -flatten -noiopad -top sa_array; stat",
		strings.Join(files, " "), strings.Join(sets, " "))
	cmd := exec.Command("yosys", "-p", script)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return r, fmt.Errorf("yosys synth_xilinx sa_array %s: %v\n%s", ParamString(p), err, out.String())
	}
	cells, total := parseStat(out.String())
	r.Cells, r.Command = total, "yosys -p '"+strings.ReplaceAll(script, "read_verilog ", "read_verilog rtl/src/")+"'"
	r.Command = strings.Replace(r.Command, "sa_pe.v sa_array.v", "sa_pe.v rtl/src/sa_array.v", 1)
	for name, n := range cells {
		switch {
		case strings.HasPrefix(name, "LUT"), strings.HasPrefix(name, "SRL"):
			r.LUT += n
		case strings.HasPrefix(name, "FD"):
			r.FF += n
		case strings.HasPrefix(name, "DSP48"):
			r.DSP += n
		case strings.HasPrefix(name, "CARRY"):
			r.CARRY += n
		case strings.HasPrefix(name, "MUXF"):
			r.MUXF += n
		}
	}
	if r.Cells == 0 {
		return r, fmt.Errorf("yosys reported no cells for sa_array %s", ParamString(p))
	}
	return r, nil
}

func ceilLog2(m int) int {
	n := 0
	for 1<<n < m {
		n++
	}
	return n
}
