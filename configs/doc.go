// Package configs holds the architecture schema, the YAML architectures that
// ship inside the binary, and the loaders for them and for SCALE-Sim .cfg
// files. Every error names the file, the line and the field, and what is
// allowed; docs/config.md documents every field.
package configs
