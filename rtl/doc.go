// Package rtl holds synthesizable Verilog-2005 for the units that make the
// accelerators sparse (src/), and the Go side that keeps them honest: unit
// descriptions, test vectors computed by the Go reference kernels, generated
// test benches, runners for iverilog and verilator, and yosys synthesis into
// the resource table the FPGA model reads (synth/resources.csv).
package rtl
