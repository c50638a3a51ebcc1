// Package swap owns putting a verified release in place of the program:
// staging it beside the target, the atomic swap (and aktual's own, which
// never leaves its path empty), finishing or undoing a swap a crash cut
// in two, and the health check that decides between the new version and
// the old one.
package swap

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/minio/selfupdate"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/durable"
	"github.com/aktual/aktual/updater/internal/kind"
)

// stageBufferSize is the one buffer a staging that must read the file
// again (hash it, or copy it from another folder) uses: memory does not
// grow with the release.
const stageBufferSize = 256 << 10

// defaultTargetMode is selfupdate's mode for a new file, used when the
// target's own cannot be read.
const defaultTargetMode os.FileMode = 0o755

func selfupdateOptions(target string) selfupdate.Options {
	// The old file is kept aside (not removed) until the new one has
	// passed its health check.
	return selfupdate.Options{TargetPath: target, OldSavePath: OldPath(target), TargetMode: targetMode(target)}
}

// targetMode is the permission bits the new version gets: the target's.
func targetMode(target string) os.FileMode {
	if fi, err := os.Stat(target); err == nil {
		return fi.Mode().Perm()
	}
	return defaultTargetMode
}

// CheckWritable fails when the target's folder cannot take the new file:
// asked before anything is reserved, so no unit is held for a target that
// cannot be updated.
func CheckWritable(target string) error {
	opts := selfupdate.Options{TargetPath: target}
	if err := opts.CheckPermissions(); err != nil {
		return fail(kind.ErrApply, err, "cannot write the folder of %s (%v); run as a user who may change it; nothing was changed or used",
			target, err)
	}
	return nil
}

// verifiedFiles remembers the files this process hashed while it wrote
// them and found to be a signed release (MarkVerified): staging one that
// is still that very file need not read it all again. Keyed by path.
var verifiedFiles sync.Map

// verifiedStamp is what a verified file looked like when it was verified.
type verifiedStamp struct {
	sha256 string
	fi     os.FileInfo
}

// MarkVerified notes that the file at path was just verified to have
// sha256hex (download and useFile hash as they write).
func MarkVerified(path, sha256hex string) {
	if fi, err := os.Stat(path); err == nil {
		verifiedFiles.Store(path, verifiedStamp{sha256hex, fi})
	}
}

// knownVerified reports whether f, open at path, is the file MarkVerified
// saw with sha256hex: the same file (device and inode, or Windows's file
// index), size and modification time. The stamp is used once. A change
// that keeps all of these takes someone who may write to the target's
// folder, and so could replace the target itself.
func knownVerified(f *os.File, path, sha256hex string) bool {
	v, ok := verifiedFiles.LoadAndDelete(path)
	if !ok {
		return false
	}
	s := v.(verifiedStamp)
	fi, err := f.Stat()
	return err == nil && s.sha256 == sha256hex && os.SameFile(s.fi, fi) &&
		fi.Size() == s.fi.Size() && fi.ModTime().Equal(s.fi.ModTime())
}

// Stage puts the verified file in place as the new version, selfupdate's
// .target.new beside the target, durable and with the target's mode:
// CommitBinary then swaps it in. minio/selfupdate's own PrepareAndCheckBinary
// is not used: it reads the whole release into memory, and neither syncs
// nor escapes the umask.
//
// The verified file is normally the download beside the target (or the
// copy of a --file), so staging is a rename: no byte is copied, and
// memory and time do not grow with the release. Its sha256 is checked
// again, reading the file once through a fixed buffer, unless this
// process verified that very file and it is unchanged (knownVerified). A
// file in another folder is copied, hashed as it is copied.
func Stage(target, verified, sha256hex string) error {
	if filepath.Clean(filepath.Dir(verified)) != filepath.Clean(filepath.Dir(target)) {
		return stageCopy(target, verified, sha256hex)
	}
	f, err := os.OpenFile(verified, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if !knownVerified(f, verified, sha256hex) {
		h := sha256.New()
		if _, err := io.CopyBuffer(h, onlyReader{f}, make([]byte, stageBufferSize)); err != nil {
			return err
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != sha256hex {
			return changedOnDisk(verified, got, sha256hex)
		}
	}
	if err := f.Chmod(targetMode(target)); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	before, err := f.Stat()
	if err != nil {
		return err
	}
	// Windows renames no file that is open.
	if err := f.Close(); err != nil {
		return err
	}
	staged := StagedPath(target)
	// A staged file another run left is read-only when the target is
	// (it took the target's attributes): Windows would not replace it.
	replaceable(staged)
	if err := os.Rename(verified, staged); err != nil {
		return err
	}
	// The file checked is the one now staged, not another put at its
	// name meanwhile.
	if after, err := os.Stat(staged); err != nil || !os.SameFile(before, after) {
		os.Remove(staged)
		return i18n.Errorf("the verified file %s was replaced on disk before it was installed; run the update again", verified)
	}
	return durable.SyncDir(filepath.Dir(target))
}

// stageCopy stages a verified file from another folder (a rename cannot
// cross devices): a new file, written and hashed through one buffer, then
// renamed to the staged name. It is written under a name of its own while
// any staged file another run left still exists, so it never takes that
// file's identity (a removed file's inode number is soon reused), by
// which a journal tells its own staged file.
func stageCopy(target, verified, sha256hex string) (err error) {
	src, err := os.Open(verified)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".new-*")
	if err != nil {
		return err
	}
	defer func() {
		dst.Close()
		if err != nil {
			os.Remove(dst.Name())
		}
	}()
	h := sha256.New()
	if _, err := io.CopyBuffer(io.MultiWriter(dst, h), onlyReader{src}, make([]byte, stageBufferSize)); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sha256hex {
		return changedOnDisk(verified, got, sha256hex)
	}
	if err := dst.Chmod(targetMode(target)); err != nil {
		return err
	}
	if err := dst.Sync(); err != nil {
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	replaceable(StagedPath(target)) // as in Stage
	if err := os.Rename(dst.Name(), StagedPath(target)); err != nil {
		return err
	}
	return durable.SyncDir(filepath.Dir(target))
}

// changedOnDisk is the error of a verified file that is no longer the
// signed release when it is staged.
func changedOnDisk(path, got, want string) error {
	return i18n.Errorf("the verified file %s changed on disk before it was installed: its sha256 is now %s, not the signed release's %s; run the update again", path, got, want)
}

// onlyReader hides a file's WriteTo, so that io.CopyBuffer uses the buffer
// it is given.
type onlyReader struct{ io.Reader }

// StagedPath is where selfupdate writes the new version before the swap.
func StagedPath(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".new")
}

// fail makes a kind.Error; format is an English message, the catalog key.
func fail(k error, cause error, format string, args ...any) *kind.Error {
	return kind.Fail(k, cause, format, args...)
}
