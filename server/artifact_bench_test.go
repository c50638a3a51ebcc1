package server

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
)

// benchArtifactSize is the artifact BenchmarkArtifact serves.
const benchArtifactSize = 64 << 20

// artifactServer is a real instance serving one artifact of size
// pseudo-random bytes (generated, never stored in the repository),
// published as app 1.0.0; it returns the artifact's path.
func artifactServer(tb testing.TB, size int64) (*Server, string) {
	tb.Helper()
	inst, err := datadir.Open(datadir.DataDir(tb.TempDir()), "")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { inst.Close() })
	var seed [32]byte
	rel, err := admin.New(inst).Publish(tb.Context(), admin.PublishParams{Product: "app", Series: api.SeriesPro, Version: "1.0.0",
		OS: "linux", Arch: "amd64", File: io.LimitReader(rand.NewChaCha8(seed), size)})
	if err != nil {
		tb.Fatal(err)
	}
	return New(inst, "bench", nil), "/v1/artifacts/" + rel.SHA256
}

// BenchmarkArtifact downloads a 64 MiB artifact over loopback HTTP, as
// the real handler serves it (http.ServeContent, whose copy reaches the
// connection's ReadFrom through the metrics recorder: sendfile) and, for
// comparison, through a ResponseWriter that hides ReadFrom (every byte
// copied through user space).
func BenchmarkArtifact(b *testing.B) {
	s, path := artifactServer(b, benchArtifactSize)
	for _, tc := range []struct {
		name    string
		handler http.Handler
	}{
		{"sendfile", s.Handler()},
		{"copy", writeOnly(s.Handler())},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ts := httptest.NewServer(tc.handler)
			defer ts.Close()
			client := ts.Client()
			buf := make([]byte, 256<<10)
			b.SetBytes(benchArtifactSize)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Get(ts.URL + path)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.CopyBuffer(io.Discard, onlyReader{resp.Body}, buf)
				resp.Body.Close()
				if err != nil || n != benchArtifactSize || resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d, %d bytes, %v", resp.StatusCode, n, err)
				}
			}
		})
	}
}

type onlyReader struct{ io.Reader }

// writeOnly hands the handler a ResponseWriter without ReadFrom.
func writeOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(struct {
			http.ResponseWriter
		}{w}, r)
	})
}

// An artifact's bytes reach the TCP connection's ReadFrom as the open
// file (under ServeContent's LimitedReader): what net.TCPConn sends with
// sendfile(2), never through a user-space buffer. The metrics middleware
// wraps the ResponseWriter; its ReadFrom must keep that path.
func TestArtifactReachesSendfile(t *testing.T) {
	const size = 4 << 20
	s, path := artifactServer(t, size)
	for _, tc := range []struct {
		name     string
		handler  http.Handler
		rng      string
		sendfile bool
	}{
		{"whole file", s.Handler(), "", true},
		{"range", s.Handler(), "bytes=1000-", true},
		// The control: without ReadFrom every byte is copied, and the log
		// says so.
		{"writer without ReadFrom", writeOnly(s.Handler()), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			rec := &readFromLog{}
			ts := httptest.NewUnstartedServer(tc.handler)
			ts.Listener = &loggingListener{Listener: ln, log: rec}
			ts.Start()
			defer ts.Close()
			req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
			if tc.rng != "" {
				req.Header.Set("Range", tc.rng)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 != 2 || n < size-1000 {
				t.Fatalf("status %d, %d bytes", resp.StatusCode, n)
			}
			fileBytes, others := rec.result()
			// ServeContent's first 512 bytes go through net/http's buffer
			// (content sniffing); the rest must come from the file itself.
			if got := fileBytes >= n-512 && len(others) == 0; got != tc.sendfile {
				t.Errorf("%d of %d bytes reached the connection's ReadFrom from the file (other sources %v); want sendfile %v",
					fileBytes, n, others, tc.sendfile)
			}
		})
	}
}

// readFromLog notes what a connection's ReadFrom was given.
type readFromLog struct {
	mu           sync.Mutex
	fileBytes    int64
	otherSources []string
}

func (l *readFromLog) result() (int64, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fileBytes, l.otherSources
}

type loggingListener struct {
	net.Listener
	log *readFromLog
}

func (l *loggingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &loggingConn{TCPConn: c.(*net.TCPConn), log: l.log}, nil
}

// loggingConn is the server's side of a connection: its ReadFrom notes
// the source, then hands it to the TCP connection's own (sendfile).
type loggingConn struct {
	*net.TCPConn
	log *readFromLog
}

func (c *loggingConn) ReadFrom(src io.Reader) (int64, error) {
	inner := src
	if lr, ok := src.(*io.LimitedReader); ok {
		inner = lr.R
	}
	n, err := c.TCPConn.ReadFrom(src)
	c.log.mu.Lock()
	defer c.log.mu.Unlock()
	if _, ok := inner.(*os.File); ok {
		c.log.fileBytes += n
	} else {
		c.log.otherSources = append(c.log.otherSources, typeName(src))
	}
	return n, err
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }
