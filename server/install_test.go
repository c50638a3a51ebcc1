package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server"
)

// POST /v1/install: the release a credential may install first. It
// reserves and consumes nothing; the credential is refused as an
// entitlement query refuses it.

const installPath = "/v1/install"

func installRequest(code, product string) api.InstallRequest {
	return api.InstallRequest{Credential: api.Credential{Code: code}, Product: product, OS: "linux", Arch: "amd64"}
}

// installFixture: ledger 1.0.0 and 2.0.0 published before alice's
// activation at classicStart, 3.0.0 after; server and admin on one clock.
func installFixture(t *testing.T) (*fixture, *testClock, string) {
	t.Helper()
	clk := &testClock{}
	f := newFixtureWith(t, func(s *server.Server) { s.Now = clk.Now })
	f.admin.Now = clk.Now
	for i, v := range []string{"1.0.0", "2.0.0"} {
		clk.Set(classicStart.Add(time.Duration(i-2) * time.Hour))
		f.publish(t, proApp, api.SeriesPro, v, "linux", "amd64")
	}
	clk.Set(classicStart)
	code := f.activate(t, "alice", 2)
	clk.Set(classicStart.Add(time.Hour))
	f.publish(t, proApp, api.SeriesPro, "3.0.0", "linux", "amd64")
	return f, clk, code
}

// wantInstall checks the answer: the release's envelope verifies with
// the release keys of the key set, which verifies with the root.
func (f *fixture) wantInstall(t *testing.T, r reply, version, newest string) {
	t.Helper()
	resp := decodeOK[api.InstallResponse](t, r)
	ks, err := api.VerifyKeySet(&resp.Keys, f.inst.Keys.Trust(), time.Now())
	if err != nil {
		t.Fatalf("key set: %v", err)
	}
	var st api.ReleaseStatement
	if err := resp.Release.VerifyInto(api.PayloadRelease, ks.ReleaseKeys, &st); err != nil {
		t.Fatalf("release: %v", err)
	}
	if st.Version != version || st.Product != proApp || st.OS != "linux" || resp.Newest != newest {
		t.Errorf("install answers %s %s (newest %s); want %s (newest %s)", st.Product, st.Version, resp.Newest, version, newest)
	}
}

func TestInstall(t *testing.T) {
	f, clk, code := installFixture(t)
	before := f.snapshot(t)
	f.wantInstall(t, f.post(t, installPath, mustJSON(t, installRequest(code, proApp))), "2.0.0", "3.0.0")
	f.wantInstall(t, f.post(t, installPath, mustJSON(t, installRequest(code, proApp))), "2.0.0", "3.0.0")
	f.wantSnapshot(t, before) // nothing reserved, consumed or logged in the ledger

	// An update to 3.0.0 paid for: 3.0.0 may be installed.
	clk.Set(classicStart.Add(2 * time.Hour))
	req := reserveRequest(code, proApp, "k1")
	req.ToVersion = "3.0.0"
	rr := decodeOK[api.ReservationResponse](t, f.reserve(t, req))
	f.wantInstall(t, f.post(t, installPath, mustJSON(t, installRequest(code, proApp))), "2.0.0", "3.0.0")
	decodeOK[api.ReservationResponse](t, f.complete(t, rr.Reservation.ID))
	f.wantInstall(t, f.post(t, installPath, mustJSON(t, installRequest(code, proApp))), "3.0.0", "3.0.0")

	// None left: what was paid for may still be installed.
	req = reserveRequest(code, proApp, "k2")
	req.FromVersion, req.ToVersion = "2.0.0", "3.0.0"
	rr = decodeOK[api.ReservationResponse](t, f.reserve(t, req))
	decodeOK[api.ReservationResponse](t, f.complete(t, rr.Reservation.ID))
	f.wantCounts(t, code, counts(2, 0, 0, 2))
	f.wantInstall(t, f.post(t, installPath, mustJSON(t, installRequest(code, proApp))), "3.0.0", "3.0.0")

	// A product whose first release came after the activation: the oldest.
	f.publish(t, "late", api.SeriesPro, "1.1.0", "linux", "amd64")
	f.publish(t, "late", api.SeriesPro, "1.0.0", "linux", "amd64")
	resp := decodeOK[api.InstallResponse](t, f.post(t, installPath, mustJSON(t, installRequest(code, "late"))))
	var st api.ReleaseStatement
	if err := resp.Release.VerifyInto(api.PayloadRelease, f.trust.ReleaseKeys, &st); err != nil || st.Version != "1.0.0" || resp.Newest != "1.1.0" {
		t.Errorf("late: %s (newest %s), %v; want 1.0.0 (newest 1.1.0)", st.Version, resp.Newest, err)
	}
}

func TestInstallRefused(t *testing.T) {
	f, _, code := installFixture(t)
	other := installRequest(code, proApp)
	other.OS = "plan9"
	noOS := installRequest(code, proApp)
	noOS.Arch = ""
	before := f.snapshot(t)
	for _, tc := range []struct {
		name   string
		req    api.InstallRequest
		status int
		code   string
	}{
		{"no release for the platform", other, http.StatusNotFound, api.CodeNotFound},
		{"unknown product", installRequest(code, "nosuch"), http.StatusNotFound, api.CodeNotFound},
		{"unknown code", installRequest(wrongCode(t), proApp), http.StatusForbidden, api.CodeUnknownCredential},
		{"mistyped code", installRequest("12345-12345-12345-12345-12345", proApp), http.StatusBadRequest, api.CodeInvalidCode},
		{"no product", installRequest(code, ""), http.StatusBadRequest, api.CodeBadRequest},
		{"no arch", noOS, http.StatusBadRequest, api.CodeBadRequest},
		{"no credential", api.InstallRequest{Product: proApp, OS: "linux", Arch: "amd64"}, http.StatusBadRequest, api.CodeBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, f.post(t, installPath, mustJSON(t, tc.req)), tc.status, tc.code)
		})
	}
	f.wantSnapshot(t, before)
}

// TestInstallHardwareKey: a classic product installed with a key's proof;
// a key whose site access is not enabled is inactive, one for a Pro
// product the wrong series.
func TestInstallHardwareKey(t *testing.T) {
	c := newClassicFixture(t)
	f := c.fixture
	proof := func(product string) api.InstallRequest {
		q := c.keyQuery(t, c.key, product)
		return api.InstallRequest{Credential: q.Credential, Product: product, OS: "linux", Arch: "amd64"}
	}
	wantError(t, f.post(t, installPath, mustJSON(t, proof(classicApp))), http.StatusForbidden, api.CodeInactive)
	f.activateClassic(t, keyCustomer, keySerial, 1)
	wantError(t, f.post(t, installPath, mustJSON(t, proof(proApp))), http.StatusForbidden, api.CodeWrongSeries)
	resp := decodeOK[api.InstallResponse](t, f.post(t, installPath, mustJSON(t, proof(classicApp))))
	var st api.ReleaseStatement
	if err := resp.Release.VerifyInto(api.PayloadRelease, f.trust.ReleaseKeys, &st); err != nil || st.Version != "2.0.0" || st.Series != api.SeriesClassic {
		t.Errorf("classic install: %+v, %v; want abacus 2.0.0", st, err)
	}
}
