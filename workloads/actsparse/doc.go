// Package actsparse holds the reference kernels of activation sparsity in
// LLM feed-forward layers: which neurons (rows of the down projection) and
// which input channels (rows of the up and gate projections) a token
// activates under each technique, the union of those sets over the tokens
// of a batch and over consecutive tokens, and a quality proxy (the
// relative error of the FFN output against the dense computation).
//
// Techniques (Spec.Method): relu (exact zeros of a ReLU model,
// ProSparse-style), threshold (TEAL-style magnitude thresholds on the
// inputs of the linear layers), cats (threshold on the gate activation),
// chess (the same with one threshold per channel), wina (|x| times the
// weight row norm), rsparse (sparse input channels plus a low-rank part),
// predictor (a Deja Vu-style low-rank predictor; its mispredictions are
// counted) and statistical_topk (Spark Transformer: the k-th value
// estimated from the mean and standard deviation, no sort).
//
// The activations are seeded synthetic draws whose distribution is
// documented and calibrated in docs/ffn-moe.md (synth.go), or rows of a
// .npy file the user supplies. The package only describes work: what each
// layer and step activates (Plan.At) and which weight rows that reads
// (Plan.Gathers); inference.SimulateActSparse lowers each layer's sparse
// FFN to operators (GEMMs with K or N the active union, vector-unit
// compare and index generation, predictor GEMMs) and runs them.
package actsparse
