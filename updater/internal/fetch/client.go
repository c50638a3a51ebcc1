// Package fetch owns getting a release's file beside its target: the
// update server's HTTP client (requests, bounded answers, error answers),
// the download that resumes, retries with backoff and watches its rate,
// the copy of a file given with --file, and the repeats of idempotent
// requests. It never prints: it reports through Client's callbacks.
package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/clock"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/kind"
)

// Client talks to one update server. Zero values take working defaults;
// Server is required.
type Client struct {
	Server    string       // base URL of the update server
	HTTP      *http.Client // nil: DefaultHTTPClient
	Now       clock.Func   // nil reads the wall clock
	UserAgent string       // who asks, e.g. aktual/1.2.0
	Lang      string       // sent as Accept-Language, for the server's messages

	// RequestTimeout bounds each API exchange, answer included. A
	// download is bounded by its rate instead: it is abandoned when fewer
	// than MinRate bytes a second arrived over a StallWindow.
	RequestTimeout time.Duration
	MinRate        int64
	StallWindow    time.Duration
	// Attempts bounds the tries of one download in a run; RetryDelay is
	// the first backoff (retry.go).
	Attempts   int
	RetryDelay time.Duration

	// Notice, when set, receives what a person should know (a retry, a
	// download continued).
	Notice func(i18n.Message)
	// Progress, when set, receives a download's progress.
	Progress func(Progress)
	// Verifying, when set, is called when the whole download is on disk
	// and its check begins.
	Verifying func()
}

// Progress is how far a download is: Done of Total bytes (a download
// continued from an earlier run counts from its first byte), and, once
// measured, Rate (bytes a second over the last 5 s) and ETA (seconds
// left at that rate).
type Progress struct {
	Done, Total, Rate, ETA int64
}

// Defaults of the bounds on slow servers.
const (
	DefaultRequestTimeout  = 60 * time.Second
	DefaultMinDownloadRate = 1 << 10
	DefaultStallWindow     = 30 * time.Second
)

func orDefault[T int64 | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return sharedHTTPClient()
}

// sharedHTTPClient is the process's one default client: its connections
// are kept and used again by the next request (a folder's update makes
// one per changed file), where a client per request would dial each time.
var sharedHTTPClient = sync.OnceValue(DefaultHTTPClient)

// notify tells what a person should know.
func (c *Client) notify(m i18n.Message) {
	if c.Notice != nil {
		c.Notice(m)
	}
}

func (c *Client) progress(p Progress) {
	if c.Progress != nil {
		c.Progress(p)
	}
}

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 16 << 10

// DefaultHTTPClient has timeouts on connecting and on waiting for an answer,
// but none on the whole exchange: a large download on a slow line may take
// long, and is cancelled through its context.
func DefaultHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}}
}

// errSlowAnswer is the cause of an API exchange cut at RequestTimeout.
var errSlowAnswer = errors.New("the server answers too slowly")

// APIError is an error answer from the server.
type APIError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("server answered %d %s: %s", e.Status, e.Code, e.Message)
}

func (c *Client) endpoint(path string, query url.Values) string {
	s := strings.TrimRight(c.Server, "/") + path
	if len(query) > 0 {
		s += "?" + query.Encode()
	}
	return s
}

// newRequest builds a request to the server with the headers every call
// carries: who asks (User-Agent) and in which language to answer.
func (c *Client) newRequest(ctx context.Context, method, path string, query url.Values, body any) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path, query), rd)
	if err != nil {
		return nil, fail(kind.ErrUsage, err, "the server address %q is not a valid URL; pass e.g. --server https://updates.example.com", c.Server)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", c.UserAgent)
	if c.Lang != "" {
		// The server's messages (refusals, advice) in the reader's language.
		req.Header.Set("Accept-Language", c.Lang)
	}
	return req, nil
}

// send performs a request and returns the response of a 2xx answer; an
// error answer becomes *APIError, a transport failure ErrNoConnection.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body any) (*http.Response, error) {
	req, err := c.newRequest(ctx, method, path, query, body)
	if err != nil {
		return nil, err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if cause := context.Cause(ctx); cause == errSlowAnswer || cause == errTooSlow {
			return nil, fail(kind.ErrNoConnection, err, "the server at %s answers too slowly; try again later, or run: aktual netcheck --server %s", c.Server, c.Server)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fail(kind.ErrNoConnection, err,
			"cannot reach the update server at %s (%v); check your Internet connection, or run: aktual netcheck --server %s",
			c.Server, RootCause(err), c.Server)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, errorAnswer(resp)
}

// errorAnswer reads a server's error answer (bounded).
func errorAnswer(resp *http.Response) *APIError {
	var eb api.ErrorBody
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if json.Unmarshal(data, &eb) != nil || eb.Error.Code == "" {
		eb.Error = api.ErrorDetail{Code: "http_" + strconv.Itoa(resp.StatusCode), Message: http.StatusText(resp.StatusCode)}
	}
	return &APIError{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message, RetryAfter: resp.Header.Get("Retry-After")}
}

// CallJSON sends a request and decodes a bounded JSON answer into out. An
// error answer is an *APIError; the rest carry their kind.
func (c *Client) CallJSON(ctx context.Context, method, path string, query url.Values, body, out any) error {
	ctx, cancel := context.WithTimeoutCause(ctx, orDefault(c.RequestTimeout, DefaultRequestTimeout), errSlowAnswer)
	defer cancel()
	resp, err := c.send(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, api.MaxEnvelopeSize*2+1))
	if err != nil {
		if context.Cause(ctx) == errSlowAnswer {
			return fail(kind.ErrNoConnection, err, "the server at %s took more than %v to answer %s; try again later", c.Server, orDefault(c.RequestTimeout, DefaultRequestTimeout), path)
		}
		return fail(kind.ErrNoConnection, err, "the connection to %s broke while reading its answer; try again", c.Server)
	}
	if len(data) > api.MaxEnvelopeSize*2 {
		return fail(kind.ErrVerification, nil, "the server's answer to %s is too large; refusing it", path)
	}
	if err := json.Unmarshal(data, out); err != nil {
		// Not an aktual server's answer: often a network's login page or
		// filter answering in its place. Nothing was taken from it.
		return fail(kind.ErrNoConnection, err, "the answer to %s is not an aktual server's (it is not JSON): a network login page or filter may be answering in place of %s; run: aktual netcheck --server %s", path, c.Server, c.Server)
	}
	return nil
}

// RootCause strips url.Error and net.OpError wrappers for a short message.
func RootCause(err error) error {
	for {
		var ue *url.Error
		if errors.As(err, &ue) && ue.Err != nil {
			err = ue.Err
			continue
		}
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			err = oe.Err
			continue
		}
		return err
	}
}

// fail makes a kind.Error; format is an English message, the catalog key.
func fail(k error, cause error, format string, args ...any) *kind.Error {
	return kind.Fail(k, cause, format, args...)
}
