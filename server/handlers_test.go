package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/server/keyring"
	"github.com/aktual/aktual/server/store"
)

// fixture is a real instance (SQLite, keys, blob folder) served by the real
// handler on loopback. Every test that uses one ends with a clean audit.
type fixture struct {
	inst  *datadir.Instance
	admin *admin.Admin
	url   string
	trust *api.KeySet // the server's keys, as a client learns them
	http  *http.Client
}

func newFixture(t *testing.T) *fixture {
	return newFixtureWith(t, nil)
}

// newFixtureWith lets a test set the server's clock or TTLs before it serves.
func newFixtureWith(t *testing.T, configure func(*server.Server)) *fixture {
	t.Helper()
	inst, err := datadir.Open(datadir.DataDir(t.TempDir()), "")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { inst.Close() })
	srv := server.New(inst, "test", nil)
	if configure != nil {
		configure(srv)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	f := &fixture{inst: inst, admin: admin.New(inst), url: ts.URL, trust: inst.Keys.KeySet, http: ts.Client()}
	t.Cleanup(func() { f.requireClean(t) })
	return f
}

// requireClean fails the test for every violation the audit finds.
func (f *fixture) requireClean(t *testing.T) {
	t.Helper()
	// Not t.Context(): it is already cancelled when cleanups run.
	rep, err := f.admin.Audit(context.Background())
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	for _, v := range rep.Violations {
		t.Errorf("audit: entitlement %d (%s): %s", v.EntitlementID, v.Customer, v.Problem)
	}
}

// reply is a whole HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) String() string { return fmt.Sprintf("%d %.300q", r.status, r.body) }

// send sends one request; headers come as name, value pairs. It is safe to
// call from any goroutine.
func (f *fixture) send(ctx context.Context, method, path string, body io.Reader, headers ...string) (reply, error) {
	req, err := http.NewRequestWithContext(ctx, method, f.url+path, body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %.80s: %w", method, path, err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := f.http.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %.80s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %.80s: reading body: %w", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

func (f *fixture) do(t *testing.T, method, path string, body io.Reader, headers ...string) reply {
	t.Helper()
	r, err := f.send(t.Context(), method, path, body, headers...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) get(t *testing.T, path string, headers ...string) reply {
	t.Helper()
	return f.do(t, http.MethodGet, path, nil, headers...)
}

func (f *fixture) post(t *testing.T, path, body string) reply {
	t.Helper()
	return f.do(t, http.MethodPost, path, strings.NewReader(body), "Content-Type", "application/json")
}

func (f *fixture) reserve(t *testing.T, req api.ReserveRequest) reply {
	t.Helper()
	return f.post(t, "/v1/reservations", mustJSON(t, req))
}

func (f *fixture) complete(t *testing.T, id string) reply {
	t.Helper()
	return f.post(t, "/v1/reservations/"+id+"/complete", "{}")
}

func (f *fixture) release(t *testing.T, id string) reply {
	t.Helper()
	return f.post(t, "/v1/reservations/"+id+"/release", "{}")
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// decodeOK requires a 200 JSON answer and decodes it strictly.
func decodeOK[T any](t *testing.T, r reply) T {
	t.Helper()
	var v T
	if r.status != http.StatusOK {
		t.Fatalf("answer %v, want 200", r)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if err := api.DecodeStrict(r.body, &v); err != nil {
		t.Fatalf("decoding %T from %s: %v", v, r.body, err)
	}
	return v
}

// wantError requires an error answer of this status (any 4xx for 0) and
// code (any for ""), shaped {"error": {"code", "message"}}.
func wantError(t *testing.T, r reply, status int, code string) api.ErrorDetail {
	t.Helper()
	switch {
	case status == 0 && (r.status < 400 || r.status > 499):
		t.Errorf("answer %v, want a 4xx", r)
	case status != 0 && r.status != status:
		t.Errorf("answer %v, want %d", r, status)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var eb api.ErrorBody
	if err := api.DecodeStrict(r.body, &eb); err != nil {
		t.Fatalf("error body %q is not {\"error\": {\"code\", \"message\"}}: %v", r.body, err)
	}
	if code != "" && eb.Error.Code != code {
		t.Errorf("error code %q (%s), want %q", eb.Error.Code, eb.Error.Message, code)
	}
	if eb.Error.Code == "" || eb.Error.Message == "" {
		t.Errorf("error %+v lacks a code or a message", eb.Error)
	}
	return eb.Error
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// artifactBytes are distinct contents for each release.
func artifactBytes(product, version, goos, arch string) []byte {
	return []byte(fmt.Sprintf("#!/bin/sh\necho %s %s for %s/%s\n", product, version, goos, arch))
}

// publish publishes a release whose contents name it, and returns them.
func (f *fixture) publish(t *testing.T, product, series, version, goos, arch string) []byte {
	t.Helper()
	data := artifactBytes(product, version, goos, arch)
	f.publishBytes(t, product, series, version, goos, arch, data)
	return data
}

func (f *fixture) publishBytes(t *testing.T, product, series, version, goos, arch string, data []byte) {
	t.Helper()
	_, err := f.admin.Publish(t.Context(), admin.PublishParams{
		Product: product, Series: series, Version: version, OS: goos, Arch: arch, File: bytes.NewReader(data),
	})
	if err != nil {
		t.Fatalf("publishing %s %s for %s/%s: %v", product, version, goos, arch, err)
	}
}

// activate gives a new customer n Pro updates and returns the code.
func (f *fixture) activate(t *testing.T, customer string, n int64) string {
	t.Helper()
	act, err := f.admin.ActivatePro(t.Context(), customer, n)
	if err != nil {
		t.Fatalf("ActivatePro(%s, %d): %v", customer, n, err)
	}
	if act.Code == "" {
		t.Fatalf("ActivatePro(%s): no code for a new customer", customer)
	}
	return act.Code
}

// standing is what the server knows about a code: its counts and the
// length of its ledger (a row per change).
type standing struct {
	admin.Counts
	ledger int
}

func (f *fixture) standing(t *testing.T, code string) standing {
	t.Helper()
	st, err := f.admin.ShowCode(t.Context(), code)
	if err != nil {
		t.Fatalf("ShowCode: %v", err)
	}
	c, err := api.ParseCode(code)
	if err != nil {
		t.Fatal(err)
	}
	ent, err := f.inst.Store.Entitlement(t.Context(), store.Credential{CodeHash: keyring.CodeHash(f.inst.Keys.CodeSecret, c)})
	if err != nil {
		t.Fatalf("Entitlement: %v", err)
	}
	ledger, err := f.inst.Store.Ledger(t.Context(), ent.ID)
	if err != nil {
		t.Fatalf("Ledger: %v", err)
	}
	return standing{Counts: st.Counts, ledger: len(ledger)}
}

func (f *fixture) wantCounts(t *testing.T, code string, want admin.Counts) {
	t.Helper()
	if got := f.standing(t, code).Counts; got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
}

func (f *fixture) wantUnchanged(t *testing.T, code string, before standing) {
	t.Helper()
	if after := f.standing(t, code); after != before {
		t.Errorf("standing changed from %+v to %+v", before, after)
	}
	f.requireClean(t)
}

func counts(purchased, remaining, held, consumed int64) admin.Counts {
	return admin.Counts{Purchased: purchased, Remaining: remaining, Held: held, Consumed: consumed}
}

func reserveRequest(code, product, key string) api.ReserveRequest {
	return api.ReserveRequest{
		IdempotencyKey: key,
		Credential:     api.Credential{Code: code},
		Product:        product,
		FromVersion:    "1.0.0",
		ToVersion:      "2.0.0",
		MachineID:      "machine-1",
	}
}

// mustReserve reserves and requires a held reservation.
func (f *fixture) mustReserve(t *testing.T, code, product, key string) api.ReservationResponse {
	t.Helper()
	rr := decodeOK[api.ReservationResponse](t, f.reserve(t, reserveRequest(code, product, key)))
	if rr.Reservation.State != api.StateHeld || rr.Reservation.ID == "" {
		t.Fatalf("reservation %+v, want a held one with an ID", rr.Reservation)
	}
	return rr
}

func TestHealth(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ path, status string }{
		{"/healthz", "ok"},
		{"/readyz", "ready"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := f.get(t, tc.path)
			h := decodeOK[api.Health](t, r)
			if h.Status != tc.status || h.Version != "test" {
				t.Errorf("answer %+v, want status %q and version %q", h, tc.status, "test")
			}
			if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
		})
	}
}

func TestReadyzWhenStoreIsDown(t *testing.T) {
	inst, err := datadir.Open(datadir.DataDir(t.TempDir()), "")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.New(inst, "test", nil).Handler())
	t.Cleanup(ts.Close)
	f := &fixture{inst: inst, url: ts.URL, http: ts.Client()}
	if err := inst.Close(); err != nil {
		t.Fatal(err)
	}
	wantError(t, f.get(t, "/readyz"), http.StatusServiceUnavailable, api.CodeInternal)
	// Liveness does not depend on the store.
	decodeOK[api.Health](t, f.get(t, "/healthz"))
}

// latest fetches the latest answer and verifies it as a client would: the
// envelope with the online keys, the release inside with the release keys,
// each parsed strictly.
func (f *fixture) latest(t *testing.T, product, query string) (api.LatestStatement, api.ReleaseStatement) {
	t.Helper()
	resp := decodeOK[api.LatestResponse](t, f.get(t, "/v1/products/"+product+"/latest?"+query))
	ks, err := api.VerifyKeySet(&resp.Keys, f.inst.Keys.Trust(), time.Now())
	if err != nil {
		t.Fatalf("key set: %v", err)
	}
	if ks.Version != f.trust.Version || ks.OnlineKeys[0].ID != f.trust.OnlineKeys[0].ID {
		t.Fatalf("served key set %+v is not the instance's %+v", ks, f.trust)
	}
	var st api.LatestStatement
	if err := resp.Answer.VerifyInto(api.PayloadLatest, ks.OnlineKeys, &st); err != nil {
		t.Fatalf("latest answer: %v", err)
	}
	var rel api.ReleaseStatement
	if err := st.Latest.VerifyInto(api.PayloadRelease, f.trust.ReleaseKeys, &rel); err != nil {
		t.Fatalf("latest release: %v", err)
	}
	return st, rel
}

func TestLatestPicksHighestVersion(t *testing.T) {
	f := newFixture(t)
	for i, tc := range []struct {
		name      string
		published []string // in this order
		want      string
	}{
		{"one", []string{"1.0.0"}, "1.0.0"},
		{"major", []string{"1.0.0", "2.0.0"}, "2.0.0"},
		{"major published last first", []string{"2.0.0", "1.0.0"}, "2.0.0"},
		{"numeric not lexical minor", []string{"1.9.0", "1.10.0", "1.2.0"}, "1.10.0"},
		{"numeric not lexical patch", []string{"1.0.10", "1.0.9"}, "1.0.10"},
		{"numeric not lexical major", []string{"9.0.0", "10.0.0"}, "10.0.0"},
		// Pre-releases are for staff to try; customers are never offered one.
		{"pre-release of a newer version is not offered", []string{"2.0.0", "2.1.0-rc.1"}, "2.0.0"},
		{"release beats its pre-release", []string{"2.1.0", "2.1.0-rc.1"}, "2.1.0"},
		{"stable among pre-releases", []string{"3.0.0-alpha", "2.9.0", "3.0.0-rc.10"}, "2.9.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			product := fmt.Sprintf("app%d", i)
			for _, v := range tc.published {
				f.publish(t, product, api.SeriesPro, v, "linux", "amd64")
			}
			_, rel := f.latest(t, product, "os=linux&arch=amd64")
			if rel.Version != tc.want {
				t.Errorf("latest of %v is %s, want %s", tc.published, rel.Version, tc.want)
			}
			data := artifactBytes(product, tc.want, "linux", "amd64")
			if rel.SHA256 != sha256Hex(data) || rel.Size != int64(len(data)) {
				t.Errorf("latest names sha256 %s size %d, want the published artifact's %s size %d",
					rel.SHA256, rel.Size, sha256Hex(data), len(data))
			}
		})
	}
}

func TestLatestOffersNoPreReleaseAlone(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "beta", api.SeriesPro, "1.0.0-rc.1", "linux", "amd64")
	resp, err := f.http.Get(f.url + "/v1/products/beta/latest?os=linux&arch=amd64")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("only a pre-release published: status %d, want 404", resp.StatusCode)
	}
}

func TestLatestStatementIsSignedAndFresh(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	const ttl = 90 * time.Minute
	f := newFixtureWith(t, func(s *server.Server) {
		s.Now = func() time.Time { return now }
		s.LatestTTL = ttl
	})
	data := f.publish(t, "app", api.SeriesPro, "1.2.3", "linux", "arm64")

	st, rel := f.latest(t, "app", "os=linux&arch=arm64")
	want := api.ReleaseStatement{Product: "app", Series: api.SeriesPro, Version: "1.2.3", OS: "linux", Arch: "arm64",
		SHA256: sha256Hex(data), Size: int64(len(data)), PublishedAt: rel.PublishedAt}
	if !reflect.DeepEqual(rel, want) {
		t.Errorf("release %+v, want %+v", rel, want)
	}
	if st.Product != "app" || st.OS != "linux" || st.Arch != "arm64" || st.CurrentSHA256 != "" || st.Installed != nil {
		t.Errorf("statement does not echo the question: %+v", st)
	}
	if !st.IssuedAt.Equal(now) || !st.ExpiresAt.Equal(now.Add(ttl)) {
		t.Errorf("issued %v expires %v, want %v and %v", st.IssuedAt, st.ExpiresAt, now, now.Add(ttl))
	}

	// The two keys are not interchangeable: an answer is not a release and
	// a release key does not vouch for freshness.
	env := decodeOK[api.LatestResponse](t, f.get(t, "/v1/products/app/latest?os=linux&arch=arm64")).Answer
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"answer under release keys", func() error { _, err := env.Verify(api.PayloadLatest, f.trust.ReleaseKeys); return err }()},
		{"answer as a release", func() error { _, err := env.Verify(api.PayloadRelease, f.trust.OnlineKeys); return err }()},
		{"release under online keys", func() error { _, err := st.Latest.Verify(api.PayloadRelease, f.trust.OnlineKeys); return err }()},
		{"release as an answer", func() error { _, err := st.Latest.Verify(api.PayloadLatest, f.trust.ReleaseKeys); return err }()},
		{"answer under the root key", func() error { _, err := env.Verify(api.PayloadLatest, f.inst.Keys.Trust().RootKeys); return err }()},
		{"release under the root key", func() error {
			_, err := st.Latest.Verify(api.PayloadRelease, f.inst.Keys.Trust().RootKeys)
			return err
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, api.ErrSignature) {
				t.Errorf("verified (err %v), want %v", tc.err, api.ErrSignature)
			}
		})
	}
}

func TestLatestEchoesNonce(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	const nonce = "0123456789abcdef0123456789abcdef"
	st, _ := f.latest(t, "app", "os=linux&arch=amd64&nonce="+nonce)
	if st.Nonce != nonce {
		t.Errorf("nonce %q, want %q echoed", st.Nonce, nonce)
	}
	for _, good := range []string{strings.Repeat("Z", 16), strings.Repeat("9", 64), "abc-DEF_0123456789"} {
		if st, _ := f.latest(t, "app", "os=linux&arch=amd64&nonce="+good); st.Nonce != good {
			t.Errorf("nonce %q, want %q echoed", st.Nonce, good)
		}
	}
	for _, bad := range []string{"short", strings.Repeat("a", 15), strings.Repeat("a", 65), "0123456789abcdef.", "has%20space0123456789", "%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00"} {
		resp, err := f.http.Get(f.url + "/v1/products/app/latest?os=linux&arch=amd64&nonce=" + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("nonce %q: status %d, want 400", bad, resp.StatusCode)
		}
	}
}

func TestLatestDefaultExpiry(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	before := time.Now()
	st, _ := f.latest(t, "app", "os=linux&arch=amd64")
	after := time.Now()
	if st.IssuedAt.Before(before.Add(-time.Second)) || st.IssuedAt.After(after.Add(time.Second)) {
		t.Errorf("issued at %v, want about now (%v)", st.IssuedAt, before)
	}
	if !st.ExpiresAt.After(st.IssuedAt) || st.ExpiresAt.Sub(st.IssuedAt) != server.DefaultLatestTTL {
		t.Errorf("issued %v expires %v, want %v later", st.IssuedAt, st.ExpiresAt, server.DefaultLatestTTL)
	}
}

func TestLatestInstalled(t *testing.T) {
	f := newFixture(t)
	v1 := f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	other := f.publish(t, "tool", api.SeriesPro, "1.0.0", "linux", "amd64")

	for _, tc := range []struct {
		name, current string
		want          string // installed version; "" for none
	}{
		{"published older release", sha256Hex(v1), "1.0.0"},
		{"latest itself", sha256Hex(artifactBytes("app", "2.0.0", "linux", "amd64")), "2.0.0"},
		{"unknown hash", sha256Hex([]byte("a locally built binary")), ""},
		{"another product's artifact", sha256Hex(other), ""},
		{"no hash given", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := "os=linux&arch=amd64"
			if tc.current != "" {
				q += "&current_sha256=" + tc.current
			}
			st, rel := f.latest(t, "app", q)
			if rel.Version != "2.0.0" {
				t.Errorf("latest %s, want 2.0.0", rel.Version)
			}
			if st.CurrentSHA256 != tc.current {
				t.Errorf("current_sha256 echoed as %q, want %q", st.CurrentSHA256, tc.current)
			}
			if tc.want == "" {
				if st.Installed != nil {
					t.Errorf("installed is set for an unpublished hash: %+v", st.Installed)
				}
				return
			}
			if st.Installed == nil {
				t.Fatalf("installed is absent, want release %s", tc.want)
			}
			var inst api.ReleaseStatement
			if err := st.Installed.VerifyInto(api.PayloadRelease, f.trust.ReleaseKeys, &inst); err != nil {
				t.Fatalf("installed release: %v", err)
			}
			if inst.Version != tc.want || inst.SHA256 != tc.current || inst.Product != "app" {
				t.Errorf("installed %+v, want app %s with sha256 %s", inst, tc.want, tc.current)
			}
		})
	}
}

func TestLatestPlatforms(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	f.publish(t, "app", api.SeriesPro, "2.0.0", "windows", "amd64")
	f.publish(t, "app", api.SeriesPro, "3.0.0", "linux", "arm64")
	f.publish(t, "app", api.SeriesPro, "1.5.0", "linux", "amd64")

	for _, tc := range []struct{ os, arch, want string }{
		{"linux", "amd64", "1.5.0"},
		{"windows", "amd64", "2.0.0"},
		{"linux", "arm64", "3.0.0"},
	} {
		t.Run(tc.os+"/"+tc.arch, func(t *testing.T) {
			_, rel := f.latest(t, "app", "os="+tc.os+"&arch="+tc.arch)
			if rel.Version != tc.want || rel.OS != tc.os || rel.Arch != tc.arch {
				t.Errorf("latest is %s for %s/%s, want %s for %s/%s", rel.Version, rel.OS, rel.Arch, tc.want, tc.os, tc.arch)
			}
		})
	}
	for _, tc := range []struct{ name, path string }{
		{"unpublished platform", "/v1/products/app/latest?os=darwin&arch=amd64"},
		{"unpublished arch", "/v1/products/app/latest?os=windows&arch=arm64"},
		{"platform names are exact", "/v1/products/app/latest?os=Linux&arch=amd64"},
		{"unknown product", "/v1/products/nosuch/latest?os=linux&arch=amd64"},
		{"product names are exact", "/v1/products/App/latest?os=linux&arch=amd64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, f.get(t, tc.path), http.StatusNotFound, api.CodeNotFound)
		})
	}
}

func TestLatestBadRequest(t *testing.T) {
	f := newFixture(t)
	sum := sha256Hex(f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64"))
	for _, tc := range []struct{ name, path string }{
		{"no query", "/v1/products/app/latest"},
		{"no os", "/v1/products/app/latest?arch=amd64"},
		{"no arch", "/v1/products/app/latest?os=linux"},
		{"empty os", "/v1/products/app/latest?os=&arch=amd64"},
		{"os with a slash", "/v1/products/app/latest?os=linux%2F..&arch=amd64"},
		{"arch too long", "/v1/products/app/latest?os=linux&arch=" + strings.Repeat("x", 129)},
		{"current_sha256 uppercase", "/v1/products/app/latest?os=linux&arch=amd64&current_sha256=" + strings.ToUpper(sum)},
		{"current_sha256 short", "/v1/products/app/latest?os=linux&arch=amd64&current_sha256=" + sum[:63]},
		{"current_sha256 long", "/v1/products/app/latest?os=linux&arch=amd64&current_sha256=" + sum + "0"},
		{"current_sha256 not hex", "/v1/products/app/latest?os=linux&arch=amd64&current_sha256=" + strings.Repeat("g", 64)},
		{"product is a path trick", "/v1/products/..%2F..%2Fetc/latest?os=linux&arch=amd64"},
		{"product is dot-dot", "/v1/products/%2e%2e/latest?os=linux&arch=amd64"},
		{"product starts with a dash", "/v1/products/-app/latest?os=linux&arch=amd64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, f.get(t, tc.path), http.StatusBadRequest, api.CodeBadRequest)
		})
	}
}

func TestArtifact(t *testing.T) {
	f := newFixture(t)
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	f.publishBytes(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64", data)
	sum := sha256Hex(data)
	path := "/v1/artifacts/" + sum
	etag := `"` + sum + `"`

	for _, tc := range []struct {
		name         string
		method       string
		headers      []string
		status       int
		body         []byte
		contentRange string
	}{
		{"whole", http.MethodGet, nil, http.StatusOK, data, ""},
		{"range", http.MethodGet, []string{"Range", "bytes=10-19"}, http.StatusPartialContent, data[10:20], "bytes 10-19/1000"},
		{"open range resumes", http.MethodGet, []string{"Range", "bytes=990-"}, http.StatusPartialContent, data[990:], "bytes 990-999/1000"},
		{"suffix range", http.MethodGet, []string{"Range", "bytes=-5"}, http.StatusPartialContent, data[995:], "bytes 995-999/1000"},
		// The body of a 416 is ServeContent's own text; only the status counts.
		{"range past the end", http.MethodGet, []string{"Range", "bytes=1000-1010"}, http.StatusRequestedRangeNotSatisfiable, nil, "bytes */1000"},
		{"if-none-match same", http.MethodGet, []string{"If-None-Match", etag}, http.StatusNotModified, nil, ""},
		{"if-none-match other", http.MethodGet, []string{"If-None-Match", `"` + strings.Repeat("0", 64) + `"`}, http.StatusOK, data, ""},
		{"if-range same resumes", http.MethodGet, []string{"Range", "bytes=500-", "If-Range", etag}, http.StatusPartialContent, data[500:], "bytes 500-999/1000"},
		{"if-range other restarts", http.MethodGet, []string{"Range", "bytes=500-", "If-Range", `"` + strings.Repeat("0", 64) + `"`}, http.StatusOK, data, ""},
		{"head", http.MethodHead, nil, http.StatusOK, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(t, tc.method, path, nil, tc.headers...)
			if r.status != tc.status {
				t.Fatalf("answer %v, want %d", r, tc.status)
			}
			if got := r.header.Get("Content-Range"); got != tc.contentRange {
				t.Errorf("Content-Range %q, want %q", got, tc.contentRange)
			}
			if r.status == http.StatusRequestedRangeNotSatisfiable {
				return
			}
			if !bytes.Equal(r.body, tc.body) {
				t.Errorf("body is %d bytes, want %d (%v)", len(r.body), len(tc.body), r)
			}
			if got := r.header.Get("ETag"); got != etag {
				t.Errorf("ETag %q, want %q", got, etag)
			}
			if tc.method == http.MethodHead {
				if got := r.header.Get("Content-Length"); got != "1000" {
					t.Errorf("HEAD Content-Length %q, want 1000", got)
				}
				if got := r.header.Get("Accept-Ranges"); got != "bytes" {
					t.Errorf("HEAD Accept-Ranges %q, want bytes", got)
				}
			}
		})
	}
}

func TestArtifactRefused(t *testing.T) {
	f := newFixture(t)
	sum := sha256Hex(f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64"))
	for _, tc := range []struct {
		name, path string
		status     int
		code       string
	}{
		{"unknown", "/v1/artifacts/" + sha256Hex([]byte("never published")), http.StatusNotFound, api.CodeNotFound},
		{"uppercase", "/v1/artifacts/" + strings.ToUpper(sum), http.StatusBadRequest, api.CodeBadRequest},
		{"short", "/v1/artifacts/" + sum[:10], http.StatusBadRequest, api.CodeBadRequest},
		{"long", "/v1/artifacts/" + sum + "00", http.StatusBadRequest, api.CodeBadRequest},
		{"not hex", "/v1/artifacts/" + strings.Repeat("z", 64), http.StatusBadRequest, api.CodeBadRequest},
		{"path trick to a key", "/v1/artifacts/..%2F..%2Fkeys%2Frelease.pem", http.StatusBadRequest, api.CodeBadRequest},
		{"path trick to the database", "/v1/artifacts/..%2F..%2Faktuald.db", http.StatusBadRequest, api.CodeBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, f.get(t, tc.path), tc.status, tc.code)
		})
	}
}

func TestReserve(t *testing.T) {
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	f := newFixtureWith(t, func(s *server.Server) { s.Now = func() time.Time { return now } })
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 3)

	first := f.mustReserve(t, code, "app", "key-1")
	want := api.Reservation{ID: first.Reservation.ID, State: api.StateHeld, Product: "app",
		FromVersion: "1.0.0", ToVersion: "2.0.0", ExpiresAt: now.Add(server.DefaultReservationTTL)}
	if !sameReservation(first.Reservation, want) || first.Remaining != 2 {
		t.Errorf("reserved %+v remaining %d, want %+v remaining 2", first, first.Remaining, want)
	}
	f.wantCounts(t, code, counts(3, 2, 1, 0))
	before := f.standing(t, code)

	t.Run("repeat with the same key", func(t *testing.T) {
		for range 3 {
			again := f.mustReserve(t, code, "app", "key-1")
			if !sameReservation(again.Reservation, first.Reservation) || again.Remaining != 2 {
				t.Errorf("repeat answered %+v, want the first answer %+v", again, first)
			}
		}
		f.wantUnchanged(t, code, before)
	})
	t.Run("code typed with spaces", func(t *testing.T) {
		spaced := strings.ReplaceAll(code, "-", " ")
		again := f.mustReserve(t, spaced, "app", "key-1")
		if again.Reservation.ID != first.Reservation.ID {
			t.Errorf("the same code typed with spaces made reservation %s, want %s", again.Reservation.ID, first.Reservation.ID)
		}
		f.wantUnchanged(t, code, before)
	})
	t.Run("a new key takes another unit", func(t *testing.T) {
		second := f.mustReserve(t, code, "app", "key-2")
		if second.Reservation.ID == first.Reservation.ID || second.Remaining != 1 {
			t.Errorf("second reservation %+v, want a new ID and 1 remaining", second)
		}
		f.wantCounts(t, code, counts(3, 1, 2, 0))
	})
}

func sameReservation(a, b api.Reservation) bool {
	return a.ID == b.ID && a.State == b.State && a.Product == b.Product &&
		a.FromVersion == b.FromVersion && a.ToVersion == b.ToVersion && a.ExpiresAt.Equal(b.ExpiresAt)
}

// typo changes one digit of the given 1-based group of a code.
func typo(t *testing.T, code string, group int) string {
	t.Helper()
	c, err := api.ParseCode(code)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte(c)
	i := (group-1)*api.CodeGroupSize + 1
	b[i] = '0' + (b[i]-'0'+1)%10
	return api.UpdateCode(b).String()
}

func TestReserveRefused(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	f.publish(t, "app", api.SeriesPro, "3.0.0", "linux", "amd64") // another real update, for a key reused
	f.publish(t, "legacy", api.SeriesClassic, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 3)
	f.mustReserve(t, code, "app", "taken")

	spent := f.activate(t, "bob", 1)
	f.mustReserve(t, spent, "app", "bobs-only")

	unknown, err := api.NewCode()
	if err != nil {
		t.Fatal(err)
	}

	with := func(change func(*api.ReserveRequest)) api.ReserveRequest {
		req := reserveRequest(code, "app", "fresh")
		change(&req)
		return req
	}
	for _, tc := range []struct {
		name    string
		req     api.ReserveRequest
		status  int
		code    string
		message string // a part of the message
	}{
		{"same key other to_version", with(func(r *api.ReserveRequest) { r.IdempotencyKey = "taken"; r.ToVersion = "3.0.0" }),
			http.StatusConflict, api.CodeConflict, "idempotency key"},
		{"same key other from_version", with(func(r *api.ReserveRequest) { r.IdempotencyKey = "taken"; r.FromVersion = "" }),
			http.StatusConflict, api.CodeConflict, "idempotency key"},
		{"same key other machine", with(func(r *api.ReserveRequest) { r.IdempotencyKey = "taken"; r.MachineID = "machine-2" }),
			http.StatusConflict, api.CodeConflict, "idempotency key"},
		{"same key other code", with(func(r *api.ReserveRequest) { r.IdempotencyKey = "taken"; r.Credential.Code = spent }),
			http.StatusConflict, api.CodeConflict, "idempotency key"},
		{"typo in the first group", with(func(r *api.ReserveRequest) { r.Credential.Code = typo(t, code, 1) }),
			http.StatusBadRequest, api.CodeInvalidCode, "first group"},
		{"typo in the third group", with(func(r *api.ReserveRequest) { r.Credential.Code = typo(t, code, 3) }),
			http.StatusBadRequest, api.CodeInvalidCode, "third group"},
		{"typo in the fifth group", with(func(r *api.ReserveRequest) { r.Credential.Code = typo(t, code, 5) }),
			http.StatusBadRequest, api.CodeInvalidCode, "fifth group"},
		{"code too short", with(func(r *api.ReserveRequest) { r.Credential.Code = code[:len(code)-1] }),
			http.StatusBadRequest, api.CodeInvalidCode, "24 digits"},
		{"code with a letter", with(func(r *api.ReserveRequest) { r.Credential.Code = "O" + code[1:] }),
			http.StatusBadRequest, api.CodeInvalidCode, "only digits"},
		{"no credential", with(func(r *api.ReserveRequest) { r.Credential = api.Credential{} }),
			http.StatusBadRequest, api.CodeBadRequest, "credential"},
		{"unknown classic session", with(func(r *api.ReserveRequest) { r.Credential = api.Credential{Session: "s1", InternetCode: "1234"} }),
			http.StatusForbidden, api.CodeUnknownCredential, "session is not known"},
		{"code and session", with(func(r *api.ReserveRequest) { r.Credential.Session = "s1" }),
			http.StatusBadRequest, api.CodeBadRequest, ""},
		{"unknown code", with(func(r *api.ReserveRequest) { r.Credential.Code = unknown.String() }),
			http.StatusForbidden, api.CodeUnknownCredential, "receipt"},
		{"exhausted", with(func(r *api.ReserveRequest) { r.Credential.Code = spent }),
			http.StatusConflict, api.CodeExhausted, "buy more"},
		{"product of the other series", with(func(r *api.ReserveRequest) { r.Product = "legacy" }),
			http.StatusForbidden, api.CodeWrongSeries, "legacy is a classic-series product"},
		{"unknown product", with(func(r *api.ReserveRequest) { r.Product = "nosuch" }),
			http.StatusNotFound, api.CodeNotFound, "nosuch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alice, bob := f.standing(t, code), f.standing(t, spent)
			e := wantError(t, f.reserve(t, tc.req), tc.status, tc.code)
			if !strings.Contains(e.Message, tc.message) {
				t.Errorf("message %q does not say %q", e.Message, tc.message)
			}
			f.wantUnchanged(t, code, alice)
			f.wantUnchanged(t, spent, bob)
		})
	}
}

// TestMalformedRequests sends what a broken or hostile client might: each
// must be refused with a 4xx error body and change nothing.
func TestMalformedRequests(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 3)
	held := f.mustReserve(t, code, "app", "held").Reservation.ID

	good := reserveRequest(code, "app", "new-key")
	// goodJSON is a valid body left open for one more member.
	goodJSON := strings.TrimSuffix(mustJSON(t, good), "}")
	// bodyOf builds an object from raw members, so keys can repeat.
	bodyOf := func(members ...string) string { return "{" + strings.Join(members, ",") + "}" }
	cred := `"credential":{"code":"` + code + `"}`
	key, product, from, to, machine := `"idempotency_key":"new-key"`, `"product":"app"`, `"from_version":"1.0.0"`, `"to_version":"2.0.0"`, `"machine_id":"m"`
	padded := goodJSON + "}" + strings.Repeat(" ", api.MaxRequestBody)

	const reserve = "/v1/reservations"
	for _, tc := range []struct {
		name, path, body string
		status           int // 0: any 4xx
	}{
		{"not JSON", reserve, "product=app&code=" + code, http.StatusBadRequest},
		{"empty body", reserve, "", http.StatusBadRequest},
		{"null", reserve, "null", http.StatusBadRequest},
		{"array", reserve, "[" + mustJSON(t, good) + "]", http.StatusBadRequest},
		{"string", reserve, `"` + code + `"`, http.StatusBadRequest},
		{"empty object", reserve, "{}", http.StatusBadRequest},
		{"truncated", reserve, mustJSON(t, good)[:40], http.StatusBadRequest},
		{"unknown field", reserve, goodJSON + `,"force":true}`, http.StatusBadRequest},
		{"unknown field in credential", reserve, bodyOf(key, product, from, to, machine, `"credential":{"code":"`+code+`","admin":true}`), http.StatusBadRequest},
		{"duplicate product", reserve, bodyOf(`"product":"legacy"`, key, cred, product, from, to, machine), http.StatusBadRequest},
		{"duplicate key, same value", reserve, bodyOf(key, key, cred, product, from, to, machine), http.StatusBadRequest},
		{"duplicate credential", reserve, bodyOf(key, cred, cred, product, from, to, machine), http.StatusBadRequest},
		{"duplicate inside credential", reserve, bodyOf(key, product, from, to, machine, `"credential":{"code":"1","code":"`+code+`"}`), http.StatusBadRequest},
		{"product is a number", reserve, bodyOf(key, cred, `"product":1`, from, to, machine), http.StatusBadRequest},
		{"credential is a string", reserve, bodyOf(key, `"credential":"`+code+`"`, product, from, to, machine), http.StatusBadRequest},
		{"to_version is a list", reserve, bodyOf(key, cred, product, from, `"to_version":["2.0.0"]`, machine), http.StatusBadRequest},
		{"idempotency_key is an object", reserve, bodyOf(`"idempotency_key":{}`, cred, product, from, to, machine), http.StatusBadRequest},
		{"trailing garbage", reserve, mustJSON(t, good) + "x", http.StatusBadRequest},
		{"trailing second object", reserve, mustJSON(t, good) + mustJSON(t, good), http.StatusBadRequest},
		{"larger than MaxRequestBody", reserve, padded, http.StatusRequestEntityTooLarge},
		{"far larger than MaxRequestBody", reserve, goodJSON + `,"x":"` + strings.Repeat("a", 10*api.MaxRequestBody) + `"}`, http.StatusRequestEntityTooLarge},
		{"no idempotency_key", reserve, bodyOf(cred, product, from, to, machine), http.StatusBadRequest},
		{"no product", reserve, bodyOf(key, cred, from, to, machine), http.StatusBadRequest},
		{"no to_version", reserve, bodyOf(key, cred, product, from, machine), http.StatusBadRequest},
		{"no machine_id", reserve, bodyOf(key, cred, product, from, to), http.StatusBadRequest},
		{"no credential", reserve, bodyOf(key, product, from, to, machine), http.StatusBadRequest},
		{"idempotency_key too long", reserve, bodyOf(`"idempotency_key":"`+strings.Repeat("k", 129)+`"`, cred, product, from, to, machine), http.StatusBadRequest},
		{"idempotency_key with a slash", reserve, bodyOf(`"idempotency_key":"a/b"`, cred, product, from, to, machine), http.StatusBadRequest},
		{"product is a path", reserve, bodyOf(key, cred, `"product":"../app"`, from, to, machine), http.StatusBadRequest},
		{"to_version with v", reserve, bodyOf(key, cred, product, from, `"to_version":"v2.0.0"`, machine), http.StatusBadRequest},
		{"to_version not a version", reserve, bodyOf(key, cred, product, from, `"to_version":"latest"`, machine), http.StatusBadRequest},
		{"to_version with build metadata", reserve, bodyOf(key, cred, product, from, `"to_version":"2.0.0+build.1"`, machine), http.StatusBadRequest},
		{"from_version short", reserve, bodyOf(key, cred, product, `"from_version":"1.0"`, to, machine), http.StatusBadRequest},
		{"machine_id with spaces", reserve, bodyOf(key, cred, product, from, to, `"machine_id":"my machine"`), http.StatusBadRequest},

		{"complete: id is a path trick", "/v1/reservations/..%2F..%2F" + held + "/complete", "{}", http.StatusBadRequest},
		{"complete: id is dot-dot", "/v1/reservations/%2e%2e/complete", "{}", http.StatusBadRequest},
		{"complete: raw dot-dot", "/v1/reservations/../../" + held + "/complete", "{}", 0},
		{"complete: empty id", "/v1/reservations//complete", "{}", 0},
		{"complete: id with a space", "/v1/reservations/r%20" + held + "/complete", "{}", http.StatusBadRequest},
		{"complete: id with a NUL", "/v1/reservations/" + held + "%00/complete", "{}", http.StatusBadRequest},
		{"complete: id too long", "/v1/reservations/" + strings.Repeat("r", 129) + "/complete", "{}", http.StatusBadRequest},
		{"complete: id very long", "/v1/reservations/" + strings.Repeat("r", 8000) + "/complete", "{}", http.StatusBadRequest},
		{"complete: id with a suffix", "/v1/reservations/" + held + "x/complete", "{}", http.StatusNotFound},
		{"complete: id in another case", "/v1/reservations/" + strings.ToUpper(held) + "/complete", "{}", http.StatusNotFound},
		{"complete: extra segment", "/v1/reservations/" + held + "/complete/now", "{}", http.StatusNotFound},
		{"release: id is a path trick", "/v1/reservations/..%2F..%2F" + held + "/release", "{}", http.StatusBadRequest},
		{"release: id is dot-dot", "/v1/reservations/%2e%2e/release", "{}", http.StatusBadRequest},
		{"release: raw dot-dot", "/v1/reservations/../../" + held + "/release", "{}", 0},
		{"release: empty id", "/v1/reservations//release", "{}", 0},
		{"release: id too long", "/v1/reservations/" + strings.Repeat("r", 129) + "/release", "{}", http.StatusBadRequest},
		{"release: id very long", "/v1/reservations/" + strings.Repeat("r", 8000) + "/release", "{}", http.StatusBadRequest},
		{"release: id with a suffix", "/v1/reservations/" + held + "x/release", "{}", http.StatusNotFound},
		{"release: extra segment", "/v1/reservations/" + held + "/release/now", "{}", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.standing(t, code)
			r := f.post(t, tc.path, tc.body)
			wantError(t, r, tc.status, "")
			f.wantUnchanged(t, code, before)
		})
	}

	// The limit is on what is read: a body of exactly MaxRequestBody is taken.
	t.Run("exactly MaxRequestBody", func(t *testing.T) {
		body := mustJSON(t, good)
		body += strings.Repeat(" ", api.MaxRequestBody-len(body))
		decodeOK[api.ReservationResponse](t, f.post(t, reserve, body))
		f.wantCounts(t, code, counts(3, 1, 2, 0))
	})
}

func TestCompleteAndRelease(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")

	type step struct {
		action string // "complete" or "release"
		status int
		state  string // on success
		want   admin.Counts
	}
	for i, tc := range []struct {
		name  string
		steps []step
	}{
		{"complete is idempotent", []step{
			{"complete", http.StatusOK, api.StateConsumed, counts(3, 2, 0, 1)},
			{"complete", http.StatusOK, api.StateConsumed, counts(3, 2, 0, 1)},
			{"complete", http.StatusOK, api.StateConsumed, counts(3, 2, 0, 1)},
		}},
		{"release is idempotent", []step{
			{"release", http.StatusOK, api.StateReleased, counts(3, 3, 0, 0)},
			{"release", http.StatusOK, api.StateReleased, counts(3, 3, 0, 0)},
		}},
		{"release after complete is refused", []step{
			{"complete", http.StatusOK, api.StateConsumed, counts(3, 2, 0, 1)},
			{"release", http.StatusConflict, "", counts(3, 2, 0, 1)},
			{"complete", http.StatusOK, api.StateConsumed, counts(3, 2, 0, 1)},
		}},
		// Released means "never applied": a completion afterwards is a
		// contradiction, refused rather than charged.
		{"complete after release is refused", []step{
			{"release", http.StatusOK, api.StateReleased, counts(3, 3, 0, 0)},
			{"complete", http.StatusConflict, "", counts(3, 3, 0, 0)},
			{"release", http.StatusOK, api.StateReleased, counts(3, 3, 0, 0)},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := f.activate(t, fmt.Sprintf("customer %d", i), 3)
			rr := f.mustReserve(t, code, "app", fmt.Sprintf("key-%d", i))
			f.wantCounts(t, code, counts(3, 2, 1, 0))
			for n, s := range tc.steps {
				var r reply
				if s.action == "complete" {
					r = f.complete(t, rr.Reservation.ID)
				} else {
					r = f.release(t, rr.Reservation.ID)
				}
				if s.status != http.StatusOK {
					wantError(t, r, s.status, api.CodeConflict)
				} else {
					got := decodeOK[api.ReservationResponse](t, r)
					if got.Reservation.ID != rr.Reservation.ID || got.Reservation.State != s.state || got.Remaining != s.want.Remaining {
						t.Errorf("step %d (%s): answer %+v, want %s with %d remaining", n+1, s.action, got, s.state, s.want.Remaining)
					}
				}
				f.wantCounts(t, code, s.want)
			}
			f.requireClean(t)
		})
	}

	t.Run("repeats add no ledger rows", func(t *testing.T) {
		code := f.activate(t, "ledger", 3)
		before := f.standing(t, code)
		rr := f.mustReserve(t, code, "app", "ledger")
		for range 3 {
			decodeOK[api.ReservationResponse](t, f.complete(t, rr.Reservation.ID))
		}
		if got := f.standing(t, code).ledger; got != before.ledger+2 {
			t.Errorf("ledger grew by %d rows, want 2 (reserve, complete)", got-before.ledger)
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		code := f.activate(t, "nobody", 3)
		f.mustReserve(t, code, "app", "unrelated")
		before := f.standing(t, code)
		for _, action := range []string{"complete", "release"} {
			r := f.post(t, "/v1/reservations/r_doesnotexist/"+action, "{}")
			wantError(t, r, http.StatusNotFound, api.CodeNotFound)
		}
		f.wantUnchanged(t, code, before)
	})
}

// parallel sends n POST requests at once, the i-th to the path and with the
// body request(i) gives, and returns the answers in that order.
func (f *fixture) parallel(t *testing.T, n int, request func(i int) (path, body string)) []reply {
	t.Helper()
	out := make([]reply, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		path, body := request(i)
		wg.Go(func() {
			<-start
			out[i], errs[i] = f.send(t.Context(), http.MethodPost, path, strings.NewReader(body), "Content-Type", "application/json")
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return out
}

func statuses(rs []reply) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.status)
	}
	slices.Sort(out)
	return out
}

func TestConcurrentComplete(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 3)
	id := f.mustReserve(t, code, "app", "once").Reservation.ID
	before := f.standing(t, code)

	replies := f.parallel(t, 10, func(int) (string, string) { return "/v1/reservations/" + id + "/complete", "{}" })
	for _, r := range replies {
		got := decodeOK[api.ReservationResponse](t, r)
		if got.Reservation.State != api.StateConsumed || got.Remaining != 2 {
			t.Errorf("answer %+v, want consumed with 2 remaining", got)
		}
	}
	f.wantCounts(t, code, counts(3, 2, 0, 1))
	if got := f.standing(t, code).ledger; got != before.ledger+1 {
		t.Errorf("ledger grew by %d rows, want exactly one completion", got-before.ledger)
	}
}

func TestConcurrentCompleteAndRelease(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 3)
	id := f.mustReserve(t, code, "app", "race").Reservation.ID

	// Whichever comes first wins for good: consumed once, or released
	// once; the other kind of request is refused, never both counted.
	replies := f.parallel(t, 10, func(i int) (string, string) {
		if i%2 == 0 {
			return "/v1/reservations/" + id + "/complete", "{}"
		}
		return "/v1/reservations/" + id + "/release", "{}"
	})
	var completed, released int
	for i, r := range replies {
		if r.status != http.StatusOK {
			wantError(t, r, http.StatusConflict, api.CodeConflict)
			continue
		}
		if i%2 == 0 {
			completed++
		} else {
			released++
		}
	}
	switch {
	case completed > 0 && released == 0:
		f.wantCounts(t, code, counts(3, 2, 0, 1))
	case released > 0 && completed == 0:
		f.wantCounts(t, code, counts(3, 3, 0, 0))
	default:
		t.Fatalf("%d completions and %d releases both succeeded", completed, released)
	}
}

func TestConcurrentReserve(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")

	t.Run("same key", func(t *testing.T) {
		code := f.activate(t, "alice", 3)
		body := mustJSON(t, reserveRequest(code, "app", "double-click"))
		replies := f.parallel(t, 10, func(int) (string, string) { return "/v1/reservations", body })
		ids := map[string]bool{}
		for _, r := range replies {
			ids[decodeOK[api.ReservationResponse](t, r).Reservation.ID] = true
		}
		if len(ids) != 1 {
			t.Errorf("one idempotency key made %d reservations", len(ids))
		}
		f.wantCounts(t, code, counts(3, 2, 1, 0))
	})
	t.Run("more requests than units", func(t *testing.T) {
		code := f.activate(t, "bob", 3)
		var bodies []string
		for i := range 10 {
			bodies = append(bodies, mustJSON(t, reserveRequest(code, "app", fmt.Sprintf("machine-%d", i))))
		}
		replies := f.parallel(t, 10, func(i int) (string, string) { return "/v1/reservations", bodies[i] })
		want := []int{200, 200, 200, 409, 409, 409, 409, 409, 409, 409}
		if got := statuses(replies); !slices.Equal(got, want) {
			t.Errorf("statuses %v, want %v", got, want)
		}
		for _, r := range replies {
			if r.status == http.StatusConflict {
				wantError(t, r, http.StatusConflict, api.CodeExhausted)
			}
		}
		f.wantCounts(t, code, counts(3, 0, 3, 0))
	})
}

func TestUnknownPathsAndMethods(t *testing.T) {
	f := newFixture(t)
	sum := sha256Hex(f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64"))
	code := f.activate(t, "alice", 3)
	id := f.mustReserve(t, code, "app", "held").Reservation.ID

	for _, tc := range []struct {
		name, method, path string
		status             int // 0: any 4xx
	}{
		{"root", http.MethodGet, "/", http.StatusNotFound},
		{"unknown version", http.MethodGet, "/v2/products/app/latest?os=linux&arch=amd64", http.StatusNotFound},
		{"product without latest", http.MethodGet, "/v1/products/app", http.StatusNotFound},
		{"artifact listing", http.MethodGet, "/v1/artifacts/", http.StatusNotFound},
		{"reservation lookup", http.MethodGet, "/v1/reservations/" + id, http.StatusNotFound},
		{"list reservations", http.MethodGet, "/v1/reservations", http.StatusMethodNotAllowed},
		{"put reservation", http.MethodPut, "/v1/reservations", http.StatusMethodNotAllowed},
		{"delete reservation (no such resource)", http.MethodDelete, "/v1/reservations/" + id, http.StatusNotFound},
		{"get complete", http.MethodGet, "/v1/reservations/" + id + "/complete", http.StatusMethodNotAllowed},
		{"put release", http.MethodPut, "/v1/reservations/" + id + "/release", http.StatusMethodNotAllowed},
		{"post latest", http.MethodPost, "/v1/products/app/latest?os=linux&arch=amd64", http.StatusMethodNotAllowed},
		{"post artifact", http.MethodPost, "/v1/artifacts/" + sum, http.StatusMethodNotAllowed},
		{"delete artifact", http.MethodDelete, "/v1/artifacts/" + sum, http.StatusMethodNotAllowed},
		{"post healthz", http.MethodPost, "/healthz", http.StatusMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.standing(t, code)
			r := f.do(t, tc.method, tc.path, strings.NewReader("{}"))
			wantError(t, r, tc.status, "")
			if tc.status == http.StatusMethodNotAllowed && r.header.Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
			f.wantUnchanged(t, code, before)
		})
	}
	// The artifact is still there after the DELETE and POST.
	if r := f.get(t, "/v1/artifacts/"+sum); r.status != http.StatusOK {
		t.Errorf("artifact after refused writes: %v", r)
	}
}
