package hwkey

import (
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
)

// t0 is the tests' "now".
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixedKey derives a key from a one-byte label, so keys (and so signed
// seeds) are the same in every fuzz worker process.
func fixedKey(label byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = label
	}
	return ed25519.NewKeyFromSeed(seed)
}

func trustOf(keys ...ed25519.PrivateKey) []api.PublicKey {
	var out []api.PublicKey
	for _, k := range keys {
		out = append(out, api.NewPublicKey(k.Public().(ed25519.PublicKey)))
	}
	return out
}

// statement is a valid licence for the key fixedKey(keyLabel).
func statement(serial string, keyLabel byte) LicenceStatement {
	return LicenceStatement{
		Serial:    serial,
		Customer:  "Acme Ltd",
		Products:  []string{"abacus", "ledger"},
		PublicKey: fixedKey(keyLabel).Public().(ed25519.PublicKey),
		IssuedAt:  t0.Add(-24 * time.Hour),
		ExpiresAt: t0.Add(365 * 24 * time.Hour),
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signedLicence signs l's JSON as a licence with vendor.
func signedLicence(t testing.TB, vendor ed25519.PrivateKey, l LicenceStatement) api.Envelope {
	t.Helper()
	return api.Sign(PayloadLicence, mustJSON(t, l), vendor)
}

// licenceFileBytes assembles a licence file by hand: the licence of
// statement(serial, keyLabel) signed by vendor, holding private key seed.
func licenceFileBytes(t testing.TB, vendor ed25519.PrivateKey, serial string, keyLabel byte) []byte {
	t.Helper()
	return mustJSON(t, licenceFile{
		Version:    1,
		Licence:    signedLicence(t, vendor, statement(serial, keyLabel)),
		PrivateKey: fixedKey(keyLabel).Seed(),
	})
}

// issue returns a fresh licence file from Issue.
func issue(t testing.TB, vendor ed25519.PrivateKey, serial string) []byte {
	t.Helper()
	data, err := Issue(vendor, serial, "Acme Ltd", []string{"ledger"}, t0, t0.Add(30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
