package updater

import (
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aktual/aktual/updater/internal/fetch"

	"github.com/aktual/aktual/api"
)

// A run that fails after the download (here a mistyped code the server
// does not know) keeps the verified file; the next run checks its hash
// again instead of downloading it again, and removes it once installed.
func TestVerifiedDownloadKeptForNextRun(t *testing.T) {
	h := newHarness(t, 1)
	var gets atomic.Int32
	h.wrap = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/v1/artifacts/") {
				gets.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	}
	wrong, _ := api.NewCode()
	_, err := h.update(wrong.String())
	wantKind(t, err, ErrCredentialRejected)
	if !keptWhole(h.target) {
		t.Fatal("the verified download was not kept after a refused code")
	}
	if have, total, ok := PartialDownload(h.target); !ok || have != total || total != int64(len(h.v2)) {
		t.Errorf("PartialDownload = %d, %d, %v; want the whole %d bytes", have, total, ok, len(h.v2))
	}
	h.events = nil
	if _, err := h.update(h.code); err != nil {
		t.Fatal(err)
	}
	if n := gets.Load(); n != 1 {
		t.Errorf("the artifact was fetched %d times; want once", n)
	}
	said := false
	for _, e := range h.events {
		said = said || e.Message.String() == "the download is complete from an earlier run; it is checked again"
	}
	if !said {
		t.Error("the second run did not say it reused the download")
	}
	h.expect(h.v2, 0, 0, 1)
	if fileExists(fetch.DownloadPath(h.target)) || fileExists(fetch.SidecarPath(h.target)) {
		t.Error("the download was left after the install")
	}
}

// A kept download damaged on disk between runs is caught by its hash,
// deleted, and nothing is installed; the run after downloads it afresh.
func TestKeptDownloadDamagedOnDisk(t *testing.T) {
	h := newHarness(t, 1)
	wrong, _ := api.NewCode()
	_, err := h.update(wrong.String())
	wantKind(t, err, ErrCredentialRejected)
	b, _ := os.ReadFile(fetch.DownloadPath(h.target))
	b[len(b)/2] ^= 0xff
	os.WriteFile(fetch.DownloadPath(h.target), b, 0o600)
	_, err = h.update(h.code)
	wantKind(t, err, ErrVerification)
	if fileExists(fetch.DownloadPath(h.target)) {
		t.Error("the damaged download was kept")
	}
	h.expect(h.v1, 1, 0, 0)
	if _, err := h.update(h.code); err != nil {
		t.Fatal(err)
	}
	h.expect(h.v2, 0, 0, 1)
}
