package netcheck

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func healthy(date time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		if !date.IsZero() {
			w.Header().Set("Date", date.UTC().Format(http.TimeFormat))
		}
		w.Write([]byte(`{"status":"ok","version":"9.9.9"}`))
	})
}

// serve runs h on loopback until the test ends.
func serve(t *testing.T, h http.Handler, withTLS bool) string {
	srv := httptest.NewUnstartedServer(h)
	if withTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv.URL
}

func find(r *Report, name string) *Result {
	for i := range r.Checks {
		if r.Checks[i].Name == name {
			return &r.Checks[i]
		}
	}
	return nil
}

func TestRun(t *testing.T) {
	closedPort := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr
	}()
	tests := []struct {
		name      string
		url       func(t *testing.T) string
		reachable bool
		failed    string // the check that fails, "" for none
		remedy    string
	}{
		{"healthy", func(t *testing.T) string {
			return serve(t, healthy(time.Now()), false)
		}, true, "", ""},
		{"not a URL", func(*testing.T) string { return "updates.example.com" }, false, CheckURL, "pass the server's address"},
		{"refused", func(*testing.T) string { return closedPort }, false, CheckTCP, "server is down or a firewall"},
		{"not an aktual server", func(t *testing.T) string {
			return serve(t, http.NotFoundHandler(), false)
		}, false, CheckHealth, "not an aktual update server"},
		{"clock off by an hour", func(t *testing.T) string {
			return serve(t, healthy(time.Now().Add(-time.Hour)), false)
		}, true, CheckClock, "set this computer's date and time"},
		{"bad certificate", func(t *testing.T) string {
			return serve(t, healthy(time.Now()), true) // its CA is not trusted
		}, false, CheckHealth, "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := (&Client{Timeout: 5 * time.Second}).Run(t.Context(), tt.url(t))
			if rep.Reachable() != tt.reachable {
				t.Errorf("Reachable = %v, want %v: %+v", rep.Reachable(), tt.reachable, rep.Checks)
			}
			if tt.failed == "" {
				if !rep.OK() || rep.ServerVersion != "9.9.9" {
					t.Fatalf("report = %+v", rep)
				}
				return
			}
			c := find(rep, tt.failed)
			if c == nil || c.OK {
				t.Fatalf("check %s did not fail: %+v", tt.failed, rep.Checks)
			}
			if !strings.Contains(c.Remedy, tt.remedy) {
				t.Errorf("remedy %q does not say %q", c.Remedy, tt.remedy)
			}
			if rep.OK() {
				t.Error("OK despite a failed check")
			}
		})
	}
}

func TestDNSFailureSaysWhatToDo(t *testing.T) {
	// .invalid never resolves (RFC 2606), on any network or none.
	rep := (&Client{Timeout: 5 * time.Second}).Run(t.Context(), "https://updates.invalid")
	c := find(rep, CheckDNS)
	if c == nil || c.OK || !strings.Contains(c.Remedy, "check the server name") {
		t.Fatalf("dns check = %+v", rep.Checks)
	}
}
