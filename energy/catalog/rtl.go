package catalog

import (
	_ "embed"
	"encoding/csv"
	"strconv"
	"strings"
)

//go:embed rtl_resources.csv
var rtlCSV string

// SynthCost is one row of rtl_resources.csv: a unit's yosys synth_xilinx
// resource count at one parameter set, and the command that made it
// (`make rtl-synth` regenerates the file).
type SynthCost struct {
	Unit         string
	Params       map[string]int
	LUT, FF, DSP float64
	Command      string
}

// SynthCosts parses the embedded table.
func SynthCosts() []SynthCost {
	recs, err := csv.NewReader(strings.NewReader(rtlCSV)).ReadAll()
	if err != nil || len(recs) < 1 {
		return nil
	}
	var out []SynthCost
	for _, r := range recs[1:] {
		c := SynthCost{Unit: r[0], Params: map[string]int{}, Command: r[9]}
		for _, kv := range strings.Fields(r[1]) {
			k, v, _ := strings.Cut(kv, "=")
			c.Params[k], _ = strconv.Atoi(v)
		}
		c.LUT, _ = strconv.ParseFloat(r[2], 64)
		c.FF, _ = strconv.ParseFloat(r[3], 64)
		c.DSP, _ = strconv.ParseFloat(r[4], 64)
		out = append(out, c)
	}
	return out
}

// FindSynth returns the row of unit whose parameters include all of want.
func FindSynth(unit string, want map[string]int) (SynthCost, bool) {
	for _, c := range SynthCosts() {
		if c.Unit != unit {
			continue
		}
		ok := true
		for k, v := range want {
			ok = ok && c.Params[k] == v
		}
		if ok {
			return c, true
		}
	}
	return SynthCost{}, false
}
