// Package dataflow says, as data, what a systolic dataflow keeps in the PEs,
// what it streams and in which order: which GEMM dimension is laid along the
// array rows, which along the columns, and which is streamed through time.
//
// Output stationary (os), weight stationary (ws) and input stationary (is)
// are three values of one type; the simulator never branches on their names.
package dataflow
