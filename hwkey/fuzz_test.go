package hwkey

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aktual/aktual/api"
)

func FuzzParseFile(f *testing.F) {
	valid := licenceFileBytes(f, fixedKey(1), "HK-1", 7)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(issue(f, fixedKey(4), "HK-2")) // random key pair: signed by an untrusted key, so checkSigned holds
	f.Add(licenceFileBytes(f, fixedKey(2), "HK-3", 8))
	f.Add([]byte(strings.Replace(string(valid), `"version":1,`, `"version":1,"version":1,`, 1)))
	f.Add([]byte(`{}`))
	trust := trustOf(fixedKey(1))

	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := ParseFile(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseFile error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		// An accepted file is a sane licence whose key pair signs for it.
		lic := key.Licence()
		if err := lic.validate(); err != nil {
			t.Fatalf("accepted an invalid licence: %v", err)
		}
		sig, err := key.Sign(t.Context(), []byte("c"))
		if err != nil || !VerifyChallenge(lic.PublicKey, []byte("c"), sig) {
			t.Fatalf("an accepted key cannot prove itself: %v", err)
		}
		// Whatever it holds, only a licence the vendor signed verifies.
		if v, err := VerifyLicence(key.Envelope(), trust); err == nil {
			checkSigned(t, key.Envelope().Payload, v)
		}
	})
}

func FuzzVerifyLicence(f *testing.F) {
	vendor := fixedKey(1)
	for _, env := range []api.Envelope{
		signedLicence(f, vendor, statement("HK-1", 7)),
		signedLicence(f, vendor, statement("HK-2", 8)),
		signedLicence(f, fixedKey(2), statement("HK-1", 7)),
		api.Sign(api.PayloadRelease, mustJSON(f, statement("HK-1", 7)), vendor),
		api.Sign(PayloadLicence, []byte(`{"serial":"HK-1","serial":"HK-2"}`), vendor),
	} {
		f.Add(mustJSON(f, env))
	}
	f.Add([]byte(`{"payload_type":"aktual.licence.v1","payload":"e30=","signatures":[]}`))
	trust := trustOf(vendor, fixedKey(3))

	f.Fuzz(func(t *testing.T, data []byte) {
		var env api.Envelope
		// Lenient decoding: it is VerifyLicence under test, not the JSON.
		if json.Unmarshal(data, &env) != nil {
			return
		}
		lic, err := VerifyLicence(env, trust)
		if err != nil {
			if !errors.Is(err, ErrForged) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("VerifyLicence error wraps neither ErrForged nor ErrMalformed: %v", err)
			}
			return
		}
		checkSigned(t, env.Payload, lic)
	})
}

// signedPayloads are every licence payload the trusted vendor key signs in
// the fuzz seeds: the fuzzer cannot forge an Ed25519 signature, so these
// are the only payloads VerifyLicence may accept.
var signedPayloads = func() [][]byte {
	var out [][]byte
	for _, l := range []LicenceStatement{statement("HK-1", 7), statement("HK-2", 8)} {
		b, err := json.Marshal(l)
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	return out
}()

func checkSigned(t *testing.T, payload []byte, lic LicenceStatement) {
	t.Helper()
	for _, p := range signedPayloads {
		if bytes.Equal(p, payload) {
			if err := lic.validate(); err != nil {
				t.Fatalf("accepted an invalid licence: %v", err)
			}
			return
		}
	}
	t.Fatalf("VerifyLicence accepted a payload the trusted key never signed: %q", payload)
}
