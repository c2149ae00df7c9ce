// Package attention is the SpAtten-style sparse attention engine, built on
// arch's components: a controller turns each attention row (one query
// block of one head) into steps — key fetches through the K SRAM, Q×K,
// softmax, the progressive-quantization decision and LSB refetch, top-k,
// value fetches through the V SRAM, prob×V, the output drain — and runs
// requests overlapped on the engine's units, as the released RTL does.
//
// Its timing constants and top-k latency model are held to the RTL
// (docs/spatten.md); the functional datapath computes one head's outputs
// with the units' semantics.
package attention
