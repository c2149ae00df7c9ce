// Package report turns a simulation result into the documented report
// (docs/report.md): a table for people, JSON and CSV for programs. Every
// field is derived here, once, from arch.Result; the formats only render it.
// Files are written atomically (temp file + rename), never half.
package report
