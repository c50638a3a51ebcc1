package updater

import (
	"bufio"
	"compress/bzip2"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
)

// Delta updates: when the signed latest answer offers a patch from the
// installed file to the new release, the patch is downloaded, checked
// against its signed sha256 and size, applied to the installed file, and
// its output kept only if it is exactly the signed release. Any failure
// falls back to the whole download: a patch saves bytes, it never decides
// what is installed.

// usablePatch is the offer when this client can use it: its format, from
// the installed file's hash, and smaller than the release.
func usablePatch(p *api.PatchOffer, current string, latest api.ReleaseStatement) *api.PatchOffer {
	if p == nil || p.Format != api.PatchBSDiff || p.FromSHA256 != current || !isSHA256Hex(p.SHA256) ||
		p.Size <= 0 || p.Size >= latest.Size {
		return nil
	}
	return p
}

func isSHA256Hex(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size && hex.EncodeToString(b) == s
}

// patchPath is where the patch is downloaded; patchedPath where its
// output is written. Both beside the target, under fixed names, so that
// what a killed run leaves is replaced by the next.
func patchPath(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".aktual-patch")
}

func patchedPath(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".aktual-patched")
}

func removePatchFiles(target string) {
	os.Remove(patchPath(target))
	os.Remove(patchedPath(target))
}

// fetchRelease puts the verified release beside the target, as download
// does: through the offered patch when there is one, else (or when the
// patch fails) by downloading the whole file.
func (u *Updater) fetchRelease(ctx context.Context, plan *Plan) (string, error) {
	removePatchFiles(plan.Target)
	if plan.Patch != nil && !u.keptDownloadOf(plan.Latest, plan.Target) {
		path, err := u.patched(ctx, plan)
		removePatchFiles(plan.Target)
		if err == nil {
			return path, nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		u.notice("the patch could not be used (%v); downloading the whole release instead", err)
	}
	return u.download(ctx, plan.Latest, plan.Target)
}

// keptDownloadOf reports whether an earlier run left a part of rel's
// download: continuing it beats a patch.
func (u *Updater) keptDownloadOf(rel api.ReleaseStatement, target string) bool {
	info, ok := readSidecar(target)
	if !ok || !info.of(rel) {
		return false
	}
	fi, err := os.Stat(downloadPath(target))
	return err == nil && fi.Mode().IsRegular() && fi.Size() > 0
}

// patched downloads and applies the plan's patch, and returns the path of
// the verified release, beside the target where download puts it (with
// its sidecar, so a run that stops before the install keeps it).
func (u *Updater) patched(ctx context.Context, plan *Plan) (string, error) {
	rel, offer := plan.Latest, plan.Patch
	u.phase(PhaseDownload, "downloading a patch for %s %s (%v instead of %v)", rel.Product, rel.Version, i18n.Size(offer.Size), i18n.Size(rel.Size))
	if err := u.downloadPatch(ctx, offer, patchPath(plan.Target)); err != nil {
		return "", err
	}
	u.phase(PhaseVerify, "applying the patch and verifying the result")
	if err := applyPatchFile(ctx, plan.Target, patchPath(plan.Target), offer.Size, patchedPath(plan.Target), rel); err != nil {
		return "", err
	}
	discardPartial(plan.Target)
	if err := os.Rename(patchedPath(plan.Target), downloadPath(plan.Target)); err != nil {
		return "", err
	}
	// Without its sidecar the file is still verified for this run; the
	// next one would only not take it for this release's.
	_ = writeSidecar(plan.Target, partialInfo{Product: rel.Product, Version: rel.Version, SHA256: rel.SHA256, Size: rel.Size})
	return downloadPath(plan.Target), nil
}

// downloadPatch fetches the patch to path, hashing as it writes and
// reading no more than its signed size. No resume: a patch is small, and
// the whole download is the fallback.
func (u *Updater) downloadPatch(ctx context.Context, offer *api.PatchOffer, path string) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	rate := &rateWatch{}
	defer u.watchRate(ctx, rate, cancel)()
	req, err := u.newRequest(ctx, http.MethodGet, "/v1/artifacts/"+offer.SHA256, nil, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := u.httpClient().Do(req)
	if err != nil {
		return i18n.Errorf("cannot download it: %w", rootCause(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return i18n.Errorf("the server answered %d %s", resp.StatusCode, errorAnswer(resp).Code)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	pw := &progressWriter{u: u, total: offer.Size}
	pw.restart(0)
	// One byte more than signed: a longer body is caught, not truncated.
	n, err := io.Copy(io.MultiWriter(f, h, patchProgress{pw}, rate), io.LimitReader(resp.Body, offer.Size+1))
	pw.flush()
	switch got := hex.EncodeToString(h.Sum(nil)); {
	case err != nil:
		return i18n.Errorf("the download broke off: %w", rootCause(err))
	case n != offer.Size:
		return i18n.Errorf("the patch has %d bytes but the signed answer says %d", n, offer.Size)
	case got != offer.SHA256:
		return i18n.Errorf("the patch's sha256 %s does not match the signed %s", got, offer.SHA256)
	}
	return f.Close()
}

// patchProgress reports a patch's download like a release's, without the
// fault hook the release's download has for the crash tests.
type patchProgress struct{ pw *progressWriter }

func (p patchProgress) Write(b []byte) (int, error) {
	p.pw.done += int64(len(b))
	if now := time.Now(); now.Sub(p.pw.last) >= progressInterval {
		p.pw.last = now
		p.pw.emit(now)
	}
	return len(b), nil
}

// applyPatchFile applies the patch at patchFile to target, writing the
// output to out while hashing it, and keeps the output only when it is
// exactly rel (sha256 and size), synced.
func applyPatchFile(ctx context.Context, target, patchFile string, patchSize int64, out string, rel api.ReleaseStatement) (err error) {
	old, err := os.Open(target)
	if err != nil {
		return err
	}
	defer old.Close()
	fi, err := old.Stat()
	if err != nil {
		return err
	}
	patch, err := os.Open(patchFile)
	if err != nil {
		return err
	}
	defer patch.Close()
	f, err := os.OpenFile(out, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(out)
		}
	}()
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 64<<10)
	if err := applyBSDiff(ctx, old, fi.Size(), patch, patchSize, w, rel.Size); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != rel.SHA256 {
		return i18n.Errorf("the patched file's sha256 %s does not match the signed release's %s", got, rel.SHA256)
	}
	return f.Sync()
}

// bsdiff 4 patches (the format of bsdiff and of minio/selfupdate's
// patcher): a 32-byte header, then three bzip2 streams. The control
// stream is triples (add, copy, seek): add bytes of the diff stream to
// the old file's bytes at the old position, copy bytes of the extra
// stream, move the old position by seek.
const (
	bsdiffMagic      = "BSDIFF40"
	bsdiffHeaderSize = 32
)

// malformedPatch is the error of a patch that is not a bsdiff patch of
// the signed size (its message says how), as opposed to one that cannot
// be read or written.
type malformedPatch struct{ error }

func (e malformedPatch) Unwrap() error { return e.error }

func malformed(err error) error { return malformedPatch{err} }

func isMalformed(err error) bool {
	var m malformedPatch
	return errors.As(err, &m)
}

// patchHeader is a bsdiff 4 header: the compressed lengths of the control
// and diff streams, and the size of the file the patch makes.
type patchHeader struct {
	ctrlLen, diffLen, newSize int64
}

// parsePatchHeader reads a header and checks it against the patch's size.
func parsePatchHeader(b []byte, patchSize int64) (patchHeader, error) {
	if len(b) < bsdiffHeaderSize || string(b[:8]) != bsdiffMagic {
		return patchHeader{}, malformed(i18n.Errorf("the patch is not a bsdiff patch"))
	}
	h := patchHeader{ctrlLen: offtin(b[8:16]), diffLen: offtin(b[16:24]), newSize: offtin(b[24:32])}
	rest := patchSize - bsdiffHeaderSize
	if h.ctrlLen < 0 || h.diffLen < 0 || h.newSize < 0 || rest < 0 || h.ctrlLen > rest || h.diffLen > rest-h.ctrlLen {
		return patchHeader{}, malformed(i18n.Errorf("the patch's header is inconsistent"))
	}
	return h, nil
}

// offtin decodes bsdiff's 8-byte sign-magnitude little-endian integer.
func offtin(b []byte) int64 {
	var y int64
	for i := 6; i >= 0; i-- {
		y = y<<8 | int64(b[i])
	}
	y |= int64(b[7]&0x7f) << 56
	if b[7]&0x80 != 0 {
		y = -y
	}
	return y
}

// patchChunk is how much of the diff stream is added to the old file at a
// time: memory stays this small whatever the file's size.
const patchChunk = 64 << 10

// applyBSDiff applies a bsdiff 4 patch, streaming: old is read where the
// control stream points, the output is written in order, and no more than
// a chunk of either is held. The output must be exactly newSize bytes
// (the signed release's); old bytes outside the old file count as zero,
// as in bspatch.
func applyBSDiff(ctx context.Context, old io.ReaderAt, oldSize int64, patch io.ReaderAt, patchSize int64, out io.Writer, newSize int64) error {
	var hb [bsdiffHeaderSize]byte
	if _, err := patch.ReadAt(hb[:], 0); err != nil {
		return malformed(i18n.Errorf("the patch is too short"))
	}
	h, err := parsePatchHeader(hb[:], patchSize)
	if err != nil {
		return err
	}
	if h.newSize != newSize {
		return malformed(i18n.Errorf("the patch makes a file of %d bytes, not the %d signed", h.newSize, newSize))
	}
	ctrl := bzip2.NewReader(io.NewSectionReader(patch, bsdiffHeaderSize, h.ctrlLen))
	diff := bzip2.NewReader(io.NewSectionReader(patch, bsdiffHeaderSize+h.ctrlLen, h.diffLen))
	extra := bzip2.NewReader(io.NewSectionReader(patch, bsdiffHeaderSize+h.ctrlLen+h.diffLen, patchSize-bsdiffHeaderSize-h.ctrlLen-h.diffLen))
	// A position further from the old file than this reads only zeros in
	// any patch bsdiff makes; it bounds the arithmetic below.
	limit := oldSize + newSize + 1
	buf := make([]byte, patchChunk)
	obuf := make([]byte, patchChunk)
	var oldPos, newPos int64
	var triple [24]byte
	for newPos < newSize {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := io.ReadFull(ctrl, triple[:]); err != nil {
			return corruptPatch(err)
		}
		add, cp, seek := offtin(triple[0:8]), offtin(triple[8:16]), offtin(triple[16:24])
		if add < 0 || cp < 0 || add > newSize-newPos || cp > newSize-newPos-add || seek < -limit || seek > limit {
			return malformed(i18n.Errorf("the patch's control data is out of range"))
		}
		for left := add; left > 0; {
			n := min(left, patchChunk)
			if _, err := io.ReadFull(diff, buf[:n]); err != nil {
				return corruptPatch(err)
			}
			if err := addOld(old, oldSize, oldPos, buf[:n], obuf[:n]); err != nil {
				return err
			}
			if _, err := out.Write(buf[:n]); err != nil {
				return err
			}
			oldPos += n
			left -= n
		}
		if n, err := io.CopyN(out, extra, cp); err != nil {
			if n < cp && (errors.Is(err, io.EOF) || isBzip2Error(err)) {
				return corruptPatch(err)
			}
			return err
		}
		newPos += add + cp
		oldPos += seek
		if oldPos < -limit || oldPos > limit {
			return malformed(i18n.Errorf("the patch's control data is out of range"))
		}
	}
	return nil
}

// addOld adds to b the old file's bytes from pos on (zero outside it).
func addOld(old io.ReaderAt, oldSize, pos int64, b, scratch []byte) error {
	lo, hi := max(pos, 0), min(pos+int64(len(b)), oldSize)
	if lo >= hi {
		return nil
	}
	o := scratch[:hi-lo]
	if _, err := old.ReadAt(o, lo); err != nil {
		return i18n.Errorf("reading the installed file: %w", err)
	}
	d := b[lo-pos:]
	for i := range o {
		d[i] += o[i]
	}
	return nil
}

func corruptPatch(err error) error {
	return malformed(i18n.Errorf("the patch's data is damaged (%v)", err))
}

func isBzip2Error(err error) bool {
	var se bzip2.StructuralError
	return errors.As(err, &se)
}
