// Package explain teaches how the modelled hardware works: each topic runs
// the real kernels and timing models on a small seeded example and returns
// the steps — the small matrices and vectors involved and the cycles the
// simulator charges — as text for an 80-column terminal or as data.
package explain
