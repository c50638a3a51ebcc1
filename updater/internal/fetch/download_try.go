package fetch

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/kind"
)

// lineError is a failure of the line or of a busy server, not of the
// file: worth another try, and the bytes already on disk are kept.
type lineError struct {
	kind       lineFailure
	err        error
	status     int           // lineBusy: the server's answer
	code       string        // lineBusy
	retryAfter time.Duration // the wait the server asked for, if any
}

type lineFailure int

const (
	lineUnreachable lineFailure = iota // no answer at all
	lineCut                            // the answer broke off
	lineStall                          // too slow (the watchdog)
	lineBusy                           // 5xx or 429
)

func (e *lineError) Error() string { return e.err.Error() }
func (e *lineError) Unwrap() error { return e.err }

// try makes one try: it asks for the bytes not yet on disk (a Range
// validated by If-Range) and appends them, starting over when the server
// cannot continue. nil means the whole file is on disk. Its own stall
// watchdog cuts a try that is too slow.
func (c *Client) try(ctx context.Context, rel api.ReleaseStatement, p *partial, pw *progressWriter) error {
	userCtx := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	rate := &rateWatch{}
	stopWatch := c.watchRate(ctx, rate, cancel)
	defer stopWatch()
	pw.restart(p.have)

	var resp *http.Response
	for resp == nil {
		r, err := c.getArtifact(ctx, rel, p)
		switch {
		case err != nil && context.Cause(ctx) == errTooSlow:
			return &lineError{kind: lineStall, err: err}
		case err != nil && userCtx.Err() != nil:
			return userCtx.Err()
		case err != nil:
			return &lineError{kind: lineUnreachable, err: err}
		}
		switch {
		case r.StatusCode == http.StatusPartialContent && contentRangeFits(r.Header.Get("Content-Range"), p.have, rel.Size) &&
			(r.Header.Get("ETag") == "" || r.Header.Get("ETag") == p.ifRange()):
			resp = r
		case r.StatusCode/100 == 2 && r.StatusCode != http.StatusPartialContent:
			if p.have > 0 {
				// If-Range did not match, or the server does not do ranges.
				c.notify(i18n.M("the server cannot continue the download where it stopped; starting again from the beginning"))
				if err := c.startOver(p, pw); err != nil {
					r.Body.Close()
					return err
				}
			}
			p.noteETag(r.Header.Get("ETag"))
			resp = r
		case (r.StatusCode == http.StatusPartialContent || r.StatusCode == http.StatusRequestedRangeNotSatisfiable) && p.have > 0:
			// A range other than the one asked for: ask for the whole file.
			r.Body.Close()
			c.notify(i18n.M("the server cannot continue the download where it stopped; starting again from the beginning"))
			if err := c.startOver(p, pw); err != nil {
				return err
			}
		default:
			ae := errorAnswer(r)
			r.Body.Close()
			if ae.Status >= 500 || ae.Status == http.StatusTooManyRequests || ae.Code == api.CodeRateLimited {
				wait, _ := parseRetryAfter(ae.RetryAfter, c.Now.Now())
				return &lineError{kind: lineBusy, err: ae, status: ae.Status, code: ae.Code, retryAfter: wait}
			}
			return fail(kind.ErrVerification, ae, "the server does not have the signed file of %s %s (%s); nothing was installed, tell your vendor", rel.Product, rel.Version, ae.Message)
		}
	}
	defer resp.Body.Close()
	if resp.ContentLength >= 0 && p.have+resp.ContentLength > rel.Size {
		return fail(kind.ErrVerification, nil, "the server offers %d bytes but the signed release has %d; refusing it, nothing was installed", p.have+resp.ContentLength, rel.Size)
	}
	fw := &fileWriter{f: p.f}
	// One byte more than signed: a longer body is caught, not truncated.
	n, err := io.Copy(io.MultiWriter(fw, p.h, pw, rate), io.LimitReader(resp.Body, rel.Size-p.have+1))
	p.have += n
	switch {
	case fw.err != nil:
		// The disk, not the line: retrying the download will not help.
		return fail(kind.ErrApply, fw.err, "cannot write the download beside %s (%v); free some space there, then run the update again; nothing was changed or used",
			p.target, RootCause(fw.err))
	case p.have > rel.Size:
		return fail(kind.ErrVerification, nil, "the download has %d bytes but the signed release has %d; nothing was installed", p.have, rel.Size)
	case err != nil && context.Cause(ctx) == errTooSlow:
		return &lineError{kind: lineStall, err: err}
	case err != nil && userCtx.Err() != nil:
		return userCtx.Err()
	case err != nil:
		return &lineError{kind: lineCut, err: err}
	case p.have < rel.Size:
		// The server ended its answer short: a wrong file, not a cut line.
		return fail(kind.ErrVerification, nil, "the download has %d bytes but the signed release has %d; nothing was installed", p.have, rel.Size)
	}
	return nil
}

func (c *Client) startOver(p *partial, pw *progressWriter) error {
	if err := p.restart(); err != nil {
		return fail(kind.ErrApply, err, "cannot write the download beside %s (%v); free some space there, then run the update again; nothing was changed or used",
			p.target, RootCause(err))
	}
	pw.restart(0)
	return nil
}

// getArtifact asks for the artifact, from the first byte not on disk.
func (c *Client) getArtifact(ctx context.Context, rel api.ReleaseStatement, p *partial) (*http.Response, error) {
	req, err := c.newRequest(ctx, "GET", "/v1/artifacts/"+rel.SHA256, nil, nil)
	if err != nil {
		return nil, err
	}
	// Byte offsets are the file's own: no transparent compression.
	req.Header.Set("Accept-Encoding", "identity")
	if p.have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(p.have, 10)+"-")
		req.Header.Set("If-Range", p.ifRange())
	}
	return c.httpClient().Do(req)
}

// contentRangeFits reports whether a 206's Content-Range is the rest of
// the file from offset: "bytes offset-(size-1)/size".
func contentRangeFits(cr string, offset, size int64) bool {
	var first, last, total int64
	if _, err := fmt.Sscanf(cr, "bytes %d-%d/%d", &first, &last, &total); err != nil {
		return false
	}
	return cr == fmt.Sprintf("bytes %d-%d/%d", first, last, total) && first == offset && last == size-1 && total == size
}
