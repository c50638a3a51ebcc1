package datadir

import (
	"io/fs"
	"os"
)

// openToOthers is "" on Windows: the mode bits Go reports there mean
// nothing about who may read a file. A data folder under the user's
// profile (the default) inherits an ACL that only the user, SYSTEM and
// administrators can read; staff who choose another folder set its ACL.
func openToOthers(fs.FileInfo) string { return "" }

// makePrivate does nothing on Windows (see openToOthers).
func makePrivate(string, os.FileMode) error { return nil }
