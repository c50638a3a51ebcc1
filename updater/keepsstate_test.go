package updater

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aktual/aktual/updater/internal/journal"
)

// KeepsState: a state folder keeps a program when it has its install
// record or its journal, found from the program's folder or any file in it.
func TestKeepsState(t *testing.T) {
	root := t.TempDir()
	state := filepath.Join(root, "state")
	recorded, journaled, other := filepath.Join(root, "Склад"), filepath.Join(root, "kasa.exe"), filepath.Join(root, "other")
	for _, d := range []string{recorded, other} {
		os.MkdirAll(d, 0o755)
	}
	s := journal.Store{StateDir: state}
	for _, p := range []string{s.RecordPath(recorded), s.Path(journaled)} {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		target string
		want   bool
	}{
		{recorded, true},
		{filepath.Join(recorded, "lib", "склад.dll"), true},
		{journaled, true},
		{other, false},
		{filepath.Join(other, "x.exe"), false},
	} {
		if got := KeepsState(state, tc.target); got != tc.want {
			t.Errorf("KeepsState(%q) = %v, want %v", tc.target, got, tc.want)
		}
	}
	if KeepsState(filepath.Join(root, "no-state"), recorded) {
		t.Error("a state folder that does not exist keeps nothing")
	}
}
