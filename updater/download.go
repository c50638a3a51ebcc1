package updater

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/fault"
	"github.com/aktual/aktual/internal/i18n"
)

// progressInterval throttles progress events: often enough for a smooth
// bar, rare enough for a JSON consumer.
const progressInterval = 200 * time.Millisecond

// maxSidecarSize bounds the read of a partial download's sidecar.
const maxSidecarSize = 4 << 10

// downloadPath is where an artifact is written before it is verified: in
// the target's own folder, so the later rename never crosses devices.
func downloadPath(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".aktual-download")
}

// sidecarPath notes which release the partial download holds the start of.
func sidecarPath(target string) string { return downloadPath(target) + ".json" }

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
	f, err := os.Open(sidecarPath(target))
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
		err = os.Rename(f.Name(), sidecarPath(target))
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// discardPartial removes a partial download and its sidecar.
func discardPartial(target string) {
	os.Remove(downloadPath(target))
	os.Remove(sidecarPath(target))
}

// partialDownload reports a download kept beside target for the next run
// to continue: the bytes on disk and the release's size.
func partialDownload(target string) (have, total int64, ok bool) {
	p, ok := readSidecar(target)
	if !ok {
		return 0, 0, false
	}
	fi, err := os.Stat(downloadPath(target))
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 || fi.Size() > p.Size {
		return 0, 0, false
	}
	return fi.Size(), p.Size, true
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
	tmp := downloadPath(target)
	p := &partial{h: sha256.New(), target: target}
	info, ok := readSidecar(target)
	fi, err := os.Lstat(tmp)
	resume := ok && info.of(rel) && err == nil && fi.Mode().IsRegular() && fi.Size() > 0 && fi.Size() <= rel.Size
	if !resume {
		// Another release's bytes, or bytes of unknown origin.
		discardPartial(target)
		info = partialInfo{Product: rel.Product, Version: rel.Version, SHA256: rel.SHA256, Size: rel.Size}
		// The sidecar is in place before any byte is, so a partial file is
		// never taken for another release's.
		if err := writeSidecar(target, info); err != nil {
			return nil, fail(ErrApply, err, "cannot write the download in %s (%v); nothing was changed", filepath.Dir(target), rootCause(err))
		}
	}
	p.info = info
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		discardPartial(target)
		return nil, fail(ErrApply, err, "cannot write the download in %s (%v); nothing was changed", filepath.Dir(target), rootCause(err))
	}
	p.f = f
	if resume {
		// The hash covers the whole file: the kept prefix first.
		n, err := io.Copy(p.h, io.LimitReader(f, rel.Size))
		if err == nil && n == fi.Size() {
			p.have, p.resumed = n, true
		} else if err := p.restart(); err != nil {
			f.Close()
			discardPartial(target)
			return nil, fail(ErrApply, err, "cannot write the download in %s (%v); nothing was changed", filepath.Dir(target), rootCause(err))
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

// download fetches the release's artifact next to target, hashing while it
// writes and reading no more than the signed size, and returns the path of
// the verified file. It continues a download an earlier run left, and
// retries a line that breaks, from the bytes already on disk. When the
// line fails or the user stops it, the bytes that arrived are kept for the
// next run; when the file is wrong, or the disk fails, it is removed.
func (u *Updater) download(ctx context.Context, rel api.ReleaseStatement, target string) (_ string, err error) {
	u.phase(PhaseDownload, "downloading %s %s (%d bytes)", rel.Product, rel.Version, rel.Size)
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
			err = fail(ErrApply, cerr, "writing the download failed: %v", cerr)
		}
		if err != nil && !keep {
			discardPartial(target)
		}
		// A verified download keeps its sidecar until the update is done
		// (Update removes both): a run that fails before the install
		// leaves it for the next, which hashes it again.
	}()
	pw := &progressWriter{u: u, done: p.have, total: rel.Size}
	pw.restart(p.have)
	switch {
	case p.resumed && p.have == rel.Size:
		u.notice("the download is complete from an earlier run; it is checked again")
		pw.flush()
	case p.resumed:
		u.notice("continuing the download from %v of %v", i18n.Size(p.have), i18n.Size(rel.Size))
		pw.flush()
	}
	var waited time.Duration
	attempts := u.downloadAttempts()
	for attempt := 1; p.have < rel.Size; attempt++ {
		before := p.have
		ferr := u.fetch(ctx, rel, p, pw)
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
			return "", u.stopped(ctx, rel, p, &keep)
		case !errors.As(ferr, &le):
			return "", ferr // the file is wrong, or the disk failed
		}
		wait := backoff(attempt, orDefault(u.RetryDelay, DefaultRetryDelay), jitter)
		if le.retryAfter > 0 {
			wait = le.retryAfter
		}
		switch {
		case le.retryAfter > maxRetryAfter:
			return "", u.gaveUp(rel, p, le, attempt, u.Now.Now().Add(le.retryAfter), &keep)
		case attempt >= attempts || waited+wait > maxRetryWaiting:
			return "", u.gaveUp(rel, p, le, attempt, time.Time{}, &keep)
		}
		u.retrying(rel, p, le, wait, attempt+1, attempts, progressed)
		if sleep(ctx, wait) != nil {
			return "", u.stopped(ctx, rel, p, &keep)
		}
		waited += wait
	}
	pw.flush()
	u.phase(PhaseVerify, "verifying the download")
	switch got := hex.EncodeToString(p.h.Sum(nil)); {
	case p.have != rel.Size:
		return "", fail(ErrVerification, nil, "the download has %d bytes but the signed release has %d; nothing was installed", p.have, rel.Size)
	case got != rel.SHA256 && p.resumed:
		return "", fail(ErrVerification, nil, "the download's sha256 %s does not match the signed release's %s: the part kept from an earlier run was damaged, and is deleted; nothing was installed; run the update again to download it afresh", got, rel.SHA256)
	case got != rel.SHA256:
		return "", fail(ErrVerification, nil, "the download's sha256 %s does not match the signed release's %s (corrupt or tampered); nothing was installed", got, rel.SHA256)
	}
	if err := p.f.Sync(); err != nil {
		return "", fail(ErrApply, err, "writing the download failed (%v); free some space beside %s, then run the update again", err, target)
	}
	return downloadPath(target), nil
}

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

// fetch makes one try: it asks for the bytes not yet on disk (a Range
// validated by If-Range) and appends them, starting over when the server
// cannot continue. nil means the whole file is on disk. Its own stall
// watchdog cuts a try that is too slow.
func (u *Updater) fetch(ctx context.Context, rel api.ReleaseStatement, p *partial, pw *progressWriter) error {
	userCtx := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	rate := &rateWatch{}
	stopWatch := u.watchRate(ctx, rate, cancel)
	defer stopWatch()
	pw.restart(p.have)

	var resp *http.Response
	for resp == nil {
		r, err := u.getArtifact(ctx, rel, p)
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
				u.notice("the server cannot continue the download where it stopped; starting again from the beginning")
				if err := u.startOver(p, pw); err != nil {
					r.Body.Close()
					return err
				}
			}
			p.noteETag(r.Header.Get("ETag"))
			resp = r
		case (r.StatusCode == http.StatusPartialContent || r.StatusCode == http.StatusRequestedRangeNotSatisfiable) && p.have > 0:
			// A range other than the one asked for: ask for the whole file.
			r.Body.Close()
			u.notice("the server cannot continue the download where it stopped; starting again from the beginning")
			if err := u.startOver(p, pw); err != nil {
				return err
			}
		default:
			ae := errorAnswer(r)
			r.Body.Close()
			if ae.Status >= 500 || ae.Status == http.StatusTooManyRequests || ae.Code == api.CodeRateLimited {
				wait, _ := parseRetryAfter(ae.RetryAfter, u.Now.Now())
				return &lineError{kind: lineBusy, err: ae, status: ae.Status, code: ae.Code, retryAfter: wait}
			}
			return fail(ErrVerification, ae, "the server does not have the signed file of %s %s (%s); nothing was installed, tell your vendor", rel.Product, rel.Version, ae.Message)
		}
	}
	defer resp.Body.Close()
	if resp.ContentLength >= 0 && p.have+resp.ContentLength > rel.Size {
		return fail(ErrVerification, nil, "the server offers %d bytes but the signed release has %d; refusing it, nothing was installed", p.have+resp.ContentLength, rel.Size)
	}
	fw := &fileWriter{f: p.f}
	// One byte more than signed: a longer body is caught, not truncated.
	n, err := io.Copy(io.MultiWriter(fw, p.h, pw, rate), io.LimitReader(resp.Body, rel.Size-p.have+1))
	p.have += n
	switch {
	case fw.err != nil:
		// The disk, not the line: retrying the download will not help.
		return fail(ErrApply, fw.err, "cannot write the download beside %s (%v); free some space there, then run the update again; nothing was changed or used",
			p.target, rootCause(fw.err))
	case p.have > rel.Size:
		return fail(ErrVerification, nil, "the download has %d bytes but the signed release has %d; nothing was installed", p.have, rel.Size)
	case err != nil && context.Cause(ctx) == errTooSlow:
		return &lineError{kind: lineStall, err: err}
	case err != nil && userCtx.Err() != nil:
		return userCtx.Err()
	case err != nil:
		return &lineError{kind: lineCut, err: err}
	case p.have < rel.Size:
		// The server ended its answer short: a wrong file, not a cut line.
		return fail(ErrVerification, nil, "the download has %d bytes but the signed release has %d; nothing was installed", p.have, rel.Size)
	}
	return nil
}

func (u *Updater) startOver(p *partial, pw *progressWriter) error {
	if err := p.restart(); err != nil {
		return fail(ErrApply, err, "cannot write the download beside %s (%v); free some space there, then run the update again; nothing was changed or used",
			p.target, rootCause(err))
	}
	pw.restart(0)
	return nil
}

// getArtifact asks for the artifact, from the first byte not on disk.
func (u *Updater) getArtifact(ctx context.Context, rel api.ReleaseStatement, p *partial) (*http.Response, error) {
	req, err := u.newRequest(ctx, "GET", "/v1/artifacts/"+rel.SHA256, nil, nil)
	if err != nil {
		return nil, err
	}
	// Byte offsets are the file's own: no transparent compression.
	req.Header.Set("Accept-Encoding", "identity")
	if p.have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(p.have, 10)+"-")
		req.Header.Set("If-Range", p.ifRange())
	}
	return u.httpClient().Do(req)
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

// retrying tells that a try failed and when the next one starts. After a
// try that brought bytes the count starts again, so it is not shown.
func (u *Updater) retrying(rel api.ReleaseStatement, p *partial, le *lineError, wait time.Duration, next, attempts int, progressed bool) {
	if progressed && (le.kind == lineCut || le.kind == lineStall) {
		if le.kind == lineStall {
			u.notice("the download stalled at %v of %v; trying again in %d s", i18n.Size(p.have), i18n.Size(rel.Size), seconds(wait))
		} else {
			u.notice("the connection broke after %v of %v; trying again in %d s", i18n.Size(p.have), i18n.Size(rel.Size), seconds(wait))
		}
		return
	}
	switch le.kind {
	case lineUnreachable:
		u.notice("cannot reach the update server: %v; trying again in %d s (attempt %d of %d)", rootCause(le.err), seconds(wait), next, attempts)
	case lineStall:
		u.notice("the download stalled at %v of %v; trying again in %d s (attempt %d of %d)", i18n.Size(p.have), i18n.Size(rel.Size), seconds(wait), next, attempts)
	case lineBusy:
		u.notice("the server is busy (%d %s); trying again in %d s (attempt %d of %d)", le.status, le.code, seconds(wait), next, attempts)
	case lineCut:
		if !cutOff(le.err) {
			u.notice("the connection broke after %v of %v (%v); trying again in %d s (attempt %d of %d)",
				i18n.Size(p.have), i18n.Size(rel.Size), rootCause(le.err), seconds(wait), next, attempts)
			return
		}
		u.notice("the connection broke after %v of %v; trying again in %d s (attempt %d of %d)",
			i18n.Size(p.have), i18n.Size(rel.Size), seconds(wait), next, attempts)
	default:
		u.notice("the connection broke after %v of %v (%v); trying again in %d s (attempt %d of %d)",
			i18n.Size(p.have), i18n.Size(rel.Size), rootCause(le.err), seconds(wait), next, attempts)
	}
}

// cutOff reports whether the line simply ended mid-answer: the message
// then says so itself, without the cause's words repeating it.
func cutOff(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// gaveUp is the error after the last try: what failed, and what was kept.
// until is set when the server asked for a longer wait than a run sits
// through.
func (u *Updater) gaveUp(rel api.ReleaseStatement, p *partial, le *lineError, attempts int, until time.Time, keep *bool) error {
	var what i18n.Message
	switch {
	case !until.IsZero():
		what = i18n.M("the server is busy and asks not to download %s %s before %s", rel.Product, rel.Version, timeOfDay(until, u.Now.Now()))
	case le.kind == lineUnreachable:
		what = i18n.M("cannot reach the update server at %s to download %s %s (%v); check your Internet connection, or run: aktual netcheck --server %s",
			u.Server, rel.Product, rel.Version, rootCause(le.err), u.Server)
	case le.kind == lineStall:
		what = i18n.M("the download of %s %s stalled at %v of %v (less than %d bytes a second for %v: a very slow line, or a server holding it back)",
			rel.Product, rel.Version, i18n.Size(p.have), i18n.Size(rel.Size), orDefault(u.MinDownloadRate, DefaultMinDownloadRate), orDefault(u.StallWindow, DefaultStallWindow))
	case le.kind == lineBusy:
		what = i18n.M("the server cannot send %s %s now (%d %s)", rel.Product, rel.Version, le.status, le.code)
	case cutOff(le.err):
		what = i18n.M("the download of %s %s broke off at %v of %v", rel.Product, rel.Version, i18n.Size(p.have), i18n.Size(rel.Size))
	default:
		what = i18n.M("the download of %s %s broke off at %v of %v (%v)", rel.Product, rel.Version, i18n.Size(p.have), i18n.Size(rel.Size), rootCause(le.err))
	}
	var left i18n.Message
	switch {
	case p.have > 0 && !until.IsZero():
		left = i18n.M("nothing was installed; the %v downloaded so far are kept: run the update again then, and it continues from there", i18n.Size(p.have))
	case !until.IsZero():
		left = i18n.M("nothing was installed; run the update again then")
	case p.have > 0:
		left = i18n.M("it gave up after %d attempts; nothing was installed; the %v downloaded so far are kept: run the update again, and it continues from there", attempts, i18n.Size(p.have))
	default:
		left = i18n.M("it gave up after %d attempts; nothing was installed; try again later", attempts)
	}
	*keep = p.have > 0
	return fail(ErrNoConnection, le, "%v; %v", what, left)
}

// stopped is the error of a download the user stopped (Ctrl-C): no kind,
// so it reads as an interruption, and what arrived is kept.
func (u *Updater) stopped(ctx context.Context, rel api.ReleaseStatement, p *partial, keep *bool) error {
	if p.have == 0 {
		return ctx.Err()
	}
	*keep = true
	return fail(nil, ctx.Err(), "the download of %s %s was stopped at %v of %v; nothing was installed; what arrived is kept: run the update again, and it continues from there",
		rel.Product, rel.Version, i18n.Size(p.have), i18n.Size(rel.Size))
}

// timeOfDay is a time for people: the time of day when it is today, else the
// date too.
func timeOfDay(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04")
	}
	return t.Format("2006-01-02 15:04")
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

// progressWriter reports the bytes on disk (a resumed prefix included),
// with the rate and time left over the last seconds.
type progressWriter struct {
	u     *Updater
	done  int64
	total int64
	last  time.Time
	meter rateMeter
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if p.done >= p.total/2 {
		fault.Hit(fault.MidDownload)
	}
	if now := p.u.Now.Now(); now.Sub(p.last) >= progressInterval {
		p.last = now
		p.emit(now)
	}
	return len(b), nil
}

// restart starts a try (or starting over) from done bytes: the rate is
// the line's now, not the average with the waits between tries.
func (p *progressWriter) restart(done int64) {
	p.done = done
	p.meter = rateMeter{}
	p.meter.add(p.u.Now.Now(), done)
}

func (p *progressWriter) flush() { p.emit(p.u.Now.Now()) }

func (p *progressWriter) emit(now time.Time) {
	p.meter.add(now, p.done)
	e := Event{Event: EventProgress, Phase: PhaseDownload, Done: p.done, Total: p.total}
	if rate := p.meter.rate(); rate > 0 && p.done < p.total {
		e.Rate = rate
		e.ETA = (p.total - p.done + rate - 1) / rate
	}
	p.u.emit(e)
}

// rateWindow is how far back the download rate looks: long enough to
// smooth a bursty line, short enough to follow a change.
const rateWindow = 5 * time.Second

// minRateSpan is the least time a rate is measured over.
const minRateSpan = 500 * time.Millisecond

// rateMeter is a moving-window rate: samples of the bytes done, the
// oldest at most rateWindow before the newest (plus the one just before,
// so the window is full).
type rateMeter struct{ samples []rateSample }

type rateSample struct {
	at   time.Time
	done int64
}

func (m *rateMeter) add(at time.Time, done int64) {
	m.samples = append(m.samples, rateSample{at, done})
	// Keep one sample at or beyond the window's start.
	i := 0
	for i+1 < len(m.samples) && at.Sub(m.samples[i+1].at) >= rateWindow {
		i++
	}
	m.samples = m.samples[i:]
}

// rate is bytes a second over the window; 0 until it spans minRateSpan.
func (m *rateMeter) rate() int64 {
	if len(m.samples) < 2 {
		return 0
	}
	first, last := m.samples[0], m.samples[len(m.samples)-1]
	span := last.at.Sub(first.at)
	if span < minRateSpan || last.done <= first.done {
		return 0
	}
	return int64(float64(last.done-first.done) / span.Seconds())
}
