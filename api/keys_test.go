package api

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/internal/i18n"
)

func genKey(t testing.TB) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pubOf(k ed25519.PrivateKey) PublicKey { return NewPublicKey(k.Public().(ed25519.PublicKey)) }

func signedKeySet(t testing.TB, ks KeySet, root ed25519.PrivateKey) Envelope {
	b, err := json.Marshal(ks)
	if err != nil {
		t.Fatal(err)
	}
	return Sign(PayloadKeys, b, root)
}

func TestVerifyKeySet(t *testing.T) {
	root, rel, on := genKey(t), genKey(t), genKey(t)
	trust := &Trust{Version: TrustVersion, RootKeys: []PublicKey{pubOf(root)}}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	good := KeySet{Version: 3, IssuedAt: now, ExpiresAt: now.Add(time.Hour), ReleaseKeys: []PublicKey{pubOf(rel)}, OnlineKeys: []PublicKey{pubOf(on)}}
	if ks, err := VerifyKeySet(ptr(signedKeySet(t, good, root)), trust, now); err != nil || ks.Version != 3 {
		t.Fatalf("good key set: %+v, %v", ks, err)
	}
	bad := func(edit func(*KeySet)) KeySet { ks := good; edit(&ks); return ks }
	for _, tc := range []struct {
		name string
		env  Envelope
		want string
	}{
		{"signed by the release key", signedKeySet(t, good, rel), "no signature by a trusted key"},
		{"expired", signedKeySet(t, good, root), "expired"}, // checked at now+2h below
		{"no online key", signedKeySet(t, bad(func(k *KeySet) { k.OnlineKeys = nil }), root), "no online key"},
		{"zero version", signedKeySet(t, bad(func(k *KeySet) { k.Version = 0 }), root), "not positive"},
		{"one key in two roles", signedKeySet(t, bad(func(k *KeySet) { k.OnlineKeys = k.ReleaseKeys }), root), "one role"},
		{"root as release key", signedKeySet(t, bad(func(k *KeySet) { k.ReleaseKeys = []PublicKey{pubOf(root)} }), root), "one role"},
		{"key with a false ID", signedKeySet(t, bad(func(k *KeySet) { k.ReleaseKeys = []PublicKey{{ID: pubOf(on).ID, Ed25519: pubOf(rel).Ed25519}} }), root), "not a well-formed"},
		{"a release envelope", Sign(PayloadRelease, []byte(`{}`), root), "expected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := now
			if tc.name == "expired" {
				at = now.Add(2 * time.Hour)
			}
			_, err := VerifyKeySet(&tc.env, trust, at)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
			if tc.name == "expired" && !errors.Is(err, ErrKeySetExpired) {
				t.Errorf("expired key set: %v is not ErrKeySetExpired", err)
			}
		})
	}
}

func TestParseTrust(t *testing.T) {
	root := pubOf(genKey(t))
	good, _ := json.Marshal(Trust{Version: TrustVersion, RootKeys: []PublicKey{root}})
	if tr, err := ParseTrust(good); err != nil || tr.RootKeys[0].ID != root.ID {
		t.Fatalf("good trust: %v", err)
	}
	for _, tc := range []struct{ name, data, want string }{
		{"version 1", `{"version":1,"release_keys":[],"online_keys":[]}`, "no longer read"},
		{"version 3", `{"version":3,"root_keys":[]}`, "not supported"},
		{"no root", `{"version":2,"root_keys":[]}`, "no root key"},
		{"unknown field", `{"version":2,"root_keys":[],"extra":1}`, "malformed"},
		{"short key", `{"version":2,"root_keys":[{"id":"00","ed25519":"AAAA"}]}`, "well-formed"},
		{"not JSON", `trust me`, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTrust([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
			// What to do is the caller's to say (the installer: get a
			// fresh trust.json); said here too, it was said twice.
			if err != nil && strings.Contains(err.Error(), "vendor") {
				t.Errorf("error %q gives advice; its callers do", err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// FuzzVerifyKeySet: whatever bytes arrive as a key set, verification never
// panics, and what it accepts is signed by the root, well formed and fresh.
func FuzzVerifyKeySet(f *testing.F) {
	root := genKey(f)
	trust := &Trust{Version: TrustVersion, RootKeys: []PublicKey{pubOf(root)}}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	good, _ := json.Marshal(KeySet{Version: 1, ExpiresAt: now.Add(time.Hour), ReleaseKeys: []PublicKey{pubOf(genKey(f))}, OnlineKeys: []PublicKey{pubOf(genKey(f))}})
	f.Add(good, true)
	f.Add([]byte(`{"version":1,"version":2}`), true)
	f.Add([]byte(`{"version":1,"expires_at":"2031-01-01T00:00:00Z","release_keys":[],"online_keys":[]}`), true)
	f.Add([]byte(`null`), false)
	f.Fuzz(func(t *testing.T, payload []byte, signed bool) {
		env := Envelope{PayloadType: PayloadKeys, Payload: payload}
		if signed {
			env = Sign(PayloadKeys, payload, root)
		}
		ks, err := VerifyKeySet(&env, trust, now)
		if err != nil {
			return
		}
		if !signed {
			t.Fatal("an unsigned key set verified")
		}
		if ks.Check(trust) != nil || !now.Before(ks.ExpiresAt) {
			t.Fatalf("accepted a bad key set %+v", ks)
		}
	})
}

// FuzzParseTrust: a trust file never panics the parser, and what parses
// names well-formed root keys.
func FuzzParseTrust(f *testing.F) {
	good, _ := json.Marshal(Trust{Version: TrustVersion, RootKeys: []PublicKey{pubOf(genKey(f))}})
	f.Add(good)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":2,"root_keys":[{"id":"x","ed25519":""}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ParseTrust(data)
		if err != nil {
			return
		}
		for _, k := range tr.RootKeys {
			if k.check() != nil {
				t.Fatalf("accepted a malformed root key %+v", k)
			}
		}
	})
}

// The trust file and key set errors read in Bulgarian, their causes
// still found by errors.Is and errors.As.
func TestTrustErrorsInBulgarian(t *testing.T) {
	bg := i18n.NewPrinter(i18n.Bulgarian)
	root, rel, on := genKey(t), genKey(t), genKey(t)
	trust := &Trust{Version: TrustVersion, RootKeys: []PublicKey{pubOf(root)}}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	good := KeySet{Version: 3, IssuedAt: now, ExpiresAt: now.Add(time.Hour), ReleaseKeys: []PublicKey{pubOf(rel)}, OnlineKeys: []PublicKey{pubOf(on)}}
	bad := func(edit func(*KeySet)) *Envelope { ks := good; edit(&ks); return ptr(signedKeySet(t, ks, root)) }
	verify := func(env *Envelope, at time.Time) error { _, err := VerifyKeySet(env, trust, at); return err }
	parse := func(s string) error { _, err := ParseTrust([]byte(s)); return err }
	var syntax *json.SyntaxError
	for _, tc := range []struct {
		name string
		err  error
		is   error // wrapped, or nil
		as   any   // errors.As target, or nil
		want string
	}{
		{"version 1", parse(`{"version":1}`), nil, nil,
			"файлът за доверие е версия 1 (от aktuald без основни ключове), която вече не се чете"},
		{"version 3", parse(`{"version":3,"root_keys":[]}`), nil, nil,
			"версия 3 на файла за доверие не се поддържа (този aktual чете версия 2)"},
		{"no root", parse(`{"version":2,"root_keys":[]}`), nil, nil, "във файла за доверие няма основен ключ"},
		{"not JSON", parse(`trust me`), nil, &syntax, "файлът за доверие е повреден: invalid character"},
		{"short key", parse(`{"version":2,"root_keys":[{"id":"00","ed25519":"AAAA"}]}`), nil, nil,
			`файл за доверие: ключът "00" не е правилен публичен ключ Ed25519`},
		{"expired", verify(ptr(signedKeySet(t, good, root)), now.Add(2*time.Hour)), ErrKeySetExpired, nil,
			"срокът на списъка с ключове изтече на 2030-01-01T01:00:00Z"},
		{"zero version", verify(bad(func(k *KeySet) { k.Version = 0 }), now), ErrSignature, nil,
			"списъкът с ключове е невалиден: версията на списъка с ключове е 0, а трябва да е положително число"},
		{"no online key", verify(bad(func(k *KeySet) { k.OnlineKeys = nil }), now), ErrSignature, nil,
			"в списъка с ключове няма ключ за издания или няма онлайн ключ"},
		{"release and online", verify(bad(func(k *KeySet) { k.OnlineKeys = k.ReleaseKeys }), now), ErrSignature, nil,
			"е посочен и като ключ за издания, и като онлайн ключ; всеки ключ има само една роля"},
		{"root as release", verify(bad(func(k *KeySet) { k.ReleaseKeys = []PublicKey{pubOf(root)} }), now), ErrSignature, nil,
			"е основен, но е посочен и като ключ за издания; всеки ключ има само една роля"},
		{"root as online", verify(bad(func(k *KeySet) { k.OnlineKeys = []PublicKey{pubOf(root)} }), now), ErrSignature, nil,
			"е основен, но е посочен и като онлайн ключ; всеки ключ има само една роля"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("no error")
			}
			if got := bg.Sprint(tc.err); !strings.Contains(got, tc.want) {
				t.Errorf("in Bulgarian: %q, want it to say %q", got, tc.want)
			}
			if tc.is != nil && !errors.Is(tc.err, tc.is) {
				t.Errorf("%v does not wrap %v", tc.err, tc.is)
			}
			if tc.as != nil && !errors.As(tc.err, tc.as) {
				t.Errorf("%v does not wrap its cause %T", tc.err, tc.as)
			}
		})
	}
}
