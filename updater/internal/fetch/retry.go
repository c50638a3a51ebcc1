package fetch

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Bounds on retrying a download within one run. A line that keeps
// breaking is tried DefaultDownloadAttempts times; each try continues from
// the bytes already on disk, and whatever arrived is kept for the next run.
const (
	DefaultDownloadAttempts = 5
	DefaultRetryDelay       = time.Second
	// maxRetryDelay caps the exponential backoff.
	maxRetryDelay = 30 * time.Second
	// maxRetryAfter is the longest wait a server may ask for (Retry-After)
	// that the run sits through; asked for more, it stops and says when to
	// try again.
	maxRetryAfter = 5 * time.Minute
	// maxRetryWaiting bounds all the waits of one run together.
	maxRetryWaiting = 10 * time.Minute
)

func (c *Client) downloadAttempts() int {
	if c.Attempts > 0 {
		return c.Attempts
	}
	return DefaultDownloadAttempts
}

// backoff is the wait before retry n (1 for the first): "full jitter", a
// uniform draw below a ceiling that doubles from base up to maxRetryDelay,
// so that clients cut off together do not come back together. rnd draws
// in [0, n).
func backoff(n int, base time.Duration, rnd func(int64) int64) time.Duration {
	ceiling := maxRetryDelay
	if n < 32 {
		if c := base << (n - 1); c > 0 && c < ceiling {
			ceiling = c
		}
	}
	return time.Duration(rnd(int64(ceiling)) + 1)
}

// jitter is backoff's random source.
func jitter(n int64) int64 { return rand.Int64N(n) }

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP
// date. ok is false when there is none or it is unreadable.
func parseRetryAfter(v string, now time.Time) (_ time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseUint(v, 10, 63); err == nil || errors.Is(err, strconv.ErrRange) {
		// A huge number is only "much longer than we wait".
		return time.Duration(min(secs, 1<<31)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// sleep waits d, or less when ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// seconds is d rounded up to whole seconds, for people.
func seconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}
