package rtl

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// SynthResult is one unit's yosys resource count.
type SynthResult struct {
	Unit         string
	Params       map[string]int
	LUT, FF, DSP int
	CARRY, MUXF  int
	Cells        int // synth_xilinx cells
	GenericCells int // generic synth cells
	Command      string
}

// ParamString renders parameters as "M=8 N=2 W=8" (sorted).
func ParamString(p map[string]int) string {
	var keys []string
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var s []string
	for _, k := range keys {
		s = append(s, fmt.Sprintf("%s=%d", k, p[k]))
	}
	return strings.Join(s, " ")
}

var cellLine = regexp.MustCompile(`^\s+(\S+)\s+(\d+)\s*$`)
var cellsTotal = regexp.MustCompile(`Number of cells:\s+(\d+)`)

// parseStat reads the last statistics block yosys printed.
func parseStat(out string) (cells map[string]int, total int) {
	i := strings.LastIndex(out, "Number of cells:")
	if i < 0 {
		return nil, 0
	}
	cells = map[string]int{}
	m := cellsTotal.FindStringSubmatch(out[i:])
	total, _ = strconv.Atoi(m[1])
	for _, line := range strings.Split(out[i:], "\n")[1:] {
		mm := cellLine.FindStringSubmatch(line)
		if mm == nil {
			if strings.TrimSpace(line) == "" {
				continue
			}
			break
		}
		n, _ := strconv.Atoi(mm[2])
		cells[mm[1]] = n
	}
	return cells, total
}

// Synth runs yosys twice on a unit: generic synth (total cells) and
// synth_xilinx for UltraScale+ (LUT, FF, DSP, CARRY, MUXF).
func Synth(u *Unit, p map[string]int) (SynthResult, error) {
	r := SynthResult{Unit: u.Name, Params: p}
	dir, err := os.MkdirTemp("", "sparsesim-synth")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	src, err := Source(u.Name)
	if err != nil {
		return r, err
	}
	file := filepath.Join(dir, u.Name+".v")
	if err := os.WriteFile(file, src, 0o644); err != nil {
		return r, err
	}
	var sets []string
	for _, k := range strings.Fields(ParamString(p)) {
		kv := strings.SplitN(k, "=", 2)
		sets = append(sets, "-set "+kv[0]+" "+kv[1])
	}
	chparam := fmt.Sprintf("chparam %s %s", strings.Join(sets, " "), u.Name)
	run := func(flow string) (string, string, error) {
		script := fmt.Sprintf("read_verilog %s; %s; %s -top %s; stat", "rtl/src/"+u.Name+".v", chparam, flow, u.Name)
		cmd := exec.Command("yosys", "-p", strings.ReplaceAll(script, "rtl/src/"+u.Name+".v", file))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), "yosys -p '" + script + "'", err
	}
	out, _, err := run("synth -flatten")
	if err != nil {
		return r, fmt.Errorf("yosys synth %s: %v\n%s", u.Name, err, out)
	}
	_, r.GenericCells = parseStat(out)
	out, command, err := run("synth_xilinx -family xcup -flatten -noiopad")
	if err != nil {
		return r, fmt.Errorf("yosys synth_xilinx %s: %v\n%s", u.Name, err, out)
	}
	cells, total := parseStat(out)
	r.Cells, r.Command = total, command
	for name, n := range cells {
		switch {
		case strings.HasPrefix(name, "LUT"):
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
		return r, fmt.Errorf("yosys reported no cells for %s", u.Name)
	}
	return r, nil
}

// SynthCSVHeader is the resource table's header (energy/catalog reads it).
const SynthCSVHeader = "unit,params,lut,ff,dsp,carry,muxf,cells,generic_cells,command\n"

// CSV renders one row.
func (r SynthResult) CSV() string {
	return fmt.Sprintf("%s,%s,%d,%d,%d,%d,%d,%d,%d,%q\n", r.Unit, ParamString(r.Params), r.LUT, r.FF, r.DSP, r.CARRY, r.MUXF,
		r.Cells, r.GenericCells, r.Command)
}
