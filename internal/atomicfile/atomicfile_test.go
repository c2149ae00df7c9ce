package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// Output files are 0644 whatever os.CreateTemp made them (0600), and a
// write leaves no temporary behind.
func TestWriteMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "fig.png")
	if err := Write(path, []byte("x")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != Mode {
		t.Errorf("mode %v, want %v", st.Mode().Perm(), Mode)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
	f, err := Create(filepath.Join(dir, "gone.csv"))
	if err != nil {
		t.Fatal(err)
	}
	f.Abort()
	if _, err := os.Stat(filepath.Join(dir, "gone.csv")); !os.IsNotExist(err) {
		t.Errorf("aborted file exists: %v", err)
	}
}
