// Package arch holds the accelerator's akita components and the builder
// that wires the parts every engine shares:
//
//	engine controller ──ComputeReq──▶ Unit (PE array, attention modules)
//	    │ Read / AccBegin / Stream
//	    ▼
//	Buffer (ifmap, filter, ofmap) ──MemReq──▶ DRAM channels (memory model)
//
// Components: Node (the event-driven base), the zero-latency wire, Unit,
// Buffer (the DMA in front of the memory model), the DRAM channel models
// (fast FIFO servers, or akita's cycle-level controllers), the N:M mask
// unit, the vector unit and the gather DMA. New makes an engine and wire,
// an engine plugs its controller in, and AddMemory adds the channels and
// buffers. The measurement types every engine fills (Result, LayerStats,
// AttnStats) and the Perfetto Timeline live here too, so reports read one
// shape whichever engine ran.
//
// Every component sleeps until a message or its own timer wakes it: one
// event per tile, per DRAM transaction or per fold — never per MAC or per
// idle cycle. Latencies come from the dataflow model and the DRAM model;
// the event engine only orders them. The engines are packages of their own
// (arch/systolic, arch/attention), and arch/engines picks one for a
// configuration.
package arch
