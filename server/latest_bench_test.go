package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
)

// benchServer is a real instance (SQLite, keys, blobs) with releaseCount
// releases of one product for linux/amd64, and its HTTP handler.
func benchServer(b *testing.B, releaseCount int) (*Server, http.Handler, []byte) {
	b.Helper()
	inst, err := datadir.Open(datadir.DataDir(b.TempDir()), "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { inst.Close() })
	adm := admin.New(inst)
	var first []byte
	for i := range releaseCount {
		data := []byte(fmt.Sprintf("app %d.0.0\n", i+1))
		if i == 0 {
			first = data
		}
		if _, err := adm.Publish(b.Context(), admin.PublishParams{Product: "app", Series: api.SeriesPro, Version: fmt.Sprintf("%d.0.0", i+1),
			OS: "linux", Arch: "amd64", File: bytes.NewReader(data)}); err != nil {
			b.Fatal(err)
		}
	}
	s := New(inst, "bench", nil)
	return s, s.Handler(), first
}

// BenchmarkLatest is the latest endpoint through the whole handler
// (router, metrics, validation), without the network: cached and
// uncached, with and without a client nonce, as an installed client asks
// (current_sha256 of the oldest of 10 releases). An answer to a nonce is
// always signed for it; the cache saves it the store's reading.
func BenchmarkLatest(b *testing.B) {
	s, h, installed := benchServer(b, 10)
	base := "/v1/products/app/latest?os=linux&arch=amd64&current_sha256=" + benchSHA256(installed)
	for _, cached := range []bool{true, false} {
		for _, nonce := range []bool{false, true} {
			name := map[bool]string{true: "cached", false: "uncached"}[cached] + "/" +
				map[bool]string{true: "nonce", false: "shared"}[nonce]
			b.Run(name, func(b *testing.B) {
				s.latest.off = !cached
				url := base
				if nonce {
					url += "&nonce=0123456789abcdef0123456789abcdef"
				}
				req := httptest.NewRequest(http.MethodGet, url, nil)
				b.ReportAllocs()
				for b.Loop() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d: %s", w.Code, w.Body)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			})
		}
	}
	s.latest.off = false
}

// BenchmarkLatestParallel is the same over real HTTP on loopback, from
// as many clients as GOMAXPROCS: requests per second as a client sees
// them (the benchmark's own client shares the machine).
func BenchmarkLatestParallel(b *testing.B) {
	s, h, installed := benchServer(b, 10)
	ts := httptest.NewServer(h)
	b.Cleanup(ts.Close)
	url := ts.URL + "/v1/products/app/latest?os=linux&arch=amd64&current_sha256=" + benchSHA256(installed)
	client := ts.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	for _, cached := range []bool{true, false} {
		b.Run(map[bool]string{true: "cached", false: "uncached"}[cached]+"/shared", func(b *testing.B) {
			s.latest.off = !cached
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Get(url)
					if err != nil {
						b.Error(err)
						return
					}
					var buf bytes.Buffer
					buf.ReadFrom(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
	s.latest.off = false
}

func benchSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// BenchmarkLatestNonce is the latest endpoint with a fresh nonce on every
// request, as installers ask, from 64 concurrent callers through the whole
// handler (no network): each answer signed alone (as to installers before
// sig=tree), and in trees (sig=tree). Allocation and per-answer work show
// here; the HTTP stack's share shows in make bench's row 2c.
func BenchmarkLatestNonce(b *testing.B) {
	_, h, installed := benchServer(b, 10)
	base := "/v1/products/app/latest?os=linux&arch=amd64&proto=2&patch=bsdiff&machine=m0123456789abcdef&current_sha256=" + benchSHA256(installed)
	for _, sig := range []string{"alone", "tree"} {
		b.Run(sig, func(b *testing.B) {
			url := base
			if sig == "tree" {
				url += "&sig=tree"
			}
			var n atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(32) // 64 callers on 2 cores
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("%s&nonce=bench%028d", url, n.Add(1)), nil)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Errorf("status %d: %s", w.Code, w.Body)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
