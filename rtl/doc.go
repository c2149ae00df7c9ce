// Package rtl holds synthesizable Verilog-2005 for the units that make the
// accelerators sparse (src/), and the Go side that keeps them honest: unit
// descriptions, test vectors computed by the Go reference kernels, generated
// test benches, runners for iverilog and verilator, and yosys synthesis into
// the resource table the FPGA model reads (energy/catalog/rtl_resources.csv).
//
// The whole weight-stationary array (src/sa_*.v) is co-simulated against the
// simulator: BuildImages turns the mapper's fold schedule, the weights and
// the activations into memory images, Cosim runs the array under verilator
// (cached builds) or iverilog and compares its cycles with arch.Simulate's
// ideal-DRAM cycles and its outputs with the Go kernels. SynthArray
// synthesises whole arrays for the FPGA model's per-PE fit.
package rtl
