package updater

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/hwkey"
	"github.com/aktual/aktual/server/ratelimit"
)

// Entitlement and KeyEntitlement against the real server: how many
// updates remain, with nothing reserved and nothing written.

const classicProduct = "abacus"

// classicKey publishes abacus in the classic series and issues hardware
// key serial; activated with n updates unless n is 0.
func (h *harness) classicKey(serial string, n int64, expires time.Time) hwkey.Key {
	h.t.Helper()
	h.publish(classicProduct, api.SeriesClassic, "1.0.0", []byte("abacus 1"))
	if n > 0 {
		if _, err := h.admin.ActivateClassic(h.t.Context(), "Acme", serial, n); err != nil {
			h.t.Fatal(err)
		}
	}
	lic, err := hwkey.Issue(h.inst.Keys.Release, serial, "Acme", nil, time.Now().Add(-time.Hour), expires)
	if err != nil {
		h.t.Fatal(err)
	}
	key, err := hwkey.ParseFile(lic)
	if err != nil {
		h.t.Fatal(err)
	}
	return key
}

// requests counts the requests that reach the server.
func (h *harness) requests() *atomic.Int64 {
	var n atomic.Int64
	h.wrap = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			next.ServeHTTP(w, r)
		})
	}
	return &n
}

func wantNothingWritten(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("the state directory holds %s", e.Name())
	}
}

func TestEntitlement(t *testing.T) {
	h := newHarness(t, 3)
	key := h.classicKey("HK-1", 2, time.Time{})
	before := h.counts()

	st, err := h.u.Entitlement(t.Context(), product, api.Credential{Code: h.code})
	if err != nil {
		t.Fatal(err)
	}
	want := api.EntitlementStatus{Product: product, Series: api.SeriesPro, Active: true, Remaining: 3}
	if *st != want {
		t.Errorf("code: %+v, want %+v", *st, want)
	}
	st, err = h.u.KeyEntitlement(t.Context(), classicProduct, key)
	if err != nil {
		t.Fatal(err)
	}
	want = api.EntitlementStatus{Product: classicProduct, Series: api.SeriesClassic, Active: true, Remaining: 2}
	if *st != want {
		t.Errorf("hardware key: %+v, want %+v", *st, want)
	}
	if after := h.counts(); after != before {
		t.Errorf("counts changed from %+v to %+v", before, after)
	}
	wantNothingWritten(t, h.u.StateDir)

	// After an update, one fewer.
	if _, err := h.update(h.code); err != nil {
		t.Fatal(err)
	}
	st, err = h.u.Entitlement(t.Context(), product, api.Credential{Code: h.code})
	if err != nil || st.Remaining != 2 || st.Held != 0 {
		t.Errorf("after an update: %+v %v, want 2 remaining", st, err)
	}
}

// TestEntitlementNoneLeft: none left is an answer, so that check can say
// so; only an update is refused with ErrExhausted.
func TestEntitlementNoneLeft(t *testing.T) {
	h := newHarness(t, 1)
	if _, err := h.update(h.code); err != nil {
		t.Fatal(err)
	}
	st, err := h.u.Entitlement(t.Context(), product, api.Credential{Code: h.code})
	if err != nil || st.Remaining != 0 {
		t.Errorf("%+v %v, want 0 remaining and no error", st, err)
	}
}

func TestEntitlementRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ask     func(h *harness) error
		kind    error
		says    string
		offline bool // refused before anything is sent
	}{
		{"unknown code", func(h *harness) error {
			c, _ := api.NewCode()
			_, err := h.u.Entitlement(h.t.Context(), product, api.Credential{Code: c.String()})
			return err
		}, ErrCredentialRejected, "not known to the server", false},
		{"mistyped code", func(h *harness) error {
			_, err := h.u.Entitlement(h.t.Context(), product, api.Credential{Code: h.code[:len(h.code)-1] + "x"})
			return err
		}, ErrCredentialRejected, "only digits", true},
		{"code for a classic product", func(h *harness) error {
			h.classicKey("HK-1", 1, time.Time{})
			_, err := h.u.Entitlement(h.t.Context(), classicProduct, api.Credential{Code: h.code})
			return err
		}, ErrCredentialRejected, "classic-series product", false},
		{"unknown product", func(h *harness) error {
			_, err := h.u.Entitlement(h.t.Context(), "nosuch", api.Credential{Code: h.code})
			return err
		}, nil, "no product named nosuch", false},
		{"no product", func(h *harness) error {
			_, err := h.u.Entitlement(h.t.Context(), "", api.Credential{Code: h.code})
			return err
		}, ErrUsage, "--product", true},
		{"key not activated", func(h *harness) error {
			_, err := h.u.KeyEntitlement(h.t.Context(), classicProduct, h.classicKey("HK-OFF", 0, time.Time{}))
			return err
		}, ErrCredentialRejected, "site access is not enabled for hardware key HK-OFF", false},
		{"key for a Pro product", func(h *harness) error {
			_, err := h.u.KeyEntitlement(h.t.Context(), product, h.classicKey("HK-1", 1, time.Time{}))
			return err
		}, ErrCredentialRejected, "Pro-series product", false},
		{"licence expired", func(h *harness) error {
			key := h.classicKey("HK-1", 1, time.Now().Add(-time.Minute))
			_, err := h.u.KeyEntitlement(h.t.Context(), classicProduct, key)
			return err
		}, ErrCredentialRejected, "expired", true},
		{"server failing", func(h *harness) error {
			h.wrap = func(http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
				})
			}
			_, err := h.u.Entitlement(h.t.Context(), product, api.Credential{Code: h.code})
			return err
		}, ErrNoConnection, "try again later", false},
		{"server gone", func(h *harness) error {
			h.ts.Close()
			_, err := h.u.Entitlement(h.t.Context(), product, api.Credential{Code: h.code})
			return err
		}, ErrNoConnection, "cannot reach", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 3)
			before := h.counts()
			var n *atomic.Int64
			if tc.offline {
				n = h.requests()
			}
			err := tc.ask(h)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.kind != nil {
				wantKind(t, err, tc.kind)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
			if n != nil && n.Load() != 0 {
				t.Errorf("%d requests reached the server, want none", n.Load())
			}
			if tc.name != "server gone" {
				if after := h.counts(); after != before {
					t.Errorf("counts changed from %+v to %+v", before, after)
				}
			}
			wantNothingWritten(t, h.u.StateDir)
		})
	}
}

// TestEntitlementRateLimited: wrong codes asked about are limited as
// wrong codes reserved with; the installer says to wait.
func TestEntitlementRateLimited(t *testing.T) {
	h := newHarness(t, 3)
	var err error
	for range ratelimit.DefaultAllowance + 2 {
		c, _ := api.NewCode()
		_, err = h.u.Entitlement(t.Context(), product, api.Credential{Code: c.String()})
		if errors.Is(err, ErrNoConnection) {
			break
		}
		wantKind(t, err, ErrCredentialRejected)
	}
	wantKind(t, err, ErrNoConnection)
	if !strings.Contains(err.Error(), "wait 1 second") {
		t.Errorf("error %q does not say how long to wait", err)
	}
}

// TestEntitlementInBulgarian: the server's refusal comes in the
// installer's language.
func TestEntitlementInBulgarian(t *testing.T) {
	h := newHarness(t, 3)
	h.u.Lang = "bg"
	c, _ := api.NewCode()
	_, err := h.u.Entitlement(t.Context(), product, api.Credential{Code: c.String()})
	wantKind(t, err, ErrCredentialRejected)
	if want := "сървърът не познава този код за обновяване"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}
