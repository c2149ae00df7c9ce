// Package moe is the one routing model of mixture-of-experts layers: for
// each token of a step and each MoE layer it produces router logits, the
// token's top-k experts found by quick-select over those logits (the
// rounds the top-k engine pays for), expert loads, the capacity drops and
// what each expert then runs. Routing comes from a seeded distribution
// (uniform, balanced, Zipf or Dirichlet popularity, with optional
// token-to-token locality) or from a routing trace file. Stats summarises
// many decisions: experts touched per layer and step, load imbalance,
// dropped assignments and the chunk-level (BlockFFN) union over
// consecutive tokens of a sequence.
//
// The package only decides routing; inference/ops lowers the decisions to
// operators and inference times them. docs/ffn-moe.md documents every
// distribution, the trace format and the drop policy.
package moe
