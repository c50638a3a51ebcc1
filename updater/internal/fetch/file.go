package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater/internal/kind"
)

// filePath is where a release file given with --file is copied before it
// is verified: beside the target, like a download, so the swap is a
// rename on one device and the original on the USB stick is never moved.
func filePath(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".aktual-file")
}

// CopyFile takes the release's artifact from a file downloaded elsewhere
// (support staff carry it on a USB stick) instead of the server. It is
// checked exactly as a download is: copied beside the target, hashed while
// copied, bounded by the signed size and compared with the signed release.
func CopyFile(ctx context.Context, rel api.ReleaseStatement, target, file string) (_ string, err error) {
	src, err := os.Open(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fail(kind.ErrUsage, err, "the release file %s does not exist; check the path given with --file", file)
	case err != nil:
		return "", fail(kind.ErrUsage, err, "cannot read the release file %s (%v)", file, err)
	}
	defer src.Close()
	if fi, err := src.Stat(); err == nil && !fi.Mode().IsRegular() {
		return "", fail(kind.ErrUsage, nil, "%s is not a file; pass the release file with --file", file)
	}
	tmp := filePath(target)
	dst, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return "", fail(kind.ErrApply, err, "cannot write a copy of the release file in %s (%v); nothing was changed", filepath.Dir(target), err)
	}
	defer func() {
		if cerr := dst.Close(); err == nil && cerr != nil {
			err = fail(kind.ErrApply, cerr, "copying the release file failed (%v); nothing was changed", cerr)
		}
		if err != nil {
			os.Remove(tmp)
		}
	}()
	h := sha256.New()
	fw := &fileWriter{f: dst}
	n, err := io.Copy(io.MultiWriter(fw, h), io.LimitReader(&ctxReader{ctx, src}, rel.Size+1))
	switch {
	case fw.err != nil:
		return "", fail(kind.ErrApply, fw.err, "cannot copy the release file beside %s (%v); free some space there, then run the update again; nothing was changed or used", target, fw.err)
	case err != nil && ctx.Err() != nil:
		return "", ctx.Err()
	case err != nil:
		return "", fail(kind.ErrUsage, err, "reading the release file %s failed (%v); copy it again and retry", file, err)
	case n != rel.Size:
		return "", fail(kind.ErrVerification, nil,
			"the release file %s is not %s %s for %s/%s: it has a different size than the signed release (%d bytes); nothing was installed. Get that release's file from your vendor",
			file, rel.Product, rel.Version, rel.OS, rel.Arch, rel.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != rel.SHA256 {
		return "", fail(kind.ErrVerification, nil,
			"the release file %s is not %s %s for %s/%s: its sha256 %s does not match the signed release's %s (another version, or a damaged copy); nothing was installed",
			file, rel.Product, rel.Version, rel.OS, rel.Arch, got, rel.SHA256)
	}
	if err := dst.Sync(); err != nil {
		return "", fail(kind.ErrApply, err, "copying the release file failed (%v); nothing was changed", err)
	}
	return tmp, nil
}

// ctxReader stops a long copy when ctx ends (Ctrl-C).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}
