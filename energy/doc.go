// Package energy turns a simulation's action counts into energy, the way
// Accelergy does (energy = Σ actions × energy per action), and sizes
// FPGA-targeted configs in LUTs, FFs, DSPs, BRAM and URAM, the way a Vivado
// utilisation report reads, with a fit check and a clock estimate.
//
// Per-action energies live in tables.yaml (45 nm, each with its source),
// overridable per architecture; technology scaling follows Stillmaker &
// Baas. FPGA unit costs live in fpga.yaml with their sources.
package energy
