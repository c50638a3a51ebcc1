package updater

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/bsdiff"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/fetch"
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
	if plan.Patch != nil && !fetch.KeptDownloadOf(plan.Latest, plan.Target) {
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

// patched downloads and applies the plan's patch, and returns the path of
// the verified release, beside the target where download puts it (with
// its sidecar, so a run that stops before the install keeps it).
func (u *Updater) patched(ctx context.Context, plan *Plan) (string, error) {
	rel, offer := plan.Latest, plan.Patch
	u.phase(PhaseDownload, "downloading a patch for %s %s (%v instead of %v)", rel.Product, rel.Version, i18n.Size(offer.Size), i18n.Size(rel.Size))
	if err := u.client().DownloadPatch(ctx, offer, patchPath(plan.Target)); err != nil {
		return "", err
	}
	u.phase(PhaseVerify, "applying the patch and verifying the result")
	if err := applyPatchFile(ctx, plan.Target, patchPath(plan.Target), offer.Size, patchedPath(plan.Target), rel); err != nil {
		return "", err
	}
	fetch.Discard(plan.Target)
	if err := os.Rename(patchedPath(plan.Target), fetch.DownloadPath(plan.Target)); err != nil {
		return "", err
	}
	// Safe to drop: without its sidecar the file is still verified for
	// this run; the next one would only not take it for this release's.
	_ = fetch.Adopt(plan.Target, rel)
	return fetch.DownloadPath(plan.Target), nil
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
