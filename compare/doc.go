// Package compare checks the accelerator model against the CPU: it runs a
// Go reference kernel on the host and the functional simulation of the
// datapath on the same inputs, and reports whether they agree (integers bit
// for bit, floats within a tolerance derived from the data type), how long
// each took (CPU wall time; simulated accelerator time from the timing
// model) and the energy of each.
package compare
