// Package plotx is the presentation layer every sparsesim figure goes
// through, on top of gonum/plot: tick labels with as many digits as it
// takes to tell them apart, log axes with enough labelled ticks to read,
// legends in numeric order drawn in a margin beside the data (never over
// it), category axes, and a model of what was drawn (ticks, legend,
// series) that tests check instead of pixels.
package plotx
