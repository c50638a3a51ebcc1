package hwkey

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
)

func TestIssueParseVerifyRoundTrip(t *testing.T) {
	vendor := fixedKey(1)
	data, err := Issue(vendor, "HK-0042", "Acme Ltd", []string{"abacus", "ledger"}, t0, t0.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, filepath.Join(t.TempDir(), "acme.aktual-licence"), data)
	key, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if key.Source() != path {
		t.Errorf("Source = %q, want %q", key.Source(), path)
	}
	lic, err := VerifyLicence(key.Envelope(), trustOf(fixedKey(9), vendor))
	if err != nil {
		t.Fatalf("VerifyLicence: %v", err)
	}
	want := key.Licence()
	if lic.Serial != "HK-0042" || lic.Customer != "Acme Ltd" || strings.Join(lic.Products, ",") != "abacus,ledger" ||
		!lic.IssuedAt.Equal(t0) || !lic.ExpiresAt.Equal(t0.Add(48*time.Hour)) || !bytes.Equal(lic.PublicKey, want.PublicKey) {
		t.Errorf("verified licence = %+v, file says %+v", lic, want)
	}
	if err := lic.Check(t0, "ledger"); err != nil {
		t.Errorf("Check: %v", err)
	}

	// The key proves possession with the key pair the licence names.
	challenge := []byte("server nonce 1")
	sig, err := key.Sign(t.Context(), challenge)
	if err != nil {
		t.Fatal(err)
	}
	if !VerifyChallenge(lic.PublicKey, challenge, sig) {
		t.Error("a key's signature over its challenge does not verify")
	}

	// Two issues never share a key pair.
	other, err := ParseFile(issue(t, vendor, "HK-0042"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other.Licence().PublicKey, lic.PublicKey) {
		t.Error("two issued keys share a public key")
	}
}

func TestIssueNeverExpires(t *testing.T) {
	data, err := Issue(fixedKey(1), "HK-1", "Acme", nil, t0, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParseFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(key.Envelope().Payload, []byte("expires_at")) {
		t.Errorf("a licence without expiry states one: %s", key.Envelope().Payload)
	}
	lic := key.Licence()
	if err := lic.Check(t0.Add(100*365*24*time.Hour), "anything"); err != nil {
		t.Errorf("a licence for every product without expiry: %v", err)
	}
}

func TestIssueRefusesBadInput(t *testing.T) {
	v := fixedKey(1)
	tests := []struct {
		name     string
		vendor   ed25519.PrivateKey
		serial   string
		customer string
		products []string
		expires  time.Time
	}{
		{"empty serial", v, "", "Acme", nil, time.Time{}},
		{"path in serial", v, "../etc", "Acme", nil, time.Time{}},
		{"no customer", v, "HK-1", "  ", nil, time.Time{}},
		{"escape in customer", v, "HK-1", "Acme\x1b[2J", nil, time.Time{}},
		{"bad product", v, "HK-1", "Acme", []string{"a b"}, time.Time{}},
		{"expires before issue", v, "HK-1", "Acme", nil, t0.Add(-time.Hour)},
		{"no vendor key", nil, "HK-1", "Acme", nil, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if data, err := Issue(tt.vendor, tt.serial, tt.customer, tt.products, t0, tt.expires); err == nil {
				t.Fatalf("Issue accepted it: %s", data)
			}
		})
	}
}

func TestVerifyLicenceAttacks(t *testing.T) {
	vendor, otherVendor := fixedKey(1), fixedKey(2)
	trust := trustOf(vendor)
	good := signedLicence(t, vendor, statement("HK-1", 7))
	payload := mustJSON(t, statement("HK-1", 7))

	tamper := func(f func(e *api.Envelope)) api.Envelope {
		e := signedLicence(t, vendor, statement("HK-1", 7))
		f(&e)
		return e
	}
	// signedRaw is a vendor-signed licence whose payload is exactly raw.
	signedRaw := func(raw string) api.Envelope { return api.Sign(PayloadLicence, []byte(raw), vendor) }
	signedWith := func(f func(l *LicenceStatement)) api.Envelope {
		l := statement("HK-1", 7)
		f(&l)
		return signedLicence(t, vendor, l)
	}
	validRaw := string(payload)

	tests := []struct {
		name  string
		env   api.Envelope
		trust []api.PublicKey
		want  error // nil: accepted
	}{
		{"valid", good, trust, nil},
		{"valid among other trusted keys", good, trustOf(otherVendor, vendor), nil},
		{"forged: signed by another vendor key", signedLicence(t, otherVendor, statement("HK-1", 7)), trust, ErrForged},
		{"forged: another key's signature under the trusted key id", tamper(func(e *api.Envelope) {
			e.Signatures[0].Sig = signedLicence(t, otherVendor, statement("HK-1", 7)).Signatures[0].Sig
		}), trust, ErrForged},
		{"payload modified after signing", tamper(func(e *api.Envelope) {
			e.Payload = bytes.Replace(e.Payload, []byte("HK-1"), []byte("HK-2"), 1)
		}), trust, ErrForged},
		{"products widened after signing", tamper(func(e *api.Envelope) {
			e.Payload = bytes.Replace(e.Payload, []byte(`"abacus","ledger"`), []byte(``), 1)
		}), trust, ErrForged},
		{"unsigned", tamper(func(e *api.Envelope) { e.Signatures = nil }), trust, ErrForged},
		{"truncated signature", tamper(func(e *api.Envelope) { e.Signatures[0].Sig = e.Signatures[0].Sig[:32] }), trust, ErrForged},
		{"no trusted keys", good, nil, ErrForged},
		{"wrong payload type: a release", api.Sign(api.PayloadRelease, payload, vendor), trust, ErrMalformed},
		{"release signature relabelled as licence", func() api.Envelope {
			e := api.Sign(api.PayloadRelease, payload, vendor)
			e.PayloadType = PayloadLicence
			return e
		}(), trust, ErrForged},
		{"signed duplicate key", signedRaw(strings.Replace(validRaw, `{"serial":"HK-1",`, `{"serial":"HK-1","serial":"HK-2",`, 1)), trust, ErrMalformed},
		{"signed duplicate key differing in case", signedRaw(strings.Replace(validRaw, `{"serial":"HK-1",`, `{"serial":"HK-1","Serial":"HK-2",`, 1)), trust, ErrMalformed},
		{"signed unknown field", signedRaw(strings.Replace(validRaw, `{"serial"`, `{"admin":true,"serial"`, 1)), trust, ErrMalformed},
		{"signed trailing data", signedRaw(validRaw + `{}`), trust, ErrMalformed},
		{"signed not JSON", signedRaw(`serial=HK-1`), trust, ErrMalformed},
		{"empty serial", signedWith(func(l *LicenceStatement) { l.Serial = "" }), trust, ErrMalformed},
		{"path in serial", signedWith(func(l *LicenceStatement) { l.Serial = "../HK-1" }), trust, ErrMalformed},
		{"short public key", signedWith(func(l *LicenceStatement) { l.PublicKey = l.PublicKey[:31] }), trust, ErrMalformed},
		{"no public key", signedWith(func(l *LicenceStatement) { l.PublicKey = nil }), trust, ErrMalformed},
		{"no customer", signedWith(func(l *LicenceStatement) { l.Customer = "" }), trust, ErrMalformed},
		{"no issue date", signedWith(func(l *LicenceStatement) { l.IssuedAt = time.Time{} }), trust, ErrMalformed},
		{"bad product name", signedWith(func(l *LicenceStatement) { l.Products = []string{"../ledger"} }), trust, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lic, err := VerifyLicence(tt.env, tt.trust)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("VerifyLicence: %v", err)
				}
				if lic.Serial != "HK-1" {
					t.Fatalf("serial = %q", lic.Serial)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyLicence = %+v, %v; want an error wrapping %v", lic, err, tt.want)
			}
			if lic.Serial != "" || lic.PublicKey != nil {
				t.Errorf("a refused licence came back filled in: %+v", lic)
			}
		})
	}
}

func TestParseFileBadInput(t *testing.T) {
	vendor := fixedKey(1)
	valid := licenceFileBytes(t, vendor, "HK-1", 7)
	// edit decodes the valid file, changes it and encodes it again.
	edit := func(f func(lf *licenceFile)) []byte {
		var lf licenceFile
		if err := json.Unmarshal(valid, &lf); err != nil {
			t.Fatal(err)
		}
		f(&lf)
		return mustJSON(t, lf)
	}
	validStr := string(valid)

	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"valid", valid, true},
		{"valid, indented as Issue writes it", issue(t, vendor, "HK-1"), true},
		{"padded with whitespace up to the limit", append(bytes.Clone(valid), bytes.Repeat([]byte(" "), MaxLicenceFile-len(valid))...), true},
		{"oversize (whitespace past the limit)", append(bytes.Clone(valid), bytes.Repeat([]byte(" "), MaxLicenceFile-len(valid)+1)...), false},
		{"empty", nil, false},
		{"truncated", valid[:len(valid)/2], false},
		{"truncated by one byte", valid[:len(valid)-1], false},
		{"private key of another key", edit(func(lf *licenceFile) { lf.PrivateKey = fixedKey(8).Seed() }), false},
		{"private key too short", edit(func(lf *licenceFile) { lf.PrivateKey = lf.PrivateKey[:31] }), false},
		{"private key as a 64-byte private key", edit(func(lf *licenceFile) { lf.PrivateKey = fixedKey(7) }), false},
		{"no private key", edit(func(lf *licenceFile) { lf.PrivateKey = nil }), false},
		{"wrong payload type: a release", edit(func(lf *licenceFile) { lf.Licence.PayloadType = api.PayloadRelease }), false},
		{"version 2", edit(func(lf *licenceFile) { lf.Version = 2 }), false},
		{"no version", []byte(strings.Replace(validStr, `"version":1,`, ``, 1)), false},
		{"duplicate key", []byte(strings.Replace(validStr, `"version":1,`, `"version":1,"version":1,`, 1)), false},
		{"duplicate key in the envelope", []byte(strings.Replace(validStr, `"payload_type"`, `"payload_type":"x","payload_type"`, 1)), false},
		{"unknown field", []byte(strings.Replace(validStr, `"version":1,`, `"version":1,"comment":"hi",`, 1)), false},
		{"trailing data", append(bytes.Clone(valid), `{}`...), false},
		{"payload not a licence", edit(func(lf *licenceFile) { lf.Licence.Payload = []byte(`{"product":"ledger"}`) }), false},
		{"empty serial", edit(func(lf *licenceFile) {
			l := statement("", 7)
			lf.Licence.Payload = mustJSON(t, l)
		}), false},
		{"not JSON", []byte("HK-1\n"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ParseFile(tt.data)
			if tt.ok {
				if err != nil {
					t.Fatalf("ParseFile: %v", err)
				}
				if key.Licence().Serial != "HK-1" {
					t.Fatalf("serial = %q", key.Licence().Serial)
				}
				return
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseFile = %v, %v; want an error wrapping ErrMalformed", key, err)
			}
		})
	}
}

// ParseFile does not check the vendor's signature (the installer may have
// no trust keys yet); VerifyLicence on its envelope does.
func TestParseFileLeavesSignatureToVerifyLicence(t *testing.T) {
	forged := licenceFileBytes(t, fixedKey(2), "HK-1", 7)
	key, err := ParseFile(forged)
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	if _, err := VerifyLicence(key.Envelope(), trustOf(fixedKey(1))); !errors.Is(err, ErrForged) {
		t.Fatalf("VerifyLicence of a licence signed by another vendor = %v, want ErrForged", err)
	}
}

func TestReadFileBounded(t *testing.T) {
	dir := t.TempDir()
	big := append(licenceFileBytes(t, fixedKey(1), "HK-1", 7), bytes.Repeat([]byte(" "), 1<<20)...)
	path := writeFile(t, filepath.Join(dir, "aktual.licence"), big)
	if _, err := ReadFile(path); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), path) {
		t.Fatalf("ReadFile of a 1 MiB file = %v; want ErrMalformed naming the file", err)
	}
	if _, err := ReadFile(dir); !errors.Is(err, ErrMalformed) {
		t.Fatalf("ReadFile of a folder = %v; want ErrMalformed", err)
	}
}

func TestKeyReturnsCopies(t *testing.T) {
	key, err := ParseFile(licenceFileBytes(t, fixedKey(1), "HK-1", 7))
	if err != nil {
		t.Fatal(err)
	}
	l := key.Licence()
	l.Products[0] = "everything"
	l.PublicKey[0] ^= 1
	e := key.Envelope()
	e.Payload[0] = 'X'
	e.Signatures[0].Sig[0] ^= 1
	if _, err := VerifyLicence(key.Envelope(), trustOf(fixedKey(1))); err != nil {
		t.Fatalf("changing returned values changed the key: %v", err)
	}
	if key.Licence().Products[0] != "abacus" {
		t.Fatal("changing the returned licence changed the key's")
	}
}

func TestCheck(t *testing.T) {
	l := statement("HK-1", 7) // abacus and ledger, expires t0 + 365 days
	all := l
	all.Products = nil
	forever := l
	forever.ExpiresAt = time.Time{}
	tests := []struct {
		name    string
		lic     LicenceStatement
		now     time.Time
		product string
		want    error
	}{
		{"valid", l, t0, "ledger", nil},
		{"product check skipped", l, t0, "", nil},
		{"just before expiry", l, l.ExpiresAt.Add(-time.Second), "ledger", nil},
		{"at expiry", l, l.ExpiresAt, "ledger", ErrExpired},
		{"expired", l, l.ExpiresAt.Add(time.Hour), "ledger", ErrExpired},
		{"expired, product check skipped", l, l.ExpiresAt.Add(time.Hour), "", ErrExpired},
		{"wrong product", l, t0, "spreadsheet", ErrNotLicensed},
		{"product differs in case", l, t0, "Ledger", ErrNotLicensed},
		{"every product", all, t0, "spreadsheet", nil},
		{"never expires", forever, t0.Add(100 * 365 * 24 * time.Hour), "ledger", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.lic.Check(tt.now, tt.product)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Check = %v, want an error wrapping %v", err, tt.want)
			}
			// The message names the key and tells the customer what to do.
			if msg := err.Error(); !strings.Contains(msg, "HK-1") || !strings.Contains(msg, "ask your vendor") {
				t.Errorf("message %q does not name the key or say what to do", msg)
			}
		})
	}
}
