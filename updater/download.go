package updater

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/fault"
)

// progressInterval throttles progress events: often enough for a smooth
// bar, rare enough for a JSON consumer.
const progressInterval = 200 * time.Millisecond

// downloadPath is where an artifact is written before it is verified: in
// the target's own folder, so the later rename never crosses devices.
func downloadPath(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".aktual-download")
}

// download fetches the release's artifact next to target, hashing while it
// writes and reading no more than the signed size, and returns the path of
// the verified file. On any failure the partial file is removed.
func (u *Updater) download(ctx context.Context, rel api.ReleaseStatement, target string) (_ string, err error) {
	u.phase(PhaseDownload, "downloading %s %s (%d bytes)", rel.Product, rel.Version, rel.Size)
	userCtx := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	rate := &rateWatch{}
	stopWatch := u.watchRate(ctx, rate, cancel)
	defer stopWatch()
	resp, err := u.send(ctx, "GET", "/v1/artifacts/"+rel.SHA256, nil, nil)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && (ae.Status >= 500 || ae.Code == api.CodeRateLimited):
		return "", transientError(err, "downloading "+rel.Product+" "+rel.Version)
	case errors.As(err, &ae):
		return "", fail(ErrVerification, err, "the server does not have the signed file of %s %s (%s); nothing was installed, tell your vendor", rel.Product, rel.Version, ae.Message)
	case err != nil:
		return "", err
	}
	defer resp.Body.Close()
	if resp.ContentLength > rel.Size {
		return "", fail(ErrVerification, nil, "the server offers %d bytes but the signed release has %d; refusing it, nothing was installed", resp.ContentLength, rel.Size)
	}
	tmp := downloadPath(target)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return "", fail(ErrApply, err, "cannot write in %s (%v); nothing was changed", filepath.Dir(target), rootCause(err))
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fail(ErrApply, cerr, "writing the download failed: %v", cerr)
		}
		if err != nil {
			os.Remove(tmp)
		}
	}()
	h := sha256.New()
	pw := &progressWriter{u: u, total: rel.Size}
	fw := &fileWriter{f: f}
	// One byte more than signed: a longer body is caught, not truncated.
	n, err := io.Copy(io.MultiWriter(fw, h, pw, rate), io.LimitReader(resp.Body, rel.Size+1))
	switch {
	case fw.err != nil:
		// The disk, not the line: retrying the download will not help.
		return "", fail(ErrApply, fw.err, "cannot write the download beside %s (%v); free some space there, then run the update again; nothing was changed or used",
			target, rootCause(fw.err))
	case err != nil && context.Cause(ctx) == errTooSlow:
		return "", fail(ErrNoConnection, err,
			"the download of %s %s stalled after %d of %d bytes (less than %d bytes a second for %v: a very slow line, or a server holding it back); nothing was installed; try again later",
			rel.Product, rel.Version, n, rel.Size, orDefault(u.MinDownloadRate, DefaultMinDownloadRate), orDefault(u.StallWindow, DefaultStallWindow))
	case err != nil && userCtx.Err() != nil:
		return "", userCtx.Err()
	case err != nil:
		return "", fail(ErrNoConnection, err, "the download of %s %s broke off after %d of %d bytes (%v); run the update again",
			rel.Product, rel.Version, n, rel.Size, rootCause(err))
	}
	pw.flush()
	u.phase(PhaseVerify, "verifying the download")
	switch got := hex.EncodeToString(h.Sum(nil)); {
	case n != rel.Size:
		return "", fail(ErrVerification, nil, "the download has %d bytes but the signed release has %d; nothing was installed", n, rel.Size)
	case got != rel.SHA256:
		return "", fail(ErrVerification, nil, "the download's sha256 %s does not match the signed release's %s (corrupt or tampered); nothing was installed", got, rel.SHA256)
	}
	if err := f.Sync(); err != nil {
		return "", fail(ErrApply, err, "writing the download failed (%v); free some space beside %s, then run the update again", err, target)
	}
	return tmp, nil
}

// errTooSlow is the cause of a download cut for being too slow.
var errTooSlow = errors.New("the download is too slow")

// rateWatch counts the bytes that arrived.
type rateWatch struct{ n atomic.Int64 }

func (r *rateWatch) Write(b []byte) (int, error) {
	r.n.Add(int64(len(b)))
	return len(b), nil
}

// watchRate cancels the download when, over a whole StallWindow (waiting
// for the answer included), fewer than MinDownloadRate bytes a second
// arrived: a server that sends slowly, or not at all, cannot hold the
// client for ever (TUF's slow-retrieval attack).
func (u *Updater) watchRate(ctx context.Context, r *rateWatch, cancel context.CancelCauseFunc) (stop func()) {
	window := orDefault(u.StallWindow, DefaultStallWindow)
	floor := max(int64(float64(orDefault(u.MinDownloadRate, DefaultMinDownloadRate))*window.Seconds()), 1)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(window)
		defer t.Stop()
		var last int64
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				now := r.n.Load()
				if now-last < floor {
					cancel(errTooSlow)
					return
				}
				last = now
			}
		}
	}()
	return func() { close(done) }
}

// fileWriter remembers its own write error, so a full disk is told apart
// from a broken connection.
type fileWriter struct {
	f   *os.File
	err error
}

func (w *fileWriter) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	if err != nil {
		w.err = err
	}
	return n, err
}

type progressWriter struct {
	u     *Updater
	done  int64
	total int64
	last  time.Time
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if p.done >= p.total/2 {
		fault.Hit(fault.MidDownload)
	}
	if now := time.Now(); now.Sub(p.last) >= progressInterval {
		p.last = now
		p.u.emit(Event{Event: EventProgress, Phase: PhaseDownload, Done: p.done, Total: p.total})
	}
	return len(b), nil
}

func (p *progressWriter) flush() {
	p.u.emit(Event{Event: EventProgress, Phase: PhaseDownload, Done: p.done, Total: p.total})
}
