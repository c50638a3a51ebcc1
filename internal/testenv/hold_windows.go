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

// SetReadOnly gives path the read-only attribute, as a file copied from a
// CD or protected by an administrator has.
func SetReadOnly(t testing.TB, path string) {
	t.Helper()
	p, _ := windows.UTF16PtrFromString(path)
	a, err := windows.GetFileAttributes(p)
	if err == nil {
		err = windows.SetFileAttributes(p, a|windows.FILE_ATTRIBUTE_READONLY)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// ReadOnly reports whether path has the read-only attribute.
func ReadOnly(path string) bool {
	p, _ := windows.UTF16PtrFromString(path)
	a, err := windows.GetFileAttributes(p)
	return err == nil && a&windows.FILE_ATTRIBUTE_READONLY != 0
}
