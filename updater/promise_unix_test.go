//go:build !windows

package updater

import (
	"os"
	"syscall"
	"testing"
)

// The updated program keeps its mode under a restrictive umask, so other
// users can still run it.
func TestModeSurvivesUmask(t *testing.T) {
	h := newHarness(t, 1)
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	if _, err := h.update(h.code); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(h.target)
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("mode = %v, %v; want 0755", fi.Mode(), err)
	}
}
