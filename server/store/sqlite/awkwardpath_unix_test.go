//go:build !windows

package sqlite

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOpenAwkwardPath: characters a URI would read as query, fragment or
// escape must stay part of the file name.
func TestOpenAwkwardPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?x=1#frag%20")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "aktual.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	activate(t, s, "Acme", 1)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %s: %v", path, err)
	}
}
