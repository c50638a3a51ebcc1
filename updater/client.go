package updater

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
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
)

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

// apiError is an error answer from the server.
type apiError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("server answered %d %s: %s", e.Status, e.Code, e.Message)
}

func (u *Updater) endpoint(path string, query url.Values) string {
	s := strings.TrimRight(u.Server, "/") + path
	if len(query) > 0 {
		s += "?" + query.Encode()
	}
	return s
}

// newRequest builds a request to the server with the headers every call
// carries: who asks (User-Agent) and in which language to answer.
func (u *Updater) newRequest(ctx context.Context, method, path string, query url.Values, body any) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.endpoint(path, query), rd)
	if err != nil {
		return nil, fail(ErrUsage, err, "the server address %q is not a valid URL; pass e.g. --server https://updates.example.com", u.Server)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "aktual/"+u.version())
	if u.Lang != "" {
		// The server's messages (refusals, advice) in the reader's language.
		req.Header.Set("Accept-Language", u.Lang)
	}
	return req, nil
}

// send performs a request and returns the response of a 2xx answer; an
// error answer becomes *apiError, a transport failure ErrNoConnection.
func (u *Updater) send(ctx context.Context, method, path string, query url.Values, body any) (*http.Response, error) {
	req, err := u.newRequest(ctx, method, path, query, body)
	if err != nil {
		return nil, err
	}
	resp, err := u.httpClient().Do(req)
	if err != nil {
		if cause := context.Cause(ctx); cause == errSlowAnswer || cause == errTooSlow {
			return nil, fail(ErrNoConnection, err, "the server at %s answers too slowly; try again later, or run: aktual netcheck --server %s", u.Server, u.Server)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fail(ErrNoConnection, err,
			"cannot reach the update server at %s (%v); check your Internet connection, or run: aktual netcheck --server %s",
			u.Server, rootCause(err), u.Server)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, errorAnswer(resp)
}

// errorAnswer reads a server's error answer (bounded).
func errorAnswer(resp *http.Response) *apiError {
	var eb api.ErrorBody
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if json.Unmarshal(data, &eb) != nil || eb.Error.Code == "" {
		eb.Error = api.ErrorDetail{Code: "http_" + strconv.Itoa(resp.StatusCode), Message: http.StatusText(resp.StatusCode)}
	}
	return &apiError{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message, RetryAfter: resp.Header.Get("Retry-After")}
}

// callJSON sends a request and decodes a bounded JSON answer into out.
func (u *Updater) callJSON(ctx context.Context, method, path string, query url.Values, body, out any) error {
	ctx, cancel := context.WithTimeoutCause(ctx, orDefault(u.RequestTimeout, DefaultRequestTimeout), errSlowAnswer)
	defer cancel()
	resp, err := u.send(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, api.MaxEnvelopeSize*2+1))
	if err != nil {
		if context.Cause(ctx) == errSlowAnswer {
			return fail(ErrNoConnection, err, "the server at %s took more than %v to answer %s; try again later", u.Server, orDefault(u.RequestTimeout, DefaultRequestTimeout), path)
		}
		return fail(ErrNoConnection, err, "the connection to %s broke while reading its answer; try again", u.Server)
	}
	if len(data) > api.MaxEnvelopeSize*2 {
		return fail(ErrVerification, nil, "the server's answer to %s is too large; refusing it", path)
	}
	if err := json.Unmarshal(data, out); err != nil {
		// Not an aktual server's answer: often a network's login page or
		// filter answering in its place. Nothing was taken from it.
		return fail(ErrNoConnection, err, "the answer to %s is not an aktual server's (it is not JSON): a network login page or filter may be answering in place of %s; run: aktual netcheck --server %s", path, u.Server, u.Server)
	}
	return nil
}

// credentialError turns a server refusal of a credential into the kind a
// script can act on, keeping the server's advice.
func credentialError(err error) error {
	var ae *apiError
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.Code {
	case api.CodeInvalidCode, api.CodeUnknownCredential, api.CodeInactive, api.CodeWrongSeries, api.CodeExpired:
		return fail(ErrCredentialRejected, err, "%s", ae.Message)
	case api.CodeExhausted:
		return fail(ErrExhausted, err, "%s", ae.Message)
	case api.CodeRateLimited:
		// The server's own message says which attempts and how long, in
		// the language asked for; an older or foreign one may say less.
		if ae.Message != "" {
			return fail(ErrNoConnection, err, "%s", ae.Message)
		}
		if secs, err2 := strconv.Atoi(ae.RetryAfter); err2 == nil && secs > 0 {
			return fail(ErrNoConnection, err, "the server is limiting attempts; try again in %d seconds", secs)
		}
		return fail(ErrNoConnection, err, "the server is limiting attempts; try again in a few minutes")
	}
	if ae.Status >= 500 {
		return transientError(err, i18n.M("the server could not check the right to update"))
	}
	return fail(nil, err, "%s", ae.Error())
}

// rootCause strips url.Error and net.OpError wrappers for a short message.
func rootCause(err error) error {
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
