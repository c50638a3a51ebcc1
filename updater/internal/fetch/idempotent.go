package fetch

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aktual/aktual/internal/i18n"
)

// Reserve and complete carry an idempotency key (or a reservation ID), so
// sending one again cannot hold or spend a second update: the server
// answers a repeat with the first answer. When the server runs as several
// replicas behind a load balancer and one dies in the middle of a request,
// the balancer answers 502 or 503, or the connection drops; trying again at
// once reaches another replica and finishes in this run, instead of
// leaving the outcome to the next one.

// IdempotentTries is how many times one reserve or complete is sent in a
// run, at most.
const IdempotentTries = 3

// maxIdempotentWait is the longest Retry-After honoured between them; a
// server asking for more is left to the next run.
const maxIdempotentWait = 10 * time.Second

// Idempotent names the request RetryIdempotent repeats.
type Idempotent int

const (
	Reserve Idempotent = iota
	Complete
	Settle
)

// RetryIdempotent calls send until it succeeds, fails in a way a repeat
// cannot mend, or IdempotentTries are spent. what names the request in
// the notice shown before each new try.
func (c *Client) RetryIdempotent(ctx context.Context, what Idempotent, send func() error) error {
	for try := 1; ; try++ {
		err := send()
		wait, again := repeatable(err)
		if !again || try == IdempotentTries || ctx.Err() != nil {
			return err
		}
		if wait == 0 {
			wait = backoff(try, orDefault(c.RetryDelay, DefaultRetryDelay), jitter)
		}
		if wait > maxIdempotentWait {
			return err
		}
		switch what {
		case Reserve:
			c.notify(i18n.M("the server did not answer the reserve (%v); sending it again in %d s (try %d of %d); it cannot hold a second update", RootCause(err), seconds(wait), try+1, IdempotentTries))
		case Complete:
			c.notify(i18n.M("the server did not answer the report of the finished update (%v); sending it again in %d s (try %d of %d)", RootCause(err), seconds(wait), try+1, IdempotentTries))
		case Settle:
			c.notify(i18n.M("the server did not answer the question about the interrupted update (%v); asking again in %d s (try %d of %d)", RootCause(err), seconds(wait), try+1, IdempotentTries))
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// repeatable reports whether err is one that sending the same request
// again may mend: the connection failed or broke (not a slow answer: that
// one already waited long), or a gateway or a draining server answered
// 502, 503 or 504. wait is the server's Retry-After, if it gave one.
func repeatable(err error) (wait time.Duration, ok bool) {
	if err == nil {
		return 0, false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		switch ae.Status {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			if secs, err := strconv.Atoi(ae.RetryAfter); err == nil && secs > 0 {
				return time.Duration(secs) * time.Second, true
			}
			return 0, true
		}
		return 0, false
	}
	var ue *url.Error
	return 0, errors.As(err, &ue) && !ue.Timeout() && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}
