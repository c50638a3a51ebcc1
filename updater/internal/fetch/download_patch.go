package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
)

// DownloadPatch fetches the patch to path, hashing as it writes and
// reading no more than its signed size. No resume: a patch is small, and
// the whole download is the fallback.
func (c *Client) DownloadPatch(ctx context.Context, offer *api.PatchOffer, path string) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	rate := &rateWatch{}
	defer c.watchRate(ctx, rate, cancel)()
	req, err := c.newRequest(ctx, http.MethodGet, "/v1/artifacts/"+offer.SHA256, nil, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return i18n.Errorf("cannot download it: %w", RootCause(err))
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
	pw := &progressWriter{c: c, total: offer.Size}
	pw.restart(0)
	// One byte more than signed: a longer body is caught, not truncated.
	n, err := io.Copy(io.MultiWriter(f, h, patchProgress{pw}, rate), io.LimitReader(resp.Body, offer.Size+1))
	pw.flush()
	switch got := hex.EncodeToString(h.Sum(nil)); {
	case err != nil:
		return i18n.Errorf("the download broke off: %w", RootCause(err))
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
	if now := p.pw.c.Now.Now(); now.Sub(p.pw.last) >= progressInterval {
		p.pw.last = now
		p.pw.emit(now)
	}
	return len(b), nil
}
