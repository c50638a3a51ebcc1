package fetch

import (
	"crypto/sha256"
	"encoding/json"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater/internal/kind"
)

// A download is written beside its target and kept between runs, with
// a sidecar naming the release it is the start of, so that the next run
// continues it.

// maxSidecarSize bounds the read of a partial download's sidecar.
const maxSidecarSize = 4 << 10

// DownloadPath is where an artifact is written before it is verified: in
// the target's own folder, so the later rename never crosses devices.
func DownloadPath(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".aktual-download")
}

// SidecarPath notes which release the partial download holds the start of.
func SidecarPath(target string) string { return DownloadPath(target) + ".json" }

// partialInfo is the sidecar of a partial download: only a download of
// the same release (sha256 and size) continues the bytes already there.
type partialInfo struct {
	Product string `json:"product"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
	ETag    string `json:"etag,omitempty"` // the server's, for If-Range
}

func (p partialInfo) of(rel api.ReleaseStatement) bool {
	return p.SHA256 == rel.SHA256 && p.Size == rel.Size
}

func readSidecar(target string) (partialInfo, bool) {
	var p partialInfo
	f, err := os.Open(SidecarPath(target))
	if err != nil {
		return p, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSidecarSize))
	if err != nil || json.Unmarshal(b, &p) != nil || p.SHA256 == "" || p.Size <= 0 {
		return partialInfo{}, false
	}
	return p, true
}

// writeSidecar replaces the sidecar atomically: a crash leaves the old one
// or the new one, never half of one.
func writeSidecar(target string, p partialInfo) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".aktual-download.json.*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), SidecarPath(target))
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// Discard removes a partial download and its sidecar.
func Discard(target string) {
	os.Remove(DownloadPath(target))
	os.Remove(SidecarPath(target))
}

// Partial reports a download kept beside target for the next run
// to continue: the bytes on disk and the release's size.
func Partial(target string) (have, total int64, ok bool) {
	p, ok := readSidecar(target)
	if !ok {
		return 0, 0, false
	}
	fi, err := os.Stat(DownloadPath(target))
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 || fi.Size() > p.Size {
		return 0, 0, false
	}
	return fi.Size(), p.Size, true
}

// KeptDownloadOf reports whether an earlier run left a part of rel's
// download beside target: continuing it beats a patch.
func KeptDownloadOf(rel api.ReleaseStatement, target string) bool {
	info, ok := readSidecar(target)
	if !ok || !info.of(rel) {
		return false
	}
	fi, err := os.Stat(DownloadPath(target))
	return err == nil && fi.Mode().IsRegular() && fi.Size() > 0
}

// SidecarOf reports whether the sidecar beside target names the release
// with sha256hex and size: a file of that size put back at DownloadPath
// is then kept as its download.
func SidecarOf(target, sha256hex string, size int64) bool {
	info, ok := readSidecar(target)
	return ok && info.SHA256 == sha256hex && info.Size == size
}

// Adopt notes that the file at DownloadPath(target) is rel's verified
// file, as a download would: made otherwise (a patch's output), it is
// then kept for the next run like one.
func Adopt(target string, rel api.ReleaseStatement) error {
	return writeSidecar(target, partialInfo{Product: rel.Product, Version: rel.Version, SHA256: rel.SHA256, Size: rel.Size})
}

// partial is the download file being written: its bytes so far, hashed.
type partial struct {
	f       *os.File
	h       hash.Hash
	have    int64
	info    partialInfo
	target  string
	resumed bool // it began with bytes from an earlier run
}

// openPartial opens the download file of rel beside target: the bytes an
// earlier run left, hashed, when its sidecar names this release; else an
// empty file, any other partial download removed.
func openPartial(rel api.ReleaseStatement, target string) (*partial, error) {
	tmp := DownloadPath(target)
	p := &partial{h: sha256.New(), target: target}
	info, ok := readSidecar(target)
	fi, err := os.Lstat(tmp)
	resume := ok && info.of(rel) && err == nil && fi.Mode().IsRegular() && fi.Size() > 0 && fi.Size() <= rel.Size
	if !resume {
		// Another release's bytes, or bytes of unknown origin.
		Discard(target)
		info = partialInfo{Product: rel.Product, Version: rel.Version, SHA256: rel.SHA256, Size: rel.Size}
		// The sidecar is in place before any byte is, so a partial file is
		// never taken for another release's.
		if err := writeSidecar(target, info); err != nil {
			return nil, fail(kind.ErrApply, err, "cannot write the download in %s (%v); nothing was changed", filepath.Dir(target), RootCause(err))
		}
	}
	p.info = info
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		Discard(target)
		return nil, fail(kind.ErrApply, err, "cannot write the download in %s (%v); nothing was changed", filepath.Dir(target), RootCause(err))
	}
	p.f = f
	if resume {
		// The hash covers the whole file: the kept prefix first.
		n, err := io.Copy(p.h, io.LimitReader(f, rel.Size))
		if err == nil && n == fi.Size() {
			p.have, p.resumed = n, true
		} else if err := p.restart(); err != nil {
			f.Close()
			Discard(target)
			return nil, fail(kind.ErrApply, err, "cannot write the download in %s (%v); nothing was changed", filepath.Dir(target), RootCause(err))
		}
	}
	return p, nil
}

// restart empties the file, for a download that starts over.
func (p *partial) restart() error {
	p.h.Reset()
	p.have, p.resumed = 0, false
	if err := p.f.Truncate(0); err != nil {
		return err
	}
	_, err := p.f.Seek(0, io.SeekStart)
	return err
}

// noteETag records the server's ETag in the sidecar, for the If-Range of
// the next try. Failing to is harmless: a stale ETag only makes the server
// send the whole file again.
func (p *partial) noteETag(etag string) {
	if etag != "" && etag != p.info.ETag {
		p.info.ETag = etag
		_ = writeSidecar(p.target, p.info) // harmless, as said above

	}
}

// ifRange is the validator sent with a Range: the ETag seen before, else
// the one the server gives an artifact (its sha256, quoted).
func (p *partial) ifRange() string {
	if p.info.ETag != "" && !strings.HasPrefix(p.info.ETag, "W/") {
		return p.info.ETag
	}
	return `"` + p.info.SHA256 + `"`
}
