package testenv

import (
	"sync"
	"testing"

	"golang.org/x/sys/windows"
)

// Hold opens the file at path as an antivirus scanner or another program
// reading it does: sharing reading and writing but not deletion, so that
// Windows (and Wine, which enforces share modes between handles) refuses
// to rename or delete it while it is held. The returned func lets go; the
// test's end lets go in any case.
func Hold(t testing.TB, path string) (release func()) {
	t.Helper()
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		t.Fatalf("holding %s: %v", path, err)
	}
	var once sync.Once
	release = func() { once.Do(func() { windows.CloseHandle(h) }) }
	t.Cleanup(release)
	return release
}
