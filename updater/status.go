package updater

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/fetch"
	"github.com/aktual/aktual/updater/internal/journal"
)

// Status is what the state directory says: updates not yet finished and
// what aktual has installed.
type Status struct {
	Pending  []Journal
	Installs []InstallRecord
	// Problems are the files that could not be read, each an error that
	// names the file and says what to do; an i18n.Printer shows it in the
	// reader's language.
	Problems []error
}

// ReadStatus reads the state directory. It changes nothing and needs no
// server.
func (u *Updater) ReadStatus() (*Status, error) {
	st := &Status{Pending: []Journal{}, Installs: []InstallRecord{}, Problems: []error{}}
	paths, err := u.state().List()
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		j, err := journal.Read(p)
		if err != nil {
			st.Problems = append(st.Problems, unreadable(p, err))
			continue
		}
		if j != nil && j.State != StateReported {
			// A reported journal is done; only its removal failed.
			st.Pending = append(st.Pending, *j)
		}
	}
	installs, err := u.state().InstallPaths()
	if err != nil {
		return nil, err
	}
	for _, path := range installs {
		r, err := journal.ReadInstallRecord(path)
		var pathErr *fs.PathError
		var msg i18n.Localizable
		switch {
		case err == nil:
			st.Installs = append(st.Installs, *r)
		case errors.As(err, &pathErr), errors.As(err, &msg):
			st.Problems = append(st.Problems, unreadable(path, err))
		default: // the bytes were read, but are not a record
			st.Problems = append(st.Problems, i18n.Errorf(
				"the install record %s is damaged (%v); aktual ignores it: delete it, and the next update of that program writes a new one", path, err))
		}
	}
	sort.Slice(st.Installs, func(a, b int) bool { return st.Installs[a].Target < st.Installs[b].Target })
	sort.Slice(st.Pending, func(a, b int) bool { return st.Pending[a].Target < st.Pending[b].Target })
	return st, nil
}

// unreadable is the problem of a state file that could not be read: err
// itself when it is a message (it names the file), else one that names
// the file, as a bare system error (permission denied) does not.
func unreadable(path string, err error) error {
	var msg i18n.Localizable
	if errors.As(err, &msg) {
		return err
	}
	return i18n.Errorf("cannot read %s (%v); check the state directory's permissions", path, err)
}

// PartialDownload reports a download kept beside target for the next run
// to continue: the bytes on disk and the release's size.
func PartialDownload(target string) (have, total int64, ok bool) {
	return fetch.Partial(target)
}

// KeepsState reports whether the state directory stateDir has an install
// record or a journal of target, or of a folder that holds it: whether an
// update of target belongs to that state directory (the per-machine one,
// for a program installed for every user).
func KeepsState(stateDir, target string) bool {
	abs, err := filepath.Abs(target)
	if err != nil {
		return false
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	s := journal.Store{StateDir: stateDir}
	for p := abs; ; p = filepath.Dir(p) {
		if _, err := os.Stat(s.RecordPath(p)); err == nil {
			return true
		}
		if _, err := os.Stat(s.Path(p)); err == nil {
			return true
		}
		if filepath.Dir(p) == p {
			return false
		}
	}
}
