package server_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
)

// origin is an external origin or CDN on loopback: it serves files by path
// with Range support, and counts what it is asked.
type origin struct {
	*httptest.Server
	files map[string][]byte
	gets  atomic.Int64
}

func newOrigin(t *testing.T, files map[string][]byte) *origin {
	o := &origin{files: files}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.gets.Add(1)
		b, ok := o.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", `"cdn-`+sha256Hex(b)[:16]+`"`)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	}))
	t.Cleanup(o.Close)
	return o
}

func TestPublishAtOrigin(t *testing.T) {
	f := newFixture(t)
	data := []byte("\x7fELF ledger 2.0.0 as the CDN serves it")
	o := newOrigin(t, map[string][]byte{"/ledger/2.0.0": data, "/other": []byte("other bytes")})

	st, err := f.admin.Publish(t.Context(), admin.PublishParams{
		Product: "ledger", Series: api.SeriesPro, Version: "2.0.0", OS: "linux", Arch: "amd64",
		URL: o.URL + "/ledger/2.0.0", AutoHealthCheck: true,
	})
	if err != nil {
		t.Fatalf("Publish --url: %v", err)
	}
	if st.SHA256 != sha256Hex(data) || st.Size != int64(len(data)) {
		t.Errorf("signed %s/%d, want the origin's bytes %s/%d", st.SHA256, st.Size, sha256Hex(data), len(data))
	}
	if len(st.HealthCheck) == 0 {
		t.Error("an executable at the origin got no health check")
	}
	// Nothing was stored here: the bytes stay at the origin.
	if _, err := f.inst.Blobs.Open(st.SHA256); err == nil {
		t.Error("the origin's bytes were copied into the blob store")
	}

	t.Run("the server redirects to the origin", func(t *testing.T) {
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(f.url + "/v1/artifacts/" + st.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != o.URL+"/ledger/2.0.0" {
			t.Errorf("GET artifact: %s Location %q; want 307 to the origin", resp.Status, resp.Header.Get("Location"))
		}
	})
	t.Run("a client following it gets the bytes, and a Range goes along", func(t *testing.T) {
		req, _ := http.NewRequest("GET", f.url+"/v1/artifacts/"+st.SHA256, nil)
		req.Header.Set("Range", "bytes=5-")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[5:]) {
			t.Errorf("ranged GET through the redirect: %s, %q; want 206 and bytes 5-", resp.Status, body)
		}
	})
	t.Run("the same release moved to another origin", func(t *testing.T) {
		o.files["/mirror/ledger"] = data
		if _, err := f.admin.Publish(t.Context(), admin.PublishParams{
			Product: "ledger", Series: api.SeriesPro, Version: "2.0.0", OS: "linux", Arch: "amd64", URL: o.URL + "/mirror/ledger",
		}); err != nil {
			t.Fatal(err)
		}
		got, err := f.inst.Store.ArtifactURL(t.Context(), st.SHA256)
		if err != nil || got != o.URL+"/mirror/ledger" {
			t.Errorf("ArtifactURL after the move = %q, %v", got, err)
		}
	})
	t.Run("--file and --url must be the same bytes", func(t *testing.T) {
		_, err := f.admin.Publish(t.Context(), admin.PublishParams{
			Product: "ledger", Series: api.SeriesPro, Version: "3.0.0", OS: "linux", Arch: "amd64",
			URL: o.URL + "/other", File: strings.NewReader("what staff meant to publish"),
		})
		if err == nil || !strings.Contains(err.Error(), "serves other bytes than --file") {
			t.Errorf("mismatched origin: %v", err)
		}
		same, err := f.admin.Publish(t.Context(), admin.PublishParams{
			Product: "ledger", Series: api.SeriesPro, Version: "3.0.0", OS: "linux", Arch: "amd64",
			URL: o.URL + "/other", File: strings.NewReader("other bytes"),
		})
		if err != nil || same.SHA256 != sha256Hex([]byte("other bytes")) {
			t.Errorf("matching --file and --url: %+v, %v", same, err)
		}
	})
	for name, url := range map[string]string{
		"missing at the origin": o.URL + "/not-uploaded-yet",
		"nothing listens":       "http://127.0.0.1:1/ledger",
		"not http":              "ftp://cdn.example.com/ledger",
		"credentials in it":     "https://user:pw@cdn.example.com/ledger",
	} {
		t.Run("refused: "+name, func(t *testing.T) {
			_, err := f.admin.Publish(t.Context(), admin.PublishParams{
				Product: "ledger", Series: api.SeriesPro, Version: "4.0.0", OS: "linux", Arch: "amd64", URL: url,
			})
			if err == nil {
				t.Fatal("published")
			}
			if !strings.Contains(err.Error(), "--url") {
				t.Errorf("the error does not name --url: %v", err)
			}
			if rs, _ := f.inst.Store.Releases(t.Context(), "ledger", "linux", "amd64"); len(rs) != 2 {
				t.Errorf("%d releases after a refused publish, want 2", len(rs))
			}
		})
	}
	// Nothing stray in the blob folder from any of this.
	entries, _ := os.ReadDir(f.inst.Blobs.Dir)
	for _, e := range entries {
		sub, _ := os.ReadDir(filepath.Join(f.inst.Blobs.Dir, e.Name()))
		if len(sub) > 0 || strings.HasPrefix(e.Name(), ".incoming") {
			t.Errorf("blob folder holds %s", e.Name())
		}
	}
}
