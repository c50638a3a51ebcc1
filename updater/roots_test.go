package updater

import (
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/keyring"
)

// rotatedHarness is a harness whose server rotated its root twice (root 1
// → 2 → 3) after the client was given root 1: the key set is signed by root
// 3 only. roots are the three root keys; asked records each root= the
// client sent.
type rotatedHarness struct {
	*harness
	roots [3]ed25519.PrivateKey
	mu    sync.Mutex
	asked []string
}

func newRotatedHarness(t *testing.T) *rotatedHarness {
	h := &rotatedHarness{harness: newHarness(t, 3)}
	h.roots[0] = h.inst.Keys.Root
	var keys *keyring.Keys
	for i := 1; i < 3; i++ {
		k, _, err := h.inst.Dir.Keyring().RotateRoot(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		keys, h.roots[i] = k, k.Root
	}
	h.inst.Keys = keys // what a restarted aktuald serve loads
	rotated := server.New(h.inst, "test", nil).Handler()
	h.wrap = func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.mu.Lock()
			h.asked = append(h.asked, r.URL.Query().Get(api.QueryRoot))
			h.mu.Unlock()
			rotated.ServeHTTP(w, r)
		})
	}
	return h
}

// learnt is the root the client remembers having learnt, 0 for none.
func (h *rotatedHarness) learnt() int64 {
	h.t.Helper()
	seen, err := h.u.state().LoadSeen(h.u.Trust)
	if err != nil {
		h.t.Fatal(err)
	}
	if seen.Root == nil {
		return 0
	}
	return seen.Root.Root()
}

// An installer that knows only the oldest root follows two rotations to
// the root that signs the key set, updates, and remembers the root: the
// next run asks from root 3 and needs no chain.
func TestUpdateAcrossTwoRootRotations(t *testing.T) {
	h := newRotatedHarness(t)
	anchor := h.u.Trust
	if _, err := h.update(h.code); err != nil {
		t.Fatalf("update across two root rotations: %v", err)
	}
	h.expect(h.v2, 2, 0, 1)
	if got := h.learnt(); got != 3 {
		t.Fatalf("learnt root %d, want 3", got)
	}
	if h.u.Trust != anchor || h.u.Trust.Root() != 1 {
		t.Error("the trust the installer was given changed; it is the chain's anchor")
	}
	if h.asked[0] != "1" {
		t.Errorf("the first question named root %q, want 1", h.asked[0])
	}

	// The next run starts from root 3: it asks from there, and a server
	// that sends no chain at all is enough.
	h.mu.Lock()
	h.asked = nil
	h.mu.Unlock()
	rotated := h.wrap(nil)
	h.wrap = func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			rotated.ServeHTTP(rec, r)
			if strings.Contains(rec.Body.String(), `"roots"`) {
				t.Errorf("the server sent a chain to a client at root 3: %s", r.URL)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
		})
	}
	plan, err := h.u.Check(t.Context(), CheckRequest{Product: product, Target: h.target})
	if err != nil || !plan.UpToDate {
		t.Fatalf("the next check: %+v, %v", plan, err)
	}
	if len(h.asked) == 0 || h.asked[0] != "3" {
		t.Errorf("the next run asked from root %v, want 3", h.asked)
	}
}

// forgedChain serves the real answer with the key set signed by root and
// the chain links, and reports whether the client sent root=.
func (h *rotatedHarness) forgedChain(ks api.KeySet, root ed25519.PrivateKey, links ...api.Envelope) {
	real := h.wrap(nil)
	h.wrap = func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/latest") {
				real.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			real.ServeHTTP(rec, r)
			var resp api.LatestResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				h.t.Errorf("latest answer unreadable: %s", rec.Body)
			}
			resp.Keys = signJSON(h.t, api.PayloadKeys, ks, root)
			resp.Roots = links
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(resp)
		})
	}
}

// link is root statement version naming keys, signed by signers.
func link(t *testing.T, version int64, keys []ed25519.PrivateKey, signers ...ed25519.PrivateKey) api.Envelope {
	st := api.RootStatement{Version: version, IssuedAt: time.Now()}
	for _, k := range keys {
		st.RootKeys = append(st.RootKeys, pub(k))
	}
	env := signJSON(t, api.PayloadRoot, st, signers[0])
	for _, k := range signers[1:] {
		env.AddSignature(k)
	}
	return env
}

// A chain with a broken link is refused whole (exit 6): no update, the
// trusted root unchanged. The first row, a sound chain from root 1 to the
// attacker's key (as only the holder of root 1 could make), shows the
// forgery itself is served and followed.
func TestBrokenRootChainsAreRefused(t *testing.T) {
	type row struct {
		name  string
		learn bool // the client learnt root 3 from the real chain first
		chain func(r [3]ed25519.PrivateKey, evil ed25519.PrivateKey) []api.Envelope
		ok    bool
	}
	ks := func(r [3]ed25519.PrivateKey, evil ed25519.PrivateKey) []ed25519.PrivateKey {
		return []ed25519.PrivateKey{evil}
	}
	rows := []row{
		{"sound chain (control)", false, func(r [3]ed25519.PrivateKey, e ed25519.PrivateKey) []api.Envelope {
			return []api.Envelope{link(t, 2, ks(r, e), r[0], e)}
		}, true},
		{"link signed only by the new key", false, func(r [3]ed25519.PrivateKey, e ed25519.PrivateKey) []api.Envelope {
			return []api.Envelope{link(t, 2, ks(r, e), e)}
		}, false},
		{"link signed only by the old key", false, func(r [3]ed25519.PrivateKey, e ed25519.PrivateKey) []api.Envelope {
			return []api.Envelope{link(t, 2, ks(r, e), r[0])}
		}, false},
		{"a skipped version", false, func(r [3]ed25519.PrivateKey, e ed25519.PrivateKey) []api.Envelope {
			return []api.Envelope{link(t, 3, ks(r, e), r[0], e)}
		}, false},
		{"signed by a key that is not the previous root", false, func(r [3]ed25519.PrivateKey, e ed25519.PrivateKey) []api.Envelope {
			return []api.Envelope{link(t, 2, []ed25519.PrivateKey{r[1]}, r[0], r[1]), link(t, 3, ks(r, e), r[0], e)}
		}, false},
		{"a tampered statement", false, func(r [3]ed25519.PrivateKey, e ed25519.PrivateKey) []api.Envelope {
			l := link(t, 2, []ed25519.PrivateKey{r[1]}, r[0], r[1])
			l.Payload = []byte(strings.Replace(string(l.Payload), pub(r[1]).ID, pub(e).ID, 1))
			return []api.Envelope{l, link(t, 3, ks(r, e), r[1], e)}
		}, false},
		{"an older chain replayed after a newer root was learnt", true, func(r [3]ed25519.PrivateKey, e ed25519.PrivateKey) []api.Envelope {
			// whoever holds the retired root 2 forks the chain at 3
			return []api.Envelope{link(t, 2, []ed25519.PrivateKey{r[1]}, r[0], r[1]), link(t, 3, ks(r, e), r[1], e)}
		}, false},
	}
	for _, c := range rows {
		t.Run(c.name, func(t *testing.T) {
			h := newRotatedHarness(t)
			want := int64(0)
			if c.learn {
				if _, err := h.u.Check(t.Context(), CheckRequest{Product: product, Target: h.target}); err != nil {
					t.Fatal(err)
				}
				want = 3
			}
			evil := newKey(t)
			real := *h.inst.Keys.KeySet
			real.Version++
			h.forgedChain(real, evil, c.chain(h.roots, evil)...)
			_, err := h.update(h.code)
			if c.ok {
				if err != nil {
					t.Fatalf("the sound chain was refused: %v", err)
				}
				return
			}
			wantKind(t, err, ErrVerification)
			if !strings.Contains(err.Error(), "root") {
				t.Errorf("the refusal does not say why: %v", err)
			}
			h.expect(h.v1, 3, 0, 0)
			if got := h.learnt(); got != want {
				t.Errorf("after a refused chain the installer trusts root %d, want %d", got, want)
			}
		})
	}
}

// A seen.json whose learnt root is damaged is refused as a damaged
// memory, not silently forgotten.
func TestDamagedLearntRoot(t *testing.T) {
	h := newRotatedHarness(t)
	if _, err := h.u.Check(t.Context(), CheckRequest{Product: product, Target: h.target}); err != nil {
		t.Fatal(err)
	}
	path := h.u.state().SeenPath()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), `"root_version": 3`, `"root_version": -3`, 1)
	if bad == string(data) {
		t.Fatalf("seen.json holds no learnt root: %s", data)
	}
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = h.u.Check(t.Context(), CheckRequest{Product: product, Target: h.target})
	wantKind(t, err, ErrVerification)
}

// A customer later given the vendor's new trust.json (root 3) keeps what
// the installer remembered of the vendor under root 1: the same entry of
// seen.json, found by the learnt root's key.
func TestNewTrustFileKeepsTheMemory(t *testing.T) {
	h := newRotatedHarness(t)
	if _, err := h.u.Check(t.Context(), CheckRequest{Product: product, Target: h.target}); err != nil {
		t.Fatal(err)
	}
	before, err := h.u.state().LoadSeen(h.u.Trust)
	if err != nil {
		t.Fatal(err)
	}
	fresh := h.inst.Keys.Trust()
	if fresh.Root() != 3 {
		t.Fatalf("the server's trust.json is at root %d, want 3", fresh.Root())
	}
	after, err := h.u.state().LoadSeen(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if after.KeySet == 0 || after.KeySet != before.KeySet || after.Products[product] != before.Products[product] {
		t.Errorf("with the new trust file the memory is %+v, want %+v", after, before)
	}
}
