// Package sweep runs design-space sweeps: a grid of config overrides
// (cartesian or zipped axes, value lists and ranges), each point a full
// simulation with its own engine, run in parallel, appended to
// results.jsonl and results.csv as it completes (one write per row, so a
// killed sweep never leaves a torn row), resumable, shardable across
// machines and mergeable, with the Pareto front and plots. Points are made
// from their index and rows streamed through a small per-row index, so
// memory does not grow with the grid (docs/sweep.md). slurm.go submits a
// sweep to Slurm as an array job plus an afterok merge job and reports a
// running sweep's status (docs/cluster/README.md).
package sweep
