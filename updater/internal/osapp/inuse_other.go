//go:build !windows && !linux

package osapp

// InUse returns no processes outside Windows and Linux. macOS has no
// /proc, and libproc's listing of every process's files needs cgo or
// root to be complete; it is not needed either: a running program does
// not stop its files being replaced, so callers only warn that it keeps
// the old version until restarted.
func InUse(files []string) ([]Process, error) {
	return nil, checkCount(files)
}

// Running is InUse here.
func Running(files []string) ([]Process, error) { return InUse(files) }
