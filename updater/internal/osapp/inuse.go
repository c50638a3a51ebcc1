package osapp

import (
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/kind"
)

// checkCount refuses more files than InUse checks.
func checkCount(files []string) error {
	if len(files) > MaxFiles {
		return fail(kind.ErrUsage, nil, "cannot check which programs use %d files: at most %d are checked", len(files), MaxFiles)
	}
	return nil
}

// inUseError wraps a failure to ask the system.
func inUseError(err error) error {
	return i18n.Errorf("cannot find which programs use the program's files: %w", err)
}
