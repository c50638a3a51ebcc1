package updater

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/bsdiff"
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
	// Safe to drop: without its sidecar the file is still verified for
	// this run; the next one would only not take it for this release's.
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
	if now := p.pw.u.Now.Now(); now.Sub(p.pw.last) >= progressInterval {
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
	if err := bsdiff.Apply(ctx, old, fi.Size(), patch, patchSize, w, rel.Size); err != nil {
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
