package updater

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
)

// cdn is an external origin on loopback serving one file, which a test may
// swap (tampering) or cut short (a broken line); it records Range headers.
type cdn struct {
	*httptest.Server
	mu     sync.Mutex
	data   []byte
	cutAt  int // first GET without a Range stops after this many bytes; 0: never
	ranges []string
}

func newCDN(t *testing.T, data []byte) *cdn {
	c := &cdn{data: data}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		data, cut := c.data, c.cutAt
		c.ranges = append(c.ranges, r.Header.Get("Range"))
		if r.Header.Get("Range") == "" {
			c.cutAt = 0
		}
		c.mu.Unlock()
		if cut > 0 && r.Header.Get("Range") == "" {
			// Promise the whole file, send part of it, drop the line.
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			w.Header().Set("ETag", `"cdn-etag"`)
			w.WriteHeader(http.StatusOK)
			w.Write(data[:cut])
			panic(http.ErrAbortHandler)
		}
		w.Header().Set("ETag", `"cdn-etag"`)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
	}))
	t.Cleanup(c.Close)
	return c
}

// publishAt publishes version 3.0.0 with its bytes at an external origin.
func (h *harness) publishAt(url string) {
	h.t.Helper()
	if _, err := h.admin.Publish(h.t.Context(), admin.PublishParams{Product: product, Series: api.SeriesPro, Version: "3.0.0",
		OS: "linux", Arch: "amd64", URL: url}); err != nil {
		h.t.Fatal(err)
	}
}

// An artifact at an external origin: the client follows the server's
// redirect, resumes there with Range after a cut, and installs it.
func TestUpdateFromExternalOrigin(t *testing.T) {
	h := newHarness(t, 2)
	v3 := artifact("3.0.0")
	c := newCDN(t, v3)
	h.publishAt(c.URL + "/ledger-3.0.0")
	c.mu.Lock()
	c.cutAt = len(v3) / 3
	c.ranges = nil
	c.mu.Unlock()
	h.u.RetryDelay = time.Millisecond

	res, err := h.update(h.code)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if res.Status != StatusUpdated || res.To != "3.0.0" {
		t.Fatalf("result %+v", res)
	}
	h.expect(v3, 1, 0, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.ranges) != 2 || c.ranges[0] != "" || c.ranges[1] != "bytes="+strconv.Itoa(len(v3)/3)+"-" {
		t.Errorf("the origin was asked %q; want a whole GET, then the rest from byte %d", c.ranges, len(v3)/3)
	}
}

// The origin is not trusted: bytes it swaps after publishing are refused
// before anything is reserved, and the target stays as it was.
func TestTamperedOriginRefused(t *testing.T) {
	h := newHarness(t, 2)
	v3 := artifact("3.0.0")
	c := newCDN(t, v3)
	h.publishAt(c.URL + "/ledger-3.0.0")
	evil := bytes.Clone(v3)
	copy(evil[100:], "rm -rf / # tampered at the CDN")
	c.mu.Lock()
	c.data = evil
	c.mu.Unlock()

	_, err := h.update(h.code)
	if !errors.Is(err, ErrVerification) {
		t.Fatalf("update from a tampered origin: %v, want ErrVerification", err)
	}
	h.expect(h.v1, 2, 0, 0)
	// A longer file is cut at the signed size, and refused too.
	c.mu.Lock()
	c.data = append(bytes.Clone(v3), "trailing payload"...)
	c.mu.Unlock()
	if _, err := h.update(h.code); !errors.Is(err, ErrVerification) {
		t.Fatalf("update from an origin serving more bytes: %v, want ErrVerification", err)
	}
	h.expect(h.v1, 2, 0, 0)
}
