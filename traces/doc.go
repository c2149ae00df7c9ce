// Package traces reads and writes workload descriptions that come from
// outside the zoo: SCALE-Sim topology CSVs (conv and GEMM forms) today, the
// sparsesim trace format and SpAtten's CSV traces as they are added. Every
// importer yields the same in-memory workloads.Workload, and every error
// names the file, the line and the field.
package traces
