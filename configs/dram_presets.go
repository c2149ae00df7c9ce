package configs

import (
	"maps"
	"slices"
)

// DRAMPreset is a DRAM device timing set for the detailed model, in DRAM
// clock cycles. Source says where each set comes from.
type DRAMPreset struct {
	Name        string
	Source      string
	Protocol    string // akita protocol name: DDR4 or HBM2
	ClockMHz    float64
	BusBits     int // data bus of one channel
	BurstLength int
	DeviceWidth int
	BankGroups  int
	Banks       int // per bank group
	Rows, Cols  int
	TCL, TCWL   int
	TRCD, TRP   int
	TRAS        int
	TCCDL       int
	TCCDS       int
	TRRDL       int
	TRRDS       int
	TWTRL       int
	TWTRS       int
	TRTP        int
	TWR         int
	TRTRS       int
	TRFC        int
	TREFI       int
}

// PeakGBps is the channel's peak data rate (double data rate bus).
func (p DRAMPreset) PeakGBps() float64 {
	return p.ClockMHz * 1e6 * 2 * float64(p.BusBits) / 8 / 1e9
}

// AccessBytes is one burst: bus width × burst length.
func (p DRAMPreset) AccessBytes() int { return p.BusBits / 8 * p.BurstLength }

// DRAMPresets are the timing sets the detailed model offers.
var DRAMPresets = map[string]DRAMPreset{
	"ddr4-2400": {
		Name: "ddr4-2400",
		Source: "JEDEC JESD79-4B speed bin DDR4-2400R (17-17-17), 8 Gb x8 device, 1 KB page: " +
			"tCK 0.833 ns; tRAS 32 ns, tRRD_L 4.9 ns, tRRD_S 3.3 ns, tWTR_L 7.5 ns, tWTR_S 2.5 ns, " +
			"tRTP 7.5 ns, tWR 15 ns, tRFC 350 ns, tREFI 7.8 µs converted to cycles, rounded up",
		Protocol: "DDR4", ClockMHz: 1200, BusBits: 64, BurstLength: 8, DeviceWidth: 8,
		BankGroups: 4, Banks: 4, Rows: 65536, Cols: 1024,
		TCL: 17, TCWL: 12, TRCD: 17, TRP: 17, TRAS: 39, TCCDL: 6, TCCDS: 4,
		TRRDL: 6, TRRDS: 4, TWTRL: 9, TWTRS: 3, TRTP: 9, TWR: 18, TRTRS: 1,
		TRFC: 420, TREFI: 9360,
	},
	"hbm2": {
		Name: "hbm2",
		Source: "JEDEC JESD235A HBM2 pseudo-channel-free 128-bit channel at 2 Gb/s/pin (1 GHz), " +
			"timings as in DRAMsim3's HBM2_8Gb_x128 configuration (unverified against the standard)",
		Protocol: "HBM2", ClockMHz: 1000, BusBits: 128, BurstLength: 4, DeviceWidth: 128,
		BankGroups: 4, Banks: 4, Rows: 16384, Cols: 64,
		TCL: 14, TCWL: 4, TRCD: 14, TRP: 14, TRAS: 34, TCCDL: 4, TCCDS: 2,
		TRRDL: 6, TRRDS: 4, TWTRL: 8, TWTRS: 3, TRTP: 5, TWR: 16, TRTRS: 1,
		TRFC: 350, TREFI: 3900,
	},
}

// PresetNames lists the detailed-DRAM presets, sorted.
func PresetNames() []string { return slices.Sorted(maps.Keys(DRAMPresets)) }
