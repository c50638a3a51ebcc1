package updater

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kr/binarydist"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/testenv"
	"github.com/aktual/aktual/server/patches"
	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/updater/internal/fetch"
)

// Delta updates against the real reference server: the server makes the
// patch at publish, the latest answer offers it, the client applies it,
// and any failure of the patch ends in the whole download.

// needBzip2 skips a test whose server computes patches: bsdiff compresses
// with the bzip2 program.
func needBzip2(t testing.TB) {
	t.Helper()
	testenv.NeedBzip2(t)
}

// patchHarness is the harness with a 3.0.0 published that differs from
// the installed 1.0.0 in a few bytes, and the patch 1.0.0 → 3.0.0 the
// server made for it. It returns 3.0.0 and the patch.
func patchHarness(t *testing.T) (*harness, []byte, store.Patch) {
	t.Helper()
	needBzip2(t)
	h := newHarness(t, 3)
	h.admin.Patches = patches.Policy{MinSize: 1 << 10} // the harness's files are small
	v3 := bytes.Clone(h.v1)
	for i := 0; i < len(v3); i += len(v3) / 5 {
		copy(v3[i:], "ledger 3.0.0 ")
	}
	h.publish(product, api.SeriesPro, "3.0.0", v3)
	p, err := h.inst.Store.Patch(t.Context(), product, "linux", "amd64", sha256Hex(h.v1), sha256Hex(v3))
	if err != nil {
		t.Fatalf("the server made no patch 1.0.0 → 3.0.0: %v", err)
	}
	return h, v3, p
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// served counts the bytes of each artifact the server sends, by sha256,
// and lets a test answer an artifact itself.
type served struct {
	mu    sync.Mutex
	bytes map[string]int64
	gets  map[string]int
	spoil func(sum string, w http.ResponseWriter) bool
}

func (h *harness) countServed() *served {
	s := &served{bytes: map[string]int64{}, gets: map[string]int{}}
	h.wrap = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sum, ok := strings.CutPrefix(r.URL.Path, "/v1/artifacts/")
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			s.mu.Lock()
			s.gets[sum]++
			s.mu.Unlock()
			if s.spoil != nil && s.spoil(sum, w) {
				return
			}
			next.ServeHTTP(&sumWriter{ResponseWriter: w, s: s, sum: sum}, r)
		})
	}
	return s
}

type sumWriter struct {
	http.ResponseWriter
	s   *served
	sum string
}

func (w *sumWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.s.mu.Lock()
	w.s.bytes[w.sum] += int64(n)
	w.s.mu.Unlock()
	return n, err
}

func (s *served) of(sum string) (int64, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes[sum], s.gets[sum]
}

// noPatchDebris checks that no patch file is left beside the target.
func (h *harness) noPatchDebris() {
	h.t.Helper()
	for _, p := range []string{patchPath(h.target), patchedPath(h.target)} {
		if fileExists(p) {
			h.t.Errorf("left behind %s", filepath.Base(p))
		}
	}
}

func TestUpdateViaPatch(t *testing.T) {
	h, v3, patch := patchHarness(t)
	s := h.countServed()
	res, err := h.update(h.code)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if res.Status != StatusUpdated || res.From != "1.0.0" || res.To != "3.0.0" {
		t.Errorf("result %+v", res)
	}
	h.expect(v3, 2, 0, 1)
	h.noPatchDebris()
	if n, gets := s.of(patch.SHA256); gets != 1 || n != patch.Size {
		t.Errorf("patch served %d times, %d bytes; want once, %d bytes", gets, n, patch.Size)
	}
	if n, gets := s.of(sha256Hex(v3)); gets != 0 || n != 0 {
		t.Errorf("the whole release was downloaded too (%d requests, %d bytes)", gets, n)
	}
	if patch.Size*10 > int64(len(v3)) {
		t.Errorf("patch of %d bytes for a release of %d: not much of a saving", patch.Size, len(v3))
	}
	if h.noticed("patch could not be used") {
		t.Error("a notice says the patch failed")
	}
	t.Logf("patch %d bytes for a release of %d (%.2f%%)", patch.Size, len(v3), 100*float64(patch.Size)/float64(len(v3)))
}

// Whatever goes wrong with the patch, the whole download follows and the
// update is done, with exactly one paid update used.
func TestPatchFailureFallsBack(t *testing.T) {
	tests := []struct {
		name   string
		spoil  func(t *testing.T, h *harness, v3 []byte, p store.Patch, s *served)
		notice string
	}{
		{"patch blob damaged on the server's disk", func(t *testing.T, h *harness, _ []byte, p store.Patch, _ *served) {
			blob := filepath.Join(h.inst.Blobs.Dir, p.SHA256[:2], p.SHA256)
			b, err := os.ReadFile(blob)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0xff
			if err := os.WriteFile(blob, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "does not match the signed"},
		{"patch blob truncated on the server's disk", func(t *testing.T, h *harness, _ []byte, p store.Patch, _ *served) {
			blob := filepath.Join(h.inst.Blobs.Dir, p.SHA256[:2], p.SHA256)
			if err := os.Truncate(blob, p.Size/2); err != nil {
				t.Fatal(err)
			}
		}, "but the signed answer says"},
		{"wrong patch published in the store", func(t *testing.T, h *harness, v3 []byte, p store.Patch, _ *served) {
			// A valid patch that makes 2.0.0, of 3.0.0's size, recorded
			// as the patch to 3.0.0: signed hash and size match, its
			// output does not.
			var wrong bytes.Buffer
			if err := binarydist.Diff(bytes.NewReader(h.v1), bytes.NewReader(h.v2), &wrong); err != nil {
				t.Fatal(err)
			}
			if len(h.v2) != len(v3) {
				t.Fatal("the test wants 2.0.0 and 3.0.0 of one size")
			}
			sum, size, err := h.inst.Blobs.Put(&wrong)
			if err != nil {
				t.Fatal(err)
			}
			p.SHA256, p.Size = sum, size
			if err := h.inst.Store.PutPatch(t.Context(), p); err != nil {
				t.Fatal(err)
			}
		}, "patched file's sha256"},
		{"patch not served", func(t *testing.T, h *harness, _ []byte, p store.Patch, s *served) {
			s.spoil = func(sum string, w http.ResponseWriter) bool {
				if sum != p.SHA256 {
					return false
				}
				http.Error(w, "gone", http.StatusServiceUnavailable)
				return true
			}
		}, "the server answered 503"},
		{"connection cut during the patch", func(t *testing.T, h *harness, _ []byte, p store.Patch, s *served) {
			s.spoil = func(sum string, w http.ResponseWriter) bool {
				if sum != p.SHA256 {
					return false
				}
				w.Header().Set("Content-Length", "100000")
				w.WriteHeader(http.StatusOK)
				w.Write([]byte("BSDIFF40"))
				w.(http.Flusher).Flush()
				panic(http.ErrAbortHandler)
			}
		}, "broke off"},
		{"installed file changed since the check", func(t *testing.T, h *harness, _ []byte, p store.Patch, s *served) {
			s.spoil = func(sum string, w http.ResponseWriter) bool {
				if sum == p.SHA256 {
					// Same size, other bytes: the patch applies to
					// something else than it was made from.
					b := bytes.Clone(h.v1)
					b[7] ^= 1
					os.WriteFile(h.target, b, 0o755)
				}
				return false
			}
		}, "patched file's sha256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, v3, p := patchHarness(t)
			s := h.countServed()
			tc.spoil(t, h, v3, p, s)
			res, err := h.update(h.code)
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if res.Status != StatusUpdated || res.To != "3.0.0" {
				t.Errorf("result %+v", res)
			}
			h.expect(v3, 2, 0, 1)
			h.noPatchDebris()
			if !h.noticed("downloading the whole release instead") || !h.noticed(tc.notice) {
				t.Errorf("no notice of the fallback saying %q; events: %v", tc.notice, h.notices())
			}
			if n, gets := s.of(sha256Hex(v3)); gets != 1 || n != int64(len(v3)) {
				t.Errorf("the whole release: %d requests, %d bytes; want 1, %d", gets, n, len(v3))
			}
		})
	}
}

func (h *harness) notices() []string {
	var out []string
	for _, e := range h.events {
		if e.Event == EventNotice {
			out = append(out, e.Message.String())
		}
	}
	return out
}

// A client that does not ask for patches gets none, and downloads the
// whole release: the answer it parses strictly has no patch field.
func TestNoPatchDownloadsWhole(t *testing.T) {
	h, v3, patch := patchHarness(t)
	h.u.NoPatch = true
	s := h.countServed()
	if _, err := h.update(h.code); err != nil {
		t.Fatalf("update: %v", err)
	}
	h.expect(v3, 2, 0, 1)
	if _, gets := s.of(patch.SHA256); gets != 0 {
		t.Errorf("the patch was asked for %d times", gets)
	}
	if n, _ := s.of(sha256Hex(v3)); n != int64(len(v3)) {
		t.Errorf("the whole release: %d bytes, want %d", n, len(v3))
	}
}

// A download of the release kept from an earlier run is continued rather
// than replaced by a patch.
func TestKeptDownloadBeatsPatch(t *testing.T) {
	h, v3, patch := patchHarness(t)
	info := api.ReleaseStatement{Product: product, Version: "3.0.0", SHA256: sha256Hex(v3), Size: int64(len(v3))}
	if err := fetch.Adopt(h.target, info); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fetch.DownloadPath(h.target), v3[:1000], 0o600); err != nil {
		t.Fatal(err)
	}
	s := h.countServed()
	if _, err := h.update(h.code); err != nil {
		t.Fatalf("update: %v", err)
	}
	h.expect(v3, 2, 0, 1)
	if _, gets := s.of(patch.SHA256); gets != 0 {
		t.Errorf("the patch was asked for %d times", gets)
	}
	if n, _ := s.of(sha256Hex(v3)); n != int64(len(v3))-1000 {
		t.Errorf("continued with %d bytes, want %d", n, len(v3)-1000)
	}
}

// The plan takes a patch only when this client can use it.
func TestUsablePatch(t *testing.T) {
	cur, sum := strings.Repeat("a", 64), strings.Repeat("b", 64)
	rel := api.ReleaseStatement{Size: 1000}
	good := api.PatchOffer{FromSHA256: cur, SHA256: sum, Size: 100, Format: api.PatchBSDiff}
	edit := func(f func(p *api.PatchOffer)) *api.PatchOffer {
		p := good
		f(&p)
		return &p
	}
	tests := []struct {
		name string
		p    *api.PatchOffer
		ok   bool
	}{
		{"usable", &good, true},
		{"none", nil, false},
		{"other format", edit(func(p *api.PatchOffer) { p.Format = "courgette" }), false},
		{"from another file", edit(func(p *api.PatchOffer) { p.FromSHA256 = sum }), false},
		{"hash upper-case", edit(func(p *api.PatchOffer) { p.SHA256 = strings.ToUpper(sum) }), false},
		{"hash short", edit(func(p *api.PatchOffer) { p.SHA256 = sum[:62] }), false},
		{"empty", edit(func(p *api.PatchOffer) { p.Size = 0 }), false},
		{"as large as the release", edit(func(p *api.PatchOffer) { p.Size = 1000 }), false},
	}
	for _, tc := range tests {
		if got := usablePatch(tc.p, cur, rel); (got != nil) != tc.ok {
			t.Errorf("%s: usablePatch = %+v, want usable %v", tc.name, got, tc.ok)
		}
	}
}
