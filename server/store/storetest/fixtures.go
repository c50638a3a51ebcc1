package storetest

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// The suite's clock, products, credentials and the steps most scenarios
// start with.

// t0 is the suite's clock: a fixed instant with nanoseconds, so a backend
// that drops precision or time zones is caught.
var t0 = time.Date(2031, 3, 4, 5, 6, 7, 123456789, time.UTC)

const ttl = 7 * 24 * time.Hour

// product is the Pro-series product reservations are made for.
const product = "studio"

// codeHash stands in for the server's keyed hash of a customer's code.
func codeHash(name string) []byte {
	h := sha256.Sum256([]byte("storetest code " + name))
	return h[:]
}

func proCredential(name string) store.Credential {
	return store.Credential{CodeHash: codeHash(name)}
}

func activatePro(t *testing.T, s store.Store, customer string, n int64) (store.Entitlement, store.Credential) {
	t.Helper()
	c := proCredential(customer)
	e, _, err := s.Activate(t.Context(), store.ActivateParams{
		Customer: customer, Series: api.SeriesPro, Credential: c, CodeHint: "12345", Updates: n, Now: t0,
	})
	if err != nil {
		t.Fatalf("Activate(pro %s, %d): %v", customer, n, err)
	}
	return e, c
}

func activateClassic(t *testing.T, s store.Store, customer, serial string, n int64) (store.Entitlement, bool, error) {
	t.Helper()
	return s.Activate(t.Context(), store.ActivateParams{
		Customer: customer, Series: api.SeriesClassic, Credential: store.Credential{HWKeySerial: serial}, Updates: n, Now: t0,
	})
}

// reserveParams is a Pro reservation for product 1.0.0 → 2.0.0 on machine m1.
func reserveParams(c store.Credential, key string) store.ReserveParams {
	return store.ReserveParams{
		IdempotencyKey: key, Credential: c, Series: api.SeriesPro, Product: product,
		FromVersion: "1.0.0", ToVersion: "2.0.0", MachineID: "m1", Now: t0, TTL: ttl,
	}
}

func mustReserve(t *testing.T, s store.Store, p store.ReserveParams) (store.Reservation, store.Entitlement) {
	t.Helper()
	r, e, err := s.Reserve(t.Context(), p)
	if err != nil {
		t.Fatalf("Reserve(%s): %v", p.IdempotencyKey, err)
	}
	return r, e
}

func release(version, goos, arch, sum string) store.Release {
	return store.Release{
		Product: product, Series: api.SeriesPro, Version: version, OS: goos, Arch: arch,
		SHA256: sum, Size: 1234, Envelope: []byte(`{"signed":"` + version + `"}`), PublishedAt: t0,
	}
}

// sum returns a distinct lowercase-hex sha256 per name.
func sum(name string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(name))) }
