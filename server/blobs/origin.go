package blobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// An artifact may live at an external origin or CDN instead of the blob
// store. The origin is not trusted: the release statement signs the sha256
// and size, and the client checks the bytes against them. Publishing reads
// the origin once, so a release never names a URL that does not serve its
// bytes.

// defaultOriginClient fetches from origins at publish time. No overall
// timeout, as a release may be large; a stalled origin is caught by
// originStall.
var defaultOriginClient = &http.Client{
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

// Origin fetches release files from an external origin or CDN.
type Origin struct {
	// Client fetches; nil: one with connection timeouts and no overall
	// one, as a release may be large.
	Client *http.Client
}

// Open starts a GET of url and returns its body: an error unless the
// origin answers 200 with the whole file. A body that sends nothing for a
// minute fails its Read.
func (o Origin) Open(ctx context.Context, url string) (io.ReadCloser, context.CancelFunc, error) {
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("--url %s: %w", url, err)
	}
	// The bytes as stored, which are what the client hashes.
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "aktuald-publish")
	client := o.Client
	if client == nil {
		client = defaultOriginClient
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

// Hash reads the whole file at url and returns its sha256 and size.
func (o Origin) Hash(ctx context.Context, url string) (string, int64, error) {
	body, cancel, err := o.Open(ctx, url)
	if err != nil {
		return "", 0, err
	}
	defer cancel()
	defer body.Close()
	return HashReader(body, url)
}

// HashReader reads r to its end and returns its sha256 and size; what
// names r in an error.
func HashReader(r io.Reader, what string) (string, int64, error) {
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
