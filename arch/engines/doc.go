// Package engines runs a workload on the engine a configuration names:
// GEMM layers on the systolic (dense and N:M) engine of arch/systolic,
// attention rows on the SpAtten-style engine of arch/attention. It is the
// one place that knows every engine, so that the engines do not know each
// other and callers (the CLI, sweeps, reports) need not choose.
package engines
