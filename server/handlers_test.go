package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
