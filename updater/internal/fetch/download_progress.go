package fetch

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"time"

	"github.com/aktual/aktual/internal/fault"
)

// progressInterval throttles progress events: often enough for a smooth
// bar, rare enough for a JSON consumer.
const progressInterval = 200 * time.Millisecond

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
func (c *Client) watchRate(ctx context.Context, r *rateWatch, cancel context.CancelCauseFunc) (stop func()) {
	window := orDefault(c.StallWindow, DefaultStallWindow)
	floor := max(int64(float64(orDefault(c.MinRate, DefaultMinDownloadRate))*window.Seconds()), 1)
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
	c     *Client
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
	if now := p.c.Now.Now(); now.Sub(p.last) >= progressInterval {
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
	p.meter.add(p.c.Now.Now(), done)
}

func (p *progressWriter) flush() { p.emit(p.c.Now.Now()) }

func (p *progressWriter) emit(now time.Time) {
	p.meter.add(now, p.done)
	e := Progress{Done: p.done, Total: p.total}
	if rate := p.meter.rate(); rate > 0 && p.done < p.total {
		e.Rate = rate
		e.ETA = (p.total - p.done + rate - 1) / rate
	}
	p.c.progress(e)
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
