// Package limits refuses, before it starts, work whose size is known up
// front and would take too long to be a mistake worth waiting for: the
// folds (array tiles) and attention rows a simulation will run, the
// reference-kernel MACs an attention workload or trace needs, the points
// of a sweep, the size of an explain example. Each limit is documented in
// docs/limits.md with the flag that lifts it; a refusal is one user-error
// line (exit 2) naming the size, the limit and that flag.
package limits
