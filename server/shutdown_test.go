package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server"
)

// TestReadyzWhileDraining: once the server is told it shuts down, /readyz
// answers 503 (a load balancer drains the replica) while every other
// request is still served, each answer asking to close its connection.
func TestReadyzWhileDraining(t *testing.T) {
	var srv *server.Server
	f := newFixtureWith(t, func(s *server.Server) { srv = s })
	decodeOK[api.Health](t, f.get(t, "/readyz"))

	srv.Drain()
	r := f.get(t, "/readyz")
	e := wantError(t, r, http.StatusServiceUnavailable, api.CodeInternal)
	if !strings.Contains(e.Message, "shutting down") {
		t.Errorf("message %q does not say the server is shutting down", e.Message)
	}
	resp, err := f.http.Get(f.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !resp.Close {
		t.Error("a draining server's answer does not close the connection")
	}
	bg := wantError(t, f.get(t, "/readyz", "Accept-Language", "bg"), http.StatusServiceUnavailable, api.CodeInternal)
	if bg.Message == e.Message {
		t.Errorf("message %q is not in Bulgarian", bg.Message)
	}
	// Still serving: liveness, and the API.
	decodeOK[api.Health](t, f.get(t, "/healthz"))
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 1)
	f.mustReserve(t, code, "app", "k1")
	scrape(t, f.http, f.url).want(t, "aktuald_draining{}", 1)
}
