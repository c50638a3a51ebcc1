package server_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
)

// A reserve holds a paid update only for an update that exists: a
// published release newer than the installed one, or an offered
// downgrade. Before, a reserve for 99999999.0.0, or for the installed or
// an older version, held one (and completing it consumed it).
func TestReserveNamesARealUpdate(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	f.publish(t, "app", api.SeriesPro, "2.1.0-rc.1", "linux", "amd64")
	code := f.activate(t, "alice", 3)

	req := func(key, from, to string) api.ReserveRequest {
		r := reserveRequest(code, "app", key)
		r.FromVersion, r.ToVersion = from, to
		return r
	}
	for _, tc := range []struct {
		name, from, to string
		status         int
		code, message  string
	}{
		{"a version never published", "1.0.0", "99999999.0.0", http.StatusNotFound, api.CodeNotFound, "not published"},
		{"the installed version", "2.0.0", "2.0.0", http.StatusBadRequest, api.CodeBadRequest, "nothing to update"},
		{"an older version", "2.0.0", "1.0.0", http.StatusBadRequest, api.CodeBadRequest, "no downgrade"},
		{"a product never published", "1.0.0", "2.0.0", http.StatusNotFound, api.CodeNotFound, "not published"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := req("key-"+strings.ReplaceAll(tc.name, " ", "-"), tc.from, tc.to)
			if tc.name == "a product never published" {
				r.Product = "nosuch"
			}
			e := wantError(t, f.reserve(t, r), tc.status, tc.code)
			if !strings.Contains(e.Message, tc.message) {
				t.Errorf("message %q does not say %q", e.Message, tc.message)
			}
			f.wantCounts(t, code, counts(3, 3, 0, 0)) // nothing held
		})
	}

	t.Run("a newer published version, a pre-release too", func(t *testing.T) {
		res := f.mustReserve(t, code, "app", "real")
		decodeOK[api.ReservationResponse](t, f.release(t, res.Reservation.ID))
		rc := decodeOK[api.ReservationResponse](t, f.reserve(t, req("rc", "2.0.0", "2.1.0-rc.1")))
		decodeOK[api.ReservationResponse](t, f.release(t, rc.Reservation.ID))
	})

	t.Run("an offered downgrade", func(t *testing.T) {
		// 1.0.1 withdraws 2.0.0: installations of 2.0.0 move back to it.
		if _, err := f.admin.Publish(t.Context(), admin.PublishParams{Product: "app", Series: api.SeriesPro, Version: "1.0.1",
			OS: "linux", Arch: "amd64", File: bytes.NewReader([]byte("app 1.0.1")), DowngradeFrom: []string{"2.0.0"}}); err != nil {
			t.Fatal(err)
		}
		res := decodeOK[api.ReservationResponse](t, f.reserve(t, req("down", "2.0.0", "1.0.1")))
		decodeOK[api.ReservationResponse](t, f.release(t, res.Reservation.ID))
		// …but not from a version it does not withdraw.
		wantError(t, f.reserve(t, req("down-other", "2.1.0-rc.1", "1.0.1")), http.StatusBadRequest, api.CodeBadRequest)
	})
	f.wantCounts(t, code, counts(3, 3, 0, 0))
}
