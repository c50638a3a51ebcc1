package updater

import (
	"os"
	"path/filepath"

	"github.com/aktual/aktual/updater/internal/durable"
	"github.com/aktual/aktual/updater/internal/fetch"
	"github.com/aktual/aktual/updater/internal/swap"
)

// unstage takes back a staged file that will not be swapped in (a Ctrl-C
// or a crash before the swap). It is the verified download, renamed by
// stage, so it becomes the kept download again, for the next run to check
// and install, when the download's sidecar names its release; else it is
// removed. stagedID, when set, is the identity the journal recorded: a
// staged file that is not that one is removed.
//
// No journal may still name the file once it is the download again:
// another run (from another state folder) could install that very file,
// and this journal's recovery would take the target for its own swap and
// report a second update. Callers remove or rewrite the journal first
// (forgetStaged).
func unstage(target, sha256hex, stagedID string) {
	staged := swap.StagedPath(target)
	fi, err := os.Lstat(staged)
	if err != nil {
		return
	}
	if fi.Mode().IsRegular() && fetch.SidecarOf(target, sha256hex, fi.Size()) {
		if id, err := swap.FileID(staged); err == nil && (stagedID == "" || id == stagedID) {
			if os.Rename(staged, fetch.DownloadPath(target)) == nil {
				// Safe to drop: the kept download is a cache. A rename a
				// crash loses leaves the staged file, which the next run
				// removes, and the download starts again.
				_ = durable.SyncDir(filepath.Dir(target))
				return
			}
		}
	}
	os.Remove(staged)
}

// forgetStaged rewrites a paid update's journal before unstage: back at
// "reserved", without the staged file's identity, as nothing is staged
// any more. It returns the identity the journal held. If the journal
// cannot be written the staged file is removed instead (the download is
// then fetched again next time), so the journal never names a kept
// download.
func (u *Updater) forgetStaged(j *Journal) (stagedID string) {
	if j.StagedID == "" && j.State != StateStaged {
		return ""
	}
	id := j.StagedID
	jj := *j
	jj.State, jj.StagedID = StateReserved, ""
	if err := u.save(&jj); err != nil {
		os.Remove(swap.StagedPath(j.Target))
		return id
	}
	*j = jj
	return id
}

// cleanStaging removes files an interrupted update may have left: the
// staged new version, and the download it came from.
func cleanStaging(target string) {
	fetch.Discard(target)
	os.Remove(swap.StagedPath(target))
}
