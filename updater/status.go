package updater

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Status is what the state directory says: updates not yet finished and
// what aktual has installed.
type Status struct {
	Pending  []Journal
	Installs []InstallRecord
	Problems []string // unreadable files, named
}

// ReadStatus reads the state directory. It changes nothing and needs no
// server.
func (u *Updater) ReadStatus() (*Status, error) {
	st := &Status{Pending: []Journal{}, Installs: []InstallRecord{}, Problems: []string{}}
	paths, err := u.journals()
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		j, err := readJournal(p)
		if err != nil {
			st.Problems = append(st.Problems, err.Error())
			continue
		}
		if j != nil {
			st.Pending = append(st.Pending, *j)
		}
	}
	dir := filepath.Join(u.StateDir, "installs")
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		r, err := readInstallRecord(filepath.Join(dir, e.Name()))
		if err != nil {
			st.Problems = append(st.Problems, e.Name()+": "+err.Error())
			continue
		}
		st.Installs = append(st.Installs, *r)
	}
	sort.Slice(st.Installs, func(a, b int) bool { return st.Installs[a].Target < st.Installs[b].Target })
	sort.Slice(st.Pending, func(a, b int) bool { return st.Pending[a].Target < st.Pending[b].Target })
	return st, nil
}

// PartialDownload reports a download kept beside target for the next run
// to continue: the bytes on disk and the release's size.
func PartialDownload(target string) (have, total int64, ok bool) {
	return partialDownload(target)
}
