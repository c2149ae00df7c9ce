// Package catalog holds the energy model's data — the per-action energy
// table (tables.yaml, 45 nm, each entry with its source) and the FPGA device
// list — with no dependencies, so configs can validate names against it and
// energy can price against it.
package catalog
