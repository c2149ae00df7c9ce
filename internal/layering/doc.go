// Package layering holds one test: every package of the module imports only
// what docs/architecture.md's table allows, and every package is in the
// table. The map of the code is then checked, not just written.
package layering
