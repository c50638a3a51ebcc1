package fetch

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/kind"
)

// retrying tells that a try failed and when the next one starts. After a
// try that brought bytes the count starts again, so it is not shown.
func (c *Client) retrying(rel api.ReleaseStatement, p *partial, le *lineError, wait time.Duration, next, attempts int, progressed bool) {
	if progressed && (le.kind == lineCut || le.kind == lineStall) {
		if le.kind == lineStall {
			c.notify(i18n.M("the download stalled at %v of %v; trying again in %d s", i18n.Size(p.have), i18n.Size(rel.Size), seconds(wait)))
		} else {
			c.notify(i18n.M("the connection broke after %v of %v; trying again in %d s", i18n.Size(p.have), i18n.Size(rel.Size), seconds(wait)))
		}
		return
	}
	switch le.kind {
	case lineUnreachable:
		c.notify(i18n.M("cannot reach the update server: %v; trying again in %d s (attempt %d of %d)", RootCause(le.err), seconds(wait), next, attempts))
	case lineStall:
		c.notify(i18n.M("the download stalled at %v of %v; trying again in %d s (attempt %d of %d)", i18n.Size(p.have), i18n.Size(rel.Size), seconds(wait), next, attempts))
	case lineBusy:
		c.notify(i18n.M("the server is busy (%d %s); trying again in %d s (attempt %d of %d)", le.status, le.code, seconds(wait), next, attempts))
	case lineCut:
		if !cutOff(le.err) {
			c.notify(i18n.M("the connection broke after %v of %v (%v); trying again in %d s (attempt %d of %d)",
				i18n.Size(p.have), i18n.Size(rel.Size), RootCause(le.err), seconds(wait), next, attempts))
			return
		}
		c.notify(i18n.M("the connection broke after %v of %v; trying again in %d s (attempt %d of %d)",
			i18n.Size(p.have), i18n.Size(rel.Size), seconds(wait), next, attempts))
	default:
		c.notify(i18n.M("the connection broke after %v of %v (%v); trying again in %d s (attempt %d of %d)",
			i18n.Size(p.have), i18n.Size(rel.Size), RootCause(le.err), seconds(wait), next, attempts))
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
func (c *Client) gaveUp(rel api.ReleaseStatement, p *partial, le *lineError, attempts int, until time.Time, keep *bool) error {
	var what i18n.Message
	switch {
	case !until.IsZero():
		what = i18n.M("the server is busy and asks not to download %s %s before %s", rel.Product, rel.Version, timeOfDay(until, c.Now.Now()))
	case le.kind == lineUnreachable:
		what = i18n.M("cannot reach the update server at %s to download %s %s (%v); check your Internet connection, or run: aktual netcheck --server %s",
			c.Server, rel.Product, rel.Version, RootCause(le.err), c.Server)
	case le.kind == lineStall:
		what = i18n.M("the download of %s %s stalled at %v of %v (less than %d bytes a second for %v: a very slow line, or a server holding it back)",
			rel.Product, rel.Version, i18n.Size(p.have), i18n.Size(rel.Size), orDefault(c.MinRate, DefaultMinDownloadRate), orDefault(c.StallWindow, DefaultStallWindow))
	case le.kind == lineBusy:
		what = i18n.M("the server cannot send %s %s now (%d %s)", rel.Product, rel.Version, le.status, le.code)
	case cutOff(le.err):
		what = i18n.M("the download of %s %s broke off at %v of %v", rel.Product, rel.Version, i18n.Size(p.have), i18n.Size(rel.Size))
	default:
		what = i18n.M("the download of %s %s broke off at %v of %v (%v)", rel.Product, rel.Version, i18n.Size(p.have), i18n.Size(rel.Size), RootCause(le.err))
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
	return fail(kind.ErrNoConnection, le, "%v; %v", what, left)
}

// stopped is the error of a download the user stopped (Ctrl-C): no kind,
// so it reads as an interruption, and what arrived is kept.
func (c *Client) stopped(ctx context.Context, rel api.ReleaseStatement, p *partial, keep *bool) error {
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
