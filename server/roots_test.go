package server_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server"
)

// oldLatestResponse, oldInstallResponse and oldReleasesResponse are the
// answers as an installer from before root rotation decodes them:
// strictly, so a field it does not know fails its update.
type oldLatestResponse struct {
	Keys   api.Envelope `json:"keys"`
	Answer api.Envelope `json:"answer"`
}

type oldInstallResponse struct {
	Keys    api.Envelope `json:"keys"`
	Release api.Envelope `json:"release"`
	Newest  string       `json:"newest"`
}

type oldReleasesResponse struct {
	Keys     api.Envelope   `json:"keys"`
	Releases []api.Envelope `json:"releases"`
}

// The chain of root keys is sent only to a client that names the root it
// trusts (?root=N) and only the links after N; a question without root=
// is answered exactly as before root rotation, whatever was asked before
// (the "latest" cache keeps the two apart).
func TestRootsOnTheWire(t *testing.T) {
	var srv *server.Server
	clk := &testClock{}
	clk.Set(classicStart)
	f := newFixtureWith(t, func(s *server.Server) { srv, s.Now = s, clk.Now })
	f.admin.Now = clk.Now
	f.publish(t, proApp, api.SeriesPro, "1.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 1)
	trust1 := f.inst.Keys.Trust()
	for range 2 {
		if _, _, err := f.inst.Dir.Keyring().RotateRoot(nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := f.inst.Dir.Keyring().Init(nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Keys = keys // what a restarted aktuald serve loads

	latest := "/v1/products/" + proApp + "/latest?os=linux&arch=amd64"
	install := mustJSON(t, api.InstallRequest{Credential: api.Credential{Code: code}, Product: proApp, OS: "linux", Arch: "amd64"})
	releases := "/v1/products/" + proApp + "/releases?os=linux&arch=amd64"
	for _, asked := range []string{"", "&root=1", "", "&root=2", "&root=3", "&root=9", ""} {
		t.Run("root"+asked, func(t *testing.T) {
			want := map[string]int{"&root=1": 2, "&root=2": 1}[asked]
			r := f.get(t, latest+asked)
			if want == 0 {
				decodeOK[oldLatestResponse](t, r)
				decodeOK[oldInstallResponse](t, f.post(t, "/v1/install?"+asked, install))
				decodeOK[oldReleasesResponse](t, f.get(t, releases+asked))
				if bytes.Contains(r.body, []byte(`"roots"`)) {
					t.Errorf("the answer names roots: %s", r.body)
				}
				return
			}
			resp := decodeOK[api.LatestResponse](t, r)
			if len(resp.Roots) != want {
				t.Fatalf("%d links, want %d", len(resp.Roots), want)
			}
			if asked == "&root=1" {
				newest, err := api.FollowRoots(trust1, resp.Roots)
				if err != nil {
					t.Fatalf("a client of root 1 cannot follow the chain: %v", err)
				}
				if _, err := api.VerifyKeySet(&resp.Keys, newest, time.Now()); err != nil {
					t.Fatalf("the key set does not verify with the newest root: %v", err)
				}
			}
			if got := decodeOK[api.InstallResponse](t, f.post(t, "/v1/install?"+asked, install)); len(got.Roots) != want {
				t.Errorf("install: %d links, want %d", len(got.Roots), want)
			}
			if got := decodeOK[api.ReleasesResponse](t, f.get(t, releases+asked)); len(got.Roots) != want {
				t.Errorf("releases: %d links, want %d", len(got.Roots), want)
			}
		})
	}
	for _, bad := range []string{"&root=0", "&root=-1", "&root=x", "&root=", "&root=1.0"} {
		wantError(t, f.get(t, latest+bad), http.StatusBadRequest, api.CodeBadRequest)
		wantError(t, f.get(t, releases+bad), http.StatusBadRequest, api.CodeBadRequest)
		wantError(t, f.post(t, "/v1/install?"+bad, install), http.StatusBadRequest, api.CodeBadRequest)
	}
}
