package fetch

import (
	"context"
	"encoding/hex"
	"errors"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/kind"
)

// Download fetches the release's artifact next to target, hashing while it
// writes and reading no more than the signed size, and returns the path of
// the verified file (DownloadPath). It continues a download an earlier run left, and
// retries a line that breaks, from the bytes already on disk. When the
// line fails or the user stops it, the bytes that arrived are kept for the
// next run; when the file is wrong, or the disk fails, it is removed.
func (c *Client) Download(ctx context.Context, rel api.ReleaseStatement, target string) (_ string, err error) {
	p, err := openPartial(rel, target)
	if err != nil {
		return "", err
	}
	keep := false
	defer func() {
		if keep {
			// What arrived is on disk for the next run.
			p.f.Sync()
		}
		if cerr := p.f.Close(); err == nil && cerr != nil {
			err = fail(kind.ErrApply, cerr, "writing the download failed: %v", cerr)
		}
		if err != nil && !keep {
			Discard(target)
		}
		// A verified download keeps its sidecar until the update is done
		// (Update removes both): a run that fails before the install
		// leaves it for the next, which hashes it again.
	}()
	pw := &progressWriter{c: c, done: p.have, total: rel.Size}
	pw.restart(p.have)
	switch {
	case p.resumed && p.have == rel.Size:
		c.notify(i18n.M("the download is complete from an earlier run; it is checked again"))
		pw.flush()
	case p.resumed:
		c.notify(i18n.M("continuing the download from %v of %v", i18n.Size(p.have), i18n.Size(rel.Size)))
		pw.flush()
	}
	if err := c.tryUntilDone(ctx, rel, p, pw, &keep); err != nil {
		return "", err
	}
	pw.flush()
	if c.Verifying != nil {
		c.Verifying()
	}
	if err := verifyDownload(rel, p); err != nil {
		return "", err
	}
	if err := p.f.Sync(); err != nil {
		return "", fail(kind.ErrApply, err, "writing the download failed (%v); free some space beside %s, then run the update again", err, target)
	}
	return DownloadPath(target), nil
}

// tryUntilDone fetches until the whole file is on disk, trying again
// after a line that breaks or a busy server, with backoff, within the
// attempts and the waiting a run allows. keep is set when what arrived
// stays for the next run.
func (c *Client) tryUntilDone(ctx context.Context, rel api.ReleaseStatement, p *partial, pw *progressWriter, keep *bool) error {
	var waited time.Duration
	attempts := c.downloadAttempts()
	for attempt := 1; p.have < rel.Size; attempt++ {
		before := p.have
		ferr := c.try(ctx, rel, p, pw)
		if ferr == nil {
			break
		}
		progressed := p.have > before
		if progressed {
			// The try moved the download on: only tries in a row that
			// bring nothing count toward giving up, so a line that breaks
			// every few megabytes still gets the whole file.
			attempt = 1
		}
		var le *lineError
		switch {
		case ctx.Err() != nil:
			return c.stopped(ctx, rel, p, keep)
		case !errors.As(ferr, &le):
			return ferr // the file is wrong, or the disk failed
		}
		wait := backoff(attempt, orDefault(c.RetryDelay, DefaultRetryDelay), jitter)
		if le.retryAfter > 0 {
			wait = le.retryAfter
		}
		switch {
		case le.retryAfter > maxRetryAfter:
			return c.gaveUp(rel, p, le, attempt, c.Now.Now().Add(le.retryAfter), keep)
		case attempt >= attempts || waited+wait > maxRetryWaiting:
			return c.gaveUp(rel, p, le, attempt, time.Time{}, keep)
		}
		c.retrying(rel, p, le, wait, attempt+1, attempts, progressed)
		if sleep(ctx, wait) != nil {
			return c.stopped(ctx, rel, p, keep)
		}
		waited += wait
	}
	return nil
}

// verifyDownload compares the whole download with the signed release.
func verifyDownload(rel api.ReleaseStatement, p *partial) error {
	switch got := hex.EncodeToString(p.h.Sum(nil)); {
	case p.have != rel.Size:
		return fail(kind.ErrVerification, nil, "the download has %d bytes but the signed release has %d; nothing was installed", p.have, rel.Size)
	case got != rel.SHA256 && p.resumed:
		return fail(kind.ErrVerification, nil, "the download's sha256 %s does not match the signed release's %s: the part kept from an earlier run was damaged, and is deleted; nothing was installed; run the update again to download it afresh", got, rel.SHA256)
	case got != rel.SHA256:
		return fail(kind.ErrVerification, nil, "the download's sha256 %s does not match the signed release's %s (corrupt or tampered); nothing was installed", got, rel.SHA256)
	}
	return nil
}
