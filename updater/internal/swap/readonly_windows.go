package swap

import "golang.org/x/sys/windows"

// replaceable clears the read-only attribute of the file at path, which
// is about to be replaced by a rename: Windows refuses to rename over a
// read-only file (ERROR_ACCESS_DENIED), as it refuses to delete one.
// (Renaming a read-only file away works, and os.Remove clears the
// attribute itself.) A file not there, or whose attribute cannot be
// changed, is left as it is: the rename then says why.
func replaceable(path string) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return
	}
	if a, err := windows.GetFileAttributes(p); err == nil && a&windows.FILE_ATTRIBUTE_READONLY != 0 {
		_ = windows.SetFileAttributes(p, a&^windows.FILE_ATTRIBUTE_READONLY) // a failure shows in the rename
	}
}
