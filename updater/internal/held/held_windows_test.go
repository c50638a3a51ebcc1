package held

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/windows"

	"github.com/aktual/aktual/updater/internal/kind"
)

// A real refusal: a file another handle holds without FILE_SHARE_DELETE
// cannot be renamed, and that is told apart from denied access.
func TestExplainsWindowsRefusals(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sklad.exe")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, _ := windows.UTF16PtrFromString(path)
	h, err := windows.CreateFile(p, windows.GENERIC_READ, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer windows.CloseHandle(h)
	err = os.Rename(path, path+".old")
	if !ByAnother(err) || !errors.Is(Explain(path, err), kind.ErrInUse) {
		t.Errorf("rename of a held file: %v, explained %v; want in use", err, Explain(path, err))
	}
	denied := &os.PathError{Op: "rename", Path: path, Err: windows.ERROR_ACCESS_DENIED}
	if !ByAnother(denied) || !errors.Is(Explain(path, denied), kind.ErrApply) {
		t.Errorf("access denied explained as %v", Explain(path, denied))
	}
	if missing := os.Rename(filepath.Join(dir, "none"), path+".x"); ByAnother(missing) || Explain(path, missing) != missing {
		t.Errorf("a missing file taken for a held one: %v", missing)
	}
}
