package catalog

import (
	"maps"
	"slices"
)

// Device is an FPGA part.
type Device struct {
	Name            string
	Source          string
	LUT, FF, DSP    int
	BRAM36, URAM    int
	SLRs            int
	BaseClockMHz    float64 // what a well-pipelined design closes at low utilisation
	StaticW         float64 // static power, assumption
	DynamicOverhead float64 // FPGA / ASIC dynamic energy at the same node
}

// Devices are the parts the resource model knows.
var Devices = map[string]Device{
	"xcvu9p": {Name: "xcvu9p", Source: "Xilinx XCVU9P-L2FSGD2104E (VCU1525): DS923 / shared/reference/README.md",
		LUT: 1182240, FF: 2364480, DSP: 6840, BRAM36: 2160, URAM: 960, SLRs: 3,
		BaseClockMHz: 300, StaticW: 3.0, DynamicOverhead: 14},
	"xczu9eg": {Name: "xczu9eg", Source: "Xilinx Zynq UltraScale+ ZU9EG (ZCU102): DS891",
		LUT: 274080, FF: 548160, DSP: 2520, BRAM36: 912, URAM: 0, SLRs: 1,
		BaseClockMHz: 300, StaticW: 1.0, DynamicOverhead: 14},
}

// DeviceNames lists the devices, sorted.
func DeviceNames() []string { return slices.Sorted(maps.Keys(Devices)) }
