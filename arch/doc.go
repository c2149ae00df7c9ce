// Package arch holds the accelerator's akita components and the builder
// that wires them from a configs.Config:
//
//	Controller ──ComputeReq──▶ PEArray
//	    │ LoadTile/StoreTile
//	    ▼
//	Buffer (ifmap, filter, ofmap) ──MemReq──▶ DRAM channels
//
// The controller walks a mapping.Schedule fold by fold, prefetching the next
// fold's tiles into the free half of each double buffer while the PE array
// computes the current one. Every component sleeps until a message or its own
// timer wakes it: one event per tile, per DRAM transaction or per fold —
// never per MAC or per idle cycle. Latencies come from the dataflow model
// (mapping) and the DRAM model; the event engine only orders them.
package arch
