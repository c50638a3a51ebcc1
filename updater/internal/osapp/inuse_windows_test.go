//go:build windows

package osapp

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/aktual/aktual/internal/testenv"
)

// The Restart Manager names a child process that holds a file open, and
// no one once it has exited.
func TestInUseRestartManager(t *testing.T) {
	testenv.SkipUnderWine(t, "Wine's Restart Manager (rstrtmgr.dll) is a stub: RmGetList names no process, whatever holds the file")
	dir := t.TempDir()
	held := filepath.Join(dir, "data.mdb")
	other := filepath.Join(dir, "help.chm")
	for _, f := range []string{held, other} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd, stop := holdOpen(t, held)
	ps, err := InUse([]string{other, held})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ps, func(p Process) bool { return p.PID == cmd.Process.Pid })
	if i < 0 {
		t.Fatalf("InUse = %+v, want the helper %d", ps, cmd.Process.Pid)
	}
	if ps[i].Name == "" {
		t.Errorf("the helper has no name: %+v", ps[i])
	}
	if exe, _ := os.Executable(); ps[i].Path != "" && !sameFile(ps[i].Path, exe) {
		t.Errorf("Path %q, want %q", ps[i].Path, exe)
	}
	stop()
	if ps, err := InUse([]string{held}); err != nil || len(ps) != 0 {
		t.Errorf("after the helper exited: %+v, %v", ps, err)
	}
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// Files beyond one RmRegisterResources batch are registered too.
func TestInUseRestartManagerBatches(t *testing.T) {
	testenv.SkipUnderWine(t, "Wine's Restart Manager (rstrtmgr.dll) is a stub: RmGetList names no process, whatever holds the file")
	dir := t.TempDir()
	var files []string
	for i := range rmBatch + 10 {
		files = append(files, filepath.Join(dir, "f"+strconv.Itoa(i)))
	}
	held := files[len(files)-1]
	if err := os.WriteFile(held, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd, _ := holdOpen(t, held)
	ps, err := InUse(files)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ps, func(p Process) bool { return p.PID == cmd.Process.Pid }) {
		t.Errorf("InUse = %+v, want the helper %d", ps, cmd.Process.Pid)
	}
}
