package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// An artifact may live at an external origin or CDN instead of the blob
// store. The origin is not trusted: the release statement signs the sha256
// and size, and the client checks the bytes against them. Publishing reads
// the origin once, so a release never names a URL that does not serve its
// bytes.

// originClient fetches from origins at publish time. No overall timeout, as
// a release may be large; a stalled origin is caught by originStall.
var originClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: time.Minute,
		IdleConnTimeout:       time.Minute,
	},
}

// originStall is how long the origin may send nothing before the fetch
// gives up.
const originStall = time.Minute

// openOrigin starts a GET of url and returns its body: an error unless the
// origin answers 200 with the whole file.
func (a *Admin) openOrigin(ctx context.Context, url string) (io.ReadCloser, context.CancelFunc, error) {
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("--url %s: %w", url, err)
	}
	// The bytes as stored, which are what the client hashes.
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "aktuald-publish")
	client := a.HTTPClient
	if client == nil {
		client = originClient
	}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("--url %s: cannot fetch the release from its origin: %w; check the address and that the file is uploaded there", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, nil, fmt.Errorf("--url %s: the origin answered %s; upload the file there first, or check the address", url, resp.Status)
	}
	return &stallReader{r: resp.Body, cancel: cancel, timer: time.AfterFunc(originStall, cancel)}, cancel, nil
}

// stallReader cancels the fetch when no byte arrives for originStall.
type stallReader struct {
	r      io.ReadCloser
	cancel context.CancelFunc
	timer  *time.Timer
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.timer.Reset(originStall)
	}
	return n, err
}

func (s *stallReader) Close() error {
	s.timer.Stop()
	s.cancel()
	return s.r.Close()
}

// hashOrigin reads the whole file at url and returns its sha256 and size.
func (a *Admin) hashOrigin(ctx context.Context, url string) (string, int64, error) {
	body, cancel, err := a.openOrigin(ctx, url)
	if err != nil {
		return "", 0, err
	}
	defer cancel()
	defer body.Close()
	return hashReader(body, url)
}

func hashReader(r io.Reader, what string) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			err = fmt.Errorf("nothing arrived for %v", originStall)
		}
		return "", 0, fmt.Errorf("reading %s: %w", what, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// publishAtOrigin publishes a release whose bytes stay at p.URL. With a
// File, the file is hashed and the origin must serve the same bytes;
// without one, the origin's bytes are the release.
func (a *Admin) publishAtOrigin(ctx context.Context, p PublishParams) (api.ReleaseStatement, error) {
	if err := store.ValidOrigin(p.URL); err != nil {
		return api.ReleaseStatement{}, fmt.Errorf("--url: %w", err)
	}
	src := p.File
	if src == nil {
		body, cancel, err := a.openOrigin(ctx, p.URL)
		if err != nil {
			return api.ReleaseStatement{}, err
		}
		defer cancel()
		defer body.Close()
		src = body
	}
	head, rest, err := peekHead(src)
	if err != nil {
		return api.ReleaseStatement{}, fmt.Errorf("reading the release file: %w", err)
	}
	if p.AutoHealthCheck {
		p.HealthCheck = nil
		if LooksExecutable(head) {
			p.HealthCheck = DefaultHealthCheck
		}
	}
	sum, size, err := hashReader(rest, "the release file")
	if err != nil {
		return api.ReleaseStatement{}, err
	}
	if p.File != nil {
		osum, osize, err := a.hashOrigin(ctx, p.URL)
		if err != nil {
			return api.ReleaseStatement{}, err
		}
		if osum != sum || osize != size {
			return api.ReleaseStatement{}, fmt.Errorf("--url %s serves other bytes than --file (%d bytes, sha256 %s; the file has %d bytes, sha256 %s); upload the file there again, then publish", p.URL, osize, osum, size, sum)
		}
	}
	st, err := a.publishStored(ctx, p, sum, size)
	if err != nil {
		return st, err
	}
	// The patches are made here, from the origins' files (fetched again),
	// and kept in this server's blob store: they are small.
	a.patchNew(ctx, st, p.OnPatch)
	return st, nil
}
