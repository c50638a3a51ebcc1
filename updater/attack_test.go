package updater

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/keyring"
	"github.com/aktual/aktual/updater/internal/fetch"
)

// The attacks on update systems TUF lists, each as a malicious server or
// file against the client: every one must fail closed, with nothing
// installed and no paid update used. In the style of tailscale's distsign
// tests: one row an attack.

// forge lets a row rewrite the server's latest answer: the answer's
// statement (unverified) and the response, then re-signs the answer with
// the key the row returns (the genuine online key unless it says other).
type forge func(a *attacker, resp *api.LatestResponse, st *api.LatestStatement) ed25519.PrivateKey

type attacker struct {
	h      *harness
	keys   *keyring.Keys
	forge  forge
	latest func(w http.ResponseWriter) bool // serves the latest answer itself
	blob   func(w http.ResponseWriter, r *http.Request, real http.Handler) bool
}

func newKey(t *testing.T) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pub(k ed25519.PrivateKey) api.PublicKey { return api.NewPublicKey(k.Public().(ed25519.PublicKey)) }

func signJSON(t *testing.T, payloadType string, v any, key ed25519.PrivateKey) api.Envelope {
	t.Helper()
	payload, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return api.Sign(payloadType, payload, key)
}

// release returns the genuine signed release of a version.
func (a *attacker) release(version string) (api.Envelope, api.ReleaseStatement) {
	a.h.t.Helper()
	rs, err := a.h.inst.Store.Releases(a.h.t.Context(), product, "linux", "amd64")
	if err != nil {
		a.h.t.Fatal(err)
	}
	for _, r := range rs {
		if r.Version == version {
			var env api.Envelope
			var st api.ReleaseStatement
			if json.Unmarshal(r.Envelope, &env) != nil || json.Unmarshal(env.Payload, &st) != nil {
				a.h.t.Fatal("stored release unreadable")
			}
			return env, st
		}
	}
	a.h.t.Fatalf("no release %s", version)
	return api.Envelope{}, api.ReleaseStatement{}
}

// keySet signs a key set with root.
func (a *attacker) keySet(version int64, expires time.Time, release, online []api.PublicKey, root ed25519.PrivateKey) api.Envelope {
	return signJSON(a.h.t, api.PayloadKeys, api.KeySet{Version: version, IssuedAt: time.Now().Add(-time.Hour), ExpiresAt: expires,
		ReleaseKeys: release, OnlineKeys: online}, root)
}

func (a *attacker) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/latest") && a.latest != nil && a.latest(w):
		case strings.HasSuffix(r.URL.Path, "/latest") && a.forge != nil:
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var resp api.LatestResponse
			var st api.LatestStatement
			if json.Unmarshal(rec.Body.Bytes(), &resp) != nil || json.Unmarshal(resp.Answer.Payload, &st) != nil {
				a.h.t.Errorf("latest answer unreadable: %s", rec.Body)
			}
			key := a.forge(a, &resp, &st)
			if key != nil {
				resp.Answer = signJSON(a.h.t, api.PayloadLatest, st, key)
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(resp)
		case strings.HasPrefix(r.URL.Path, "/v1/artifacts/") && a.blob != nil && a.blob(w, r, next):
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func TestAttacksFailClosed(t *testing.T) {
	type row struct {
		name  string
		setup func(a *attacker)
		kind  error  // ErrVerification (exit 6) unless a slow line is indistinguishable
		msg   string // in the error
	}
	rows := []row{
		// Arbitrary software.
		{"unsigned answer", func(a *attacker) {
			a.forge = func(a *attacker, resp *api.LatestResponse, st *api.LatestStatement) ed25519.PrivateKey {
				resp.Answer.Signatures = nil
				return nil
			}
		}, ErrVerification, "not signed"},
		{"answer signed by an unknown key", func(a *attacker) {
			k := newKey(t)
			a.forge = func(*attacker, *api.LatestResponse, *api.LatestStatement) ed25519.PrivateKey { return k }
		}, ErrVerification, "not signed by a trusted key"},
		{"impostor server with keys of its own", func(a *attacker) {
			root, rel, on := newKey(t), newKey(t), newKey(t)
			a.forge = func(a *attacker, resp *api.LatestResponse, st *api.LatestStatement) ed25519.PrivateKey {
				resp.Keys = a.keySet(99, time.Now().Add(time.Hour), []api.PublicKey{pub(rel)}, []api.PublicKey{pub(on)}, root)
				evil := api.ReleaseStatement{Product: product, Series: api.SeriesPro, Version: "9.0.0", OS: "linux", Arch: "amd64",
					SHA256: strings.Repeat("ab", 32), Size: 10}
				st.Latest = signJSON(t, api.PayloadRelease, evil, rel)
				return on
			}
		}, ErrVerification, "not vouched for by your trust file's root key"},
		{"release signed by the online key (online key compromised)", func(a *attacker) {
			a.forge = func(a *attacker, resp *api.LatestResponse, st *api.LatestStatement) ed25519.PrivateKey {
				evil := api.ReleaseStatement{Product: product, Series: api.SeriesPro, Version: "9.0.0", OS: "linux", Arch: "amd64",
					SHA256: strings.Repeat("ab", 32), Size: 10}
				st.Latest = signJSON(t, api.PayloadRelease, evil, a.keys.Online)
				return a.keys.Online
			}
		}, ErrVerification, "not signed by a trusted release key"},
		{"release signed by the root key directly", func(a *attacker) {
			a.forge = func(a *attacker, resp *api.LatestResponse, st *api.LatestStatement) ed25519.PrivateKey {
				_, genuine := a.release("2.0.0")
				genuine.Version = "9.0.0"
				st.Latest = signJSON(t, api.PayloadRelease, genuine, a.keys.Root)
				return a.keys.Online
			}
		}, ErrVerification, "not signed by a trusted release key"},
		{"key set naming the root key as an online key", func(a *attacker) {
			a.forge = func(a *attacker, resp *api.LatestResponse, st *api.LatestStatement) ed25519.PrivateKey {
				resp.Keys = a.keySet(5, time.Now().Add(time.Hour), a.keys.KeySet.ReleaseKeys, []api.PublicKey{pub(a.keys.Root)}, a.keys.Root)
				return a.keys.Root
			}
		}, ErrVerification, "one role"},
		{"key set signed by the online key", func(a *attacker) {
			a.forge = func(a *attacker, resp *api.LatestResponse, st *api.LatestStatement) ed25519.PrivateKey {
				resp.Keys = a.keySet(5, time.Now().Add(time.Hour), a.keys.KeySet.ReleaseKeys, a.keys.KeySet.OnlineKeys, a.keys.Online)
				return a.keys.Online
			}
		}, ErrVerification, "not vouched for"},
		{"expired key set", func(a *attacker) {
			a.forge = func(a *attacker, resp *api.LatestResponse, st *api.LatestStatement) ed25519.PrivateKey {
				resp.Keys = a.keySet(1, time.Now().Add(-time.Minute), a.keys.KeySet.ReleaseKeys, a.keys.KeySet.OnlineKeys, a.keys.Root)
				return nil
			}
		}, ErrVerification, "expired"},
		{"payload with a duplicated key", func(a *attacker) {
			a.forge = func(a *attacker, resp *api.LatestResponse, st *api.LatestStatement) ed25519.PrivateKey {
				_, genuine := a.release("2.0.0")
				b, _ := json.Marshal(genuine)
				b = bytes.Replace(b, []byte(`{"product":"ledger"`), []byte(`{"product":"ledger","product":"other"`), 1)
				st.Latest = api.Sign(api.PayloadRelease, b, a.keys.Release)
				return a.keys.Online
			}
		}, ErrVerification, "duplicate"},
		// Rollback and freeze.
		{"rollback to an older release than seen before", func(a *attacker) {
			a.seen("2.0.0")
			a.forge = func(a *attacker, resp *api.LatestResponse, st *api.LatestStatement) ed25519.PrivateKey {
				st.Latest, _ = a.release("1.0.0")
				return a.keys.Online
			}
		}, ErrVerification, "offered 2.0.0 before"},
		{"forged downgrade signed by the online key", func(a *attacker) {
			os.WriteFile(a.h.target, a.h.v2, 0o755)
			a.forge = func(a *attacker, resp *api.LatestResponse, st *api.LatestStatement) ed25519.PrivateKey {
				_, old := a.release("1.0.0")
				old.DowngradeFrom = []string{"2.0.0"}
				st.Latest = signJSON(t, api.PayloadRelease, old, a.keys.Online)
				return a.keys.Online
			}
		}, ErrVerification, "not signed by a trusted release key"},
		{"replayed answer (freeze)", func(a *attacker) {
			var recorded []byte
			a.latest = func(w http.ResponseWriter) bool {
				if recorded == nil {
					rec := httptest.NewRecorder()
					server.New(a.h.inst, "x", nil).Handler().ServeHTTP(rec, httptest.NewRequest("GET",
						"/v1/products/ledger/latest?os=linux&arch=amd64&nonce=00000000000000000000000000000000&current_sha256="+sha256Of(a.h.v1), nil))
					recorded = rec.Body.Bytes()
				}
				w.Write(recorded)
				return true
			}
		}, ErrVerification, "not made for this question"},
		{"expired answer", func(a *attacker) {
			a.forge = func(a *attacker, resp *api.LatestResponse, st *api.LatestStatement) ed25519.PrivateKey {
				st.IssuedAt, st.ExpiresAt = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
				return a.keys.Online
			}
		}, ErrVerification, "expired"},
		{"old key set after a rotation (a revoked key brought back)", func(a *attacker) {
			a.seenKeySet(7)
		}, ErrVerification, "older than version 7"},
		{"staff pre-release offered as the latest", func(a *attacker) {
			a.h.publish(product, api.SeriesPro, "3.0.0-rc.1", []byte("release candidate"))
			a.forge = func(a *attacker, resp *api.LatestResponse, st *api.LatestStatement) ed25519.PrivateKey {
				st.Latest, _ = a.release("3.0.0-rc.1")
				return a.keys.Online
			}
		}, ErrVerification, "pre-release"},
		{"answer for another question", func(a *attacker) {
			a.forge = func(a *attacker, resp *api.LatestResponse, st *api.LatestStatement) ed25519.PrivateKey {
				st.Arch = "arm64"
				return a.keys.Online
			}
		}, ErrVerification, "another question"},
		// Mix-and-match and misdirection: genuine signatures, wrong pairing.
		{"release of another platform", func(a *attacker) {
			a.h.publishFor("windows", "amd64", "3.0.0", []byte("windows build"))
			a.forge = func(a *attacker, resp *api.LatestResponse, st *api.LatestStatement) ed25519.PrivateKey {
				rs, _ := a.h.inst.Store.Releases(t.Context(), product, "windows", "amd64")
				json.Unmarshal(rs[0].Envelope, &st.Latest)
				return a.keys.Online
			}
		}, ErrVerification, "is for windows/amd64"},
		{"release of another product", func(a *attacker) {
			a.h.publishProduct("other", "3.0.0", []byte("other product"))
			a.forge = func(a *attacker, resp *api.LatestResponse, st *api.LatestStatement) ed25519.PrivateKey {
				rs, _ := a.h.inst.Store.Releases(t.Context(), "other", "linux", "amd64")
				json.Unmarshal(rs[0].Envelope, &st.Latest)
				return a.keys.Online
			}
		}, ErrVerification, "is for other"},
		{"artifact of another release (mix-and-match)", func(a *attacker) {
			a.blob = func(w http.ResponseWriter, r *http.Request, real http.Handler) bool {
				w.Write(a.h.v1)
				return true
			}
		}, ErrVerification, "does not match"},
		// Endless data.
		{"artifact longer than signed", func(a *attacker) {
			a.blob = func(w http.ResponseWriter, r *http.Request, real http.Handler) bool {
				w.Write(a.h.v2)
				for range 100 {
					w.Write(bytes.Repeat([]byte{0}, 64<<10))
				}
				return true
			}
		}, ErrVerification, "signed release has"},
		{"artifact shorter than signed", func(a *attacker) {
			a.blob = func(w http.ResponseWriter, r *http.Request, real http.Handler) bool {
				w.Header().Set("Content-Length", "10")
				w.Write(a.h.v2[:10])
				return true
			}
		}, ErrVerification, "signed release has"},
		{"endless answer", func(a *attacker) {
			a.latest = func(w http.ResponseWriter) bool {
				w.Write([]byte(`{"keys":{"payload":"`))
				for range 64 {
					w.Write(bytes.Repeat([]byte("A"), 64<<10))
				}
				return true
			}
		}, ErrVerification, "too large"},
		// Slow retrieval: a server that holds the line is cut off. A slow
		// line and a slow attacker look alike, so this says "connection"
		// (exit 3), and nothing is installed.
		{"slow artifact", func(a *attacker) {
			a.h.u.StallWindow, a.h.u.MinDownloadRate = 300*time.Millisecond, 64<<10
			a.h.u.RetryDelay = time.Millisecond // a stall is retried, from what arrived
			a.blob = func(w http.ResponseWriter, r *http.Request, real http.Handler) bool {
				w.Header().Set("Content-Length", strconv.Itoa(len(a.h.v2)))
				for i := 0; i < 50 && r.Context().Err() == nil; i++ {
					w.Write(a.h.v2[i : i+1])
					w.(http.Flusher).Flush()
					time.Sleep(50 * time.Millisecond)
				}
				return true
			}
		}, ErrNoConnection, "stalled"},
		{"answer that never comes", func(a *attacker) {
			a.h.u.RequestTimeout = 300 * time.Millisecond
			a.latest = func(w http.ResponseWriter) bool {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{`))
				w.(http.Flusher).Flush()
				time.Sleep(time.Second)
				return true
			}
		}, ErrNoConnection, "took more than"},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 2)
			a := &attacker{h: h, keys: h.inst.Keys}
			tc.setup(a)
			h.wrap = a.wrap
			before, _ := os.ReadFile(h.target)
			_, err := h.update(h.code)
			wantKind(t, err, tc.kind)
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			if tc.kind == ErrNoConnection {
				// A slow line keeps what arrived for the next run
				// (docs/downloads.md), whose final check judges it.
				fetch.Discard(h.target)
			}
			h.expect(before, 2, 0, 0)
		})
	}
}

func sha256Of(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (h *harness) publishFor(goos, arch, version string, data []byte) {
	h.t.Helper()
	if _, err := h.admin.Publish(h.t.Context(), admin.PublishParams{Product: product, Series: api.SeriesPro, Version: version,
		OS: goos, Arch: arch, File: bytes.NewReader(data)}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) publishProduct(name, version string, data []byte) {
	h.t.Helper()
	h.publish(name, api.SeriesPro, version, data)
}

// seen makes the client remember a version offered before.
func (a *attacker) seen(version string) {
	if err := a.h.u.state().Remember(a.h.u.Trust, 0, product, version); err != nil {
		a.h.t.Fatal(err)
	}
}

func (a *attacker) seenKeySet(v int64) {
	if err := a.h.u.state().Remember(a.h.u.Trust, v, product, "0.0.1"); err != nil {
		a.h.t.Fatal(err)
	}
}

// A downgrade staff published (signed by the release key) is installed on
// the versions it withdraws, free of charge; to older versions it is an
// ordinary paid update; the withdrawn version is no longer offered.
func TestDowngradeIsFree(t *testing.T) {
	h := newHarness(t, 2)
	v15 := artifact("1.5.0")
	if _, err := h.admin.Publish(t.Context(), admin.PublishParams{Product: product, Series: api.SeriesPro, Version: "1.5.0",
		OS: "linux", Arch: "amd64", File: bytes.NewReader(v15), DowngradeFrom: []string{"2.0.0"}}); err != nil {
		t.Fatal(err)
	}
	// The client saw 2.0.0 offered before the withdrawal: no refusal.
	if err := h.u.state().Remember(h.u.Trust, 0, product, "2.0.0"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(h.target, h.v2, 0o755)
	plan, err := h.u.Check(t.Context(), CheckRequest{Product: product, Target: h.target})
	if err != nil || !plan.Downgrade || plan.From != "2.0.0" || plan.Latest.Version != "1.5.0" {
		t.Fatalf("plan %+v, %v; want a downgrade 2.0.0 → 1.5.0", plan, err)
	}
	res, err := h.u.Update(t.Context(), Request{CheckRequest: CheckRequest{Product: product, Target: h.target},
		Credential: func(context.Context, *Plan) (api.Credential, error) {
			t.Error("a free downgrade asked for a credential")
			return api.Credential{}, nil
		}})
	if err != nil || res.Status != StatusUpdated || res.To != "1.5.0" {
		t.Fatalf("downgrade: %+v, %v", res, err)
	}
	h.expect(v15, 2, 0, 0)

	// From 1.0.0, 1.5.0 is the newest: an ordinary paid update.
	os.WriteFile(h.target, h.v1, 0o755)
	if res, err := h.update(h.code); err != nil || res.To != "1.5.0" {
		t.Fatalf("update from 1.0.0: %+v, %v", res, err)
	}
	h.expect(v15, 1, 0, 1)

	// The next fix, published below the withdrawn 2.0.0 without naming it,
	// still replaces it: a client offered 2.0.0 before takes it (paid, from
	// 1.5.0), and one still on 2.0.0 moves to it free.
	v151 := artifact("1.5.1")
	if _, err := h.admin.Publish(t.Context(), admin.PublishParams{Product: product, Series: api.SeriesPro, Version: "1.5.1",
		OS: "linux", Arch: "amd64", File: bytes.NewReader(v151)}); err != nil {
		t.Fatal(err)
	}
	if res, err := h.update(h.code); err != nil || res.To != "1.5.1" {
		t.Fatalf("update from 1.5.0 after the fix: %+v, %v", res, err)
	}
	h.expect(v151, 0, 0, 2)
	os.WriteFile(h.target, h.v2, 0o755)
	if res, err := h.update("no code needed"); err != nil || res.From != "2.0.0" || res.To != "1.5.1" {
		t.Fatalf("free move from the withdrawn 2.0.0: %+v, %v", res, err)
	}
	h.expect(v151, 0, 0, 2)
}
