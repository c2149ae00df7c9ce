package catalog

import (
	_ "embed"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed tables.yaml
var tablesYAML []byte

// Action is one table entry.
type Action struct {
	PJ     float64 `yaml:"pj"`
	Source string  `yaml:"source"`
}

// Table maps action names to energies at 45 nm.
type Table map[string]Action

var base Table

func init() {
	var doc struct {
		Actions Table `yaml:"actions"`
	}
	if err := yaml.Unmarshal(tablesYAML, &doc); err != nil {
		panic("energy: tables.yaml is malformed: " + err.Error())
	}
	base = doc.Actions
}

// Base returns a copy of the 45 nm table.
func Base() Table {
	t := Table{}
	for k, v := range base {
		t[k] = v
	}
	return t
}

// Names lists the table's actions, sorted.
func Names() []string { return slices.Sorted(maps.Keys(base)) }

// With returns the table with overrides (pJ at the target node's 45 nm
// equivalent, i.e. before scaling) applied; unknown names are an error.
func (t Table) With(over map[string]float64) (Table, error) {
	out := Table{}
	for k, v := range t {
		out[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(over)) {
		if _, ok := t[k]; !ok {
			return nil, fmt.Errorf("unknown energy action %q (known: %s)", k, strings.Join(Names(), ", "))
		}
		out[k] = Action{PJ: over[k], Source: "architecture override"}
	}
	return out, nil
}

// SRAMWord is the energy of one access of wordBits to an SRAM of kib KiB:
// a log-log fit through Horowitz's 64-bit points (8 KB, 32 KB, 1 MB),
// extended with the end slopes, and linear in the word width.
func (t Table) SRAMWord(kib float64, wordBits int) float64 {
	pts := []struct{ kb, pj float64 }{{8, t["sram_64b_8kb"].PJ}, {32, t["sram_64b_32kb"].PJ}, {1024, t["sram_64b_1mb"].PJ}}
	kib = math.Max(kib, 0.125)
	var pj float64
	seg := func(a, b int) float64 {
		s := math.Log(pts[b].pj/pts[a].pj) / math.Log(pts[b].kb/pts[a].kb)
		return pts[a].pj * math.Pow(kib/pts[a].kb, s)
	}
	switch {
	case kib <= pts[1].kb:
		pj = seg(0, 1)
	default:
		pj = seg(1, 2)
	}
	return pj * float64(wordBits) / 64
}

// MAC is the energy of one multiply-accumulate in dtype.
func (t Table) MAC(dtype string) float64 { return t["mac_"+dtype].PJ }

// DRAMBit is the DRAM energy per bit for a memory type.
func (t Table) DRAMBit(kind string) (float64, error) {
	a, ok := t["dram_bit_"+kind]
	if !ok {
		return 0, fmt.Errorf("unknown DRAM type %q (allowed: ddr4, lpddr4, hbm2, gddr5, ddr3)", kind)
	}
	return a.PJ, nil
}
