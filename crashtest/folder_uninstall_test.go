package crashtest

import (
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/aktual/aktual/internal/fault"
)

// TestFolderUninstallAfterInterruptedUpdate: an update killed while it
// stages (no journal yet: nothing reserved) leaves its work folder beside
// the program folder, the verified downloads and a partial stage, kept
// for the next run; aktual recover has no journal to finish and leaves
// it. The customer then uninstalls instead: the program's files go, the
// customer's stay, and nothing of the update's work may be left beside
// the folder, or the downloads stay on the disk for good.
func TestFolderUninstallAfterInterruptedUpdate(t *testing.T) {
	ff := newFolderFixture(t, 1)
	if err := ff.startServer(""); err != nil {
		t.Fatal(err)
	}
	dir := ff.newFolder()
	if p := ff.install(dir, ff.state); !p.exited(0) {
		t.Fatalf("the install: %s", p)
	}
	ff.customise(t, dir)
	if p := ff.startFolderUpdate(dir, ff.state, fault.FolderStaged, 5).wait(); !p.killed {
		t.Fatalf("want the update killed at the 5th %s; got %s", fault.FolderStaged, p)
	}
	if r := ff.recover(ff.state); !r.exited(0) {
		t.Fatalf("recover: %s", r)
	}
	if _, err := os.Lstat(workDir(dir)); err != nil {
		t.Fatalf("no work folder after the interrupted update (%v): the test's premise is gone", err)
	}

	u := run(ff.ctx, "", aktualBin, "uninstall", "--target", dir, "--state-dir", ff.state, "--json")
	if !u.exited(0) {
		t.Fatalf("uninstall: %s", u)
	}
	got, _, _, err := readFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	for p, c := range ff.custom[dir] {
		if string(got[p]) != string(c) {
			t.Errorf("after the uninstall the customer's %s is %q, want %q", p, got[p], c)
		}
	}
	if st, err := ff.show(); err != nil || st.Consumed != 0 || st.Held != 0 {
		t.Errorf("after the uninstall: %v (%v); want nothing consumed or held", st, err)
	}
	if _, err := os.Lstat(workDir(dir)); !errors.Is(err, fs.ErrNotExist) {
		_, staged := workLeft(dir)
		t.Errorf("BUG (updater/uninstall.go, Uninstall): the work folder %s of the interrupted update is left beside the uninstalled program (%d staged files, and the downloaded objects); nothing removes it once the program is gone", workDir(dir), staged)
	}
}
