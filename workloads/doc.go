// Package workloads describes what an accelerator runs: layers lowered to
// GEMMs (M×K times K×N, repeated for independent groups such as depthwise
// channels or attention heads) and the built-in model zoo.
//
// A conv layer is lowered the way SCALE-Sim lowers it (M = batch·OH·OW,
// K = FH·FW·C/groups, N = filters/groups), so a workload imported from a
// SCALE-Sim topology and the same layer from the zoo produce identical GEMMs.
package workloads
