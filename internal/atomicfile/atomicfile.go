// Package atomicfile writes output files whole or not at all: through a
// temporary file in the destination's directory, synced, then renamed into
// place, so a reader (or a sweep resumed after a crash) never sees half a
// file. It is the one writer every report, table, trace and image goes
// through, so they all get the same mode.
package atomicfile

import (
	"bufio"
	"os"
	"path/filepath"
)

// Mode is every output file's permission. os.CreateTemp makes its files
// 0600 (private to the writer), which is right for a temporary but wrong
// for a result others read, so the temporary is chmodded before the
// rename: a PNG, a CSV and a JSON written side by side all read alike.
const Mode os.FileMode = 0o644

// File is an output file being written; Commit puts it in place, Abort
// drops it.
type File struct {
	path string
	tmp  *os.File
	*bufio.Writer
}

// Create starts writing path, creating missing parent directories.
func Create(path string) (*File, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, err
	}
	if err := tmp.Chmod(Mode); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	return &File{path: path, tmp: tmp, Writer: bufio.NewWriterSize(tmp, 1<<16)}, nil
}

// Commit flushes, syncs and renames the file into place; on an error the
// temporary is removed and path is untouched.
func (f *File) Commit() error {
	err := f.Flush()
	if err == nil {
		err = f.tmp.Sync()
	}
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.tmp.Name(), f.path)
	}
	if err != nil {
		os.Remove(f.tmp.Name())
	}
	return err
}

// Abort drops the file; path is untouched.
func (f *File) Abort() {
	f.tmp.Close()
	os.Remove(f.tmp.Name())
}

// Write writes data to path atomically with Mode.
func Write(path string, data []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Writer.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}
