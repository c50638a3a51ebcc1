// Package lbtest is a small HTTP load balancer for tests that run several
// aktuald replicas: round robin over the replicas that are up, as a
// production balancer (nginx, HAProxy, a cloud balancer) does it.
//
//   - A replica that refuses the connection is marked down and the request
//     goes to the next one: it never reached the refusing replica.
//   - A replica that fails after the request was sent (it died mid-request)
//     is marked down and the client gets 502 Bad Gateway: whether the work
//     was done is unknown, so the balancer does not repeat a POST itself;
//     the client may, with its idempotency key.
//   - Every replica's /readyz is polled; one answering anything but 200 (a
//     draining replica) gets no new requests until it is ready again.
package lbtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// maxBody bounds a request body the balancer keeps to send to another
// replica: the API's bodies are small; artifacts are only sent, by GET.
const maxBody = 1 << 20

// downFor is how long a failed replica gets no requests, unless its
// /readyz says it is back first.
const downFor = 5 * time.Second

// Balancer spreads requests over replicas. Safe for concurrent use.
type Balancer struct {
	URL string // the balancer's own address, http://127.0.0.1:port

	srv      *httptest.Server
	replicas []*replica
	next     atomic.Uint64
	client   *http.Client
	stop     context.CancelFunc
	done     sync.WaitGroup

	// OnForward, when set, is called with the replica's index and the
	// request just before the request is sent to it (a test kills the
	// replica there to die mid-request).
	OnForward func(replica int, r *http.Request)
	// OnAnswer, when set, is called with the replica's answer before it
	// is passed on; returning true drops the answer and gives the client
	// 502, as when the replica dies after doing the work but before its
	// answer leaves (the test kills it there).
	OnAnswer func(replica int, r *http.Request, resp *http.Response) (drop bool)
}

type replica struct {
	url       *url.URL
	mu        sync.Mutex
	downUntil time.Time
	ready     bool
	served    atomic.Int64
}

func (r *replica) up(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ready && now.After(r.downUntil)
}

func (r *replica) markDown(now time.Time) {
	r.mu.Lock()
	r.downUntil = now.Add(downFor)
	r.ready = false
	r.mu.Unlock()
}

// Start listens on a loopback port and balances over the replicas' base
// URLs. Close stops it.
func Start(replicaURLs ...string) (*Balancer, error) {
	b := &Balancer{client: &http.Client{
		Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64},
		// The client follows redirects itself (an artifact at a CDN).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	for _, s := range replicaURLs {
		u, err := url.Parse(s)
		if err != nil {
			return nil, err
		}
		b.replicas = append(b.replicas, &replica{url: u, ready: true})
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.stop = cancel
	for _, r := range b.replicas {
		b.done.Add(1)
		go b.watch(ctx, r)
	}
	b.srv = httptest.NewServer(b)
	b.URL = b.srv.URL
	return b, nil
}

// Close stops the balancer and its health checks.
func (b *Balancer) Close() {
	b.stop()
	b.srv.Close()
	b.done.Wait()
}

// Served returns how many requests each replica answered.
func (b *Balancer) Served() []int64 {
	out := make([]int64, len(b.replicas))
	for i, r := range b.replicas {
		out[i] = r.served.Load()
	}
	return out
}

// watch polls a replica's /readyz.
func (b *Balancer) watch(ctx context.Context, r *replica) {
	defer b.done.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		req, _ := http.NewRequestWithContext(cctx, "GET", r.url.JoinPath("/readyz").String(), nil)
		resp, err := b.client.Do(req)
		ok := err == nil && resp.StatusCode == http.StatusOK
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		cancel()
		r.mu.Lock()
		r.ready = ok
		if ok {
			r.downUntil = time.Time{}
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ServeHTTP sends the request to the next replica that is up.
func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		http.Error(w, "request body unreadable or too large for the balancer", http.StatusBadRequest)
		return
	}
	start := b.next.Add(1)
	n := uint64(len(b.replicas))
	for i := uint64(0); i < n; i++ {
		idx := int((start + i) % n)
		rep := b.replicas[idx]
		if !rep.up(time.Now()) {
			continue
		}
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.URL.Scheme, out.URL.Host = rep.url.Scheme, rep.url.Host
		out.Host = r.Host
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
		out.Header.Set("X-Forwarded-For", clientIP(r))
		if b.OnForward != nil {
			b.OnForward(idx, out)
		}
		resp, err := b.client.Transport.RoundTrip(out)
		if err != nil {
			rep.markDown(time.Now())
			if refused(err) {
				continue // it never got the request: another may take it
			}
			http.Error(w, "the replica failed mid-request: "+err.Error(), http.StatusBadGateway)
			return
		}
		if b.OnAnswer != nil && b.OnAnswer(idx, out, resp) {
			resp.Body.Close()
			rep.markDown(time.Now())
			http.Error(w, "the replica failed before it answered", http.StatusBadGateway)
			return
		}
		rep.served.Add(1)
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		if _, err := io.Copy(w, resp.Body); err != nil {
			// The replica died while sending the answer: cut the
			// client's line too, as a real balancer does.
			resp.Body.Close()
			rep.markDown(time.Now())
			panic(http.ErrAbortHandler)
		}
		resp.Body.Close()
		return
	}
	w.Header().Set("Retry-After", "1")
	http.Error(w, "no replica is up", http.StatusServiceUnavailable)
}

func refused(err error) bool {
	var oe *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &oe) && oe.Op == "dial")
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
