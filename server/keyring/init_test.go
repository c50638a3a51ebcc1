package keyring

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
)

// secretFiles are the files under keys/ that must stay private.
func secretFiles(k *Keys) []string {
	return []string{rootKeyPEM, keyFile(api.RoleRelease, k.KeySet.ReleaseKeys[0].ID),
		keyFile(api.RoleOnline, k.KeySet.OnlineKeys[0].ID), codeSecretFile, keySetFile}
}

func mustInit(t *testing.T, d Dir) *Keys {
	t.Helper()
	k, err := d.Init(nil)
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	return k
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func sameKeys(a, b *Keys) bool {
	return a.Release.Equal(b.Release) && a.Online.Equal(b.Online) && bytes.Equal(a.CodeSecret, b.CodeSecret) &&
		a.Root.Equal(b.Root) && a.KeySet.Version == b.KeySet.Version
}

func TestInitCreatesLayout(t *testing.T) {
	// A directory that does not exist yet, parents included.
	d := newTestDir(filepath.Join(t.TempDir(), "var", "aktuald"))
	k := mustInit(t, d)

	for _, dir := range []string{filepath.Dir(d.Trust), d.Keys} {
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() {
			t.Errorf("%s is not a directory (%v)", dir, err)
		}
	}
	for _, name := range secretFiles(k) {
		t.Run(name, func(t *testing.T) {
			fi, err := os.Stat(d.path(name))
			if err != nil {
				t.Fatal(err)
			}
			// Windows has no Unix permission bits to check.
			if runtime.GOOS != "windows" {
				if perm := fi.Mode().Perm(); perm != 0o600 {
					t.Errorf("%s has permissions %v, want -rw-------", name, perm)
				}
			}
		})
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(d.Keys)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("keys directory has permissions %v, want none for group or others", perm)
		}
	}
	if len(k.CodeSecret) != secretSize || k.Release.Equal(k.Online) {
		t.Errorf("keys are not what they should be: %d-byte code secret, release key equals online key: %v",
			len(k.CodeSecret), k.Release.Equal(k.Online))
	}

	data := readFile(t, d.Trust)
	trust, err := api.ParseTrust(data)
	if err != nil {
		t.Fatalf("ParseTrust(%s): %v", "trust.json", err)
	}
	root := publicOf(k.Root)
	if trust.Version != api.TrustVersion || len(trust.RootKeys) != 1 ||
		trust.RootKeys[0].ID != root.ID || !bytes.Equal(trust.RootKeys[0].Ed25519, root.Ed25519) {
		t.Errorf("trust file %s does not hold the instance's root public key %+v", data, root)
	}
	// The key set is signed by that root, names the instance's keys, and
	// is good for a year.
	ks, err := api.VerifyKeySet(&k.KeySetEnvelope, trust, time.Now())
	if err != nil {
		t.Fatalf("VerifyKeySet: %v", err)
	}
	if ks.Version != 1 || len(ks.ReleaseKeys) != 1 || len(ks.OnlineKeys) != 1 ||
		ks.ReleaseKeys[0].ID != publicOf(k.Release).ID || ks.OnlineKeys[0].ID != publicOf(k.Online).ID ||
		ks.ExpiresAt.Sub(ks.IssuedAt) != KeySetTTL {
		t.Errorf("key set %+v does not name the instance's keys", ks)
	}
	// Only public halves leave keys/.
	for name, secret := range map[string][]byte{
		"root seed": k.Root.Seed(), "release seed": k.Release.Seed(), "online seed": k.Online.Seed(), "code secret": k.CodeSecret,
	} {
		if bytes.Contains(data, []byte(base64.StdEncoding.EncodeToString(secret))) || bytes.Contains(data, secret) {
			t.Errorf("trust file contains the %s", name)
		}
	}
}

func TestInitKeepsKeys(t *testing.T) {
	d := newTestDir(t.TempDir())
	first := mustInit(t, d)
	trust := readFile(t, d.Trust)
	files := map[string][]byte{}
	for _, name := range secretFiles(first) {
		files[name] = readFile(t, d.path(name))
	}

	for _, tc := range []struct {
		name   string
		before func(t *testing.T)
	}{
		{"again", func(t *testing.T) {}},
		{"trust file lost", func(t *testing.T) {
			if err := os.Remove(d.Trust); err != nil {
				t.Fatal(err)
			}
		}},
		{"trust file edited", func(t *testing.T) {
			if err := os.WriteFile(d.Trust, []byte(`{"version":1}`), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.before(t)
			again := mustInit(t, d)
			if !sameKeys(first, again) {
				t.Error("Init replaced a key")
			}
			if got := readFile(t, d.Trust); !bytes.Equal(got, trust) {
				t.Errorf("trust file changed:\n%s\nwant:\n%s", got, trust)
			}
			for name, want := range files {
				if got := readFile(t, d.path(name)); !bytes.Equal(got, want) {
					t.Errorf("%s was rewritten", name)
				}
			}
		})
	}
}

func TestInitConcurrent(t *testing.T) {
	d := newTestDir(filepath.Join(t.TempDir(), "data"))
	const n = 8
	keys := make([]*Keys, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = d.Init(nil) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Init #%d: %v", i, errs[i])
		}
		if !sameKeys(keys[0], keys[i]) {
			t.Errorf("Init #%d returned other keys than #0: one of two racing starts would sign with a lost key", i)
		}
	}
	if again := mustInit(t, d); !sameKeys(keys[0], again) {
		t.Error("the keys on disk are not the ones the racing Inits returned")
	}
	// No temporary file is left behind (the lock file stays, empty).
	entries, err := os.ReadDir(d.Keys)
	if err != nil {
		t.Fatal(err)
	}
	entries = slices.DeleteFunc(entries, func(e os.DirEntry) bool { return e.Name() == ".lock" })
	if len(entries) != len(secretFiles(keys[0])) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("keys/ holds %v, want only %v", names, secretFiles(keys[0]))
	}
}

func TestInitRefusesCorruptKeys(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }

	const releaseKeyPEM, onlineKeyPEM = "release", "online" // the active key of the role
	for _, tc := range []struct {
		name, file string
		content    []byte
		message    string
	}{
		{"root key garbage", rootKeyPEM, []byte("not a key at all"), "not a PEM private key"},
		{"root key is ECDSA", rootKeyPEM, pemOf("PRIVATE KEY", ecDER), "does not hold an Ed25519 key"},
		{"key set garbage", keySetFile, []byte("{"), "damaged"},
		{"key set signed by another root", keySetFile, func() []byte {
			other, _ := generateKey()
			env, _ := signKeySet(&api.KeySet{Version: 9, ExpiresAt: time.Now().Add(time.Hour),
				ReleaseKeys: []api.PublicKey{publicOf(other)}, OnlineKeys: []api.PublicKey{publicOf(freshKey(t))}}, other)
			return env
		}(), "not signed by this root key"},
		{"release key garbage", releaseKeyPEM, []byte("not a key at all"), "not a PEM private key"},
		{"release key empty", releaseKeyPEM, nil, "not a PEM private key"},
		{"release key truncated", releaseKeyPEM, pemOf("PRIVATE KEY", []byte{0x30, 0x2e, 0x02}), releaseKeyPEM},
		{"release key of another type", releaseKeyPEM, pemOf("RSA PRIVATE KEY", []byte{1, 2, 3}), "not a PEM private key"},
		{"release key is ECDSA", releaseKeyPEM, pemOf("PRIVATE KEY", ecDER), "does not hold an Ed25519 key"},
		{"online key garbage", onlineKeyPEM, []byte("-----BEGIN PRIVATE KEY-----\n!!!\n"), "not a PEM private key"},
		{"online key is ECDSA", onlineKeyPEM, pemOf("PRIVATE KEY", ecDER), "does not hold an Ed25519 key"},
		{"code secret short", codeSecretFile, []byte("short"), "has 5 bytes, expected 32"},
		{"code secret empty", codeSecretFile, nil, "has 0 bytes"},
		{"code secret long", codeSecretFile, bytes.Repeat([]byte{7}, 33), "has 33 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDir(t.TempDir())
			k := mustInit(t, d)
			file := tc.file
			switch file {
			case releaseKeyPEM:
				file = keyFile(api.RoleRelease, k.KeySet.ReleaseKeys[0].ID)
			case onlineKeyPEM:
				file = keyFile(api.RoleOnline, k.KeySet.OnlineKeys[0].ID)
			}
			path := d.path(file)
			if err := os.WriteFile(path, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := d.Init(nil)
			if err == nil {
				t.Fatal("Init accepted a corrupt key file")
			}
			// The message names the file and what is wrong with it.
			if msg := err.Error(); !strings.Contains(msg, file) || !strings.Contains(msg, tc.message) {
				t.Errorf("error %q does not name %s and say %q", msg, file, tc.message)
			}
			// A corrupt key is reported, never silently replaced.
			if got := readFile(t, path); !bytes.Equal(got, tc.content) {
				t.Error("Init replaced the corrupt key file")
			}
		})
	}
}

func TestInitRefusesAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newTestDir(path).Init(nil); err == nil || !strings.Contains(err.Error(), "creating the keys folder") {
		t.Errorf("Init over a file: error %v, want one about creating the keys folder", err)
	}
}

func TestCodeHash(t *testing.T) {
	secretA := bytes.Repeat([]byte{1}, secretSize)
	secretB := bytes.Repeat([]byte{2}, secretSize)
	code1, err := api.NewCode()
	if err != nil {
		t.Fatal(err)
	}
	code2, err := api.NewCode()
	if err != nil {
		t.Fatal(err)
	}
	for code2 == code1 {
		if code2, err = api.NewCode(); err != nil {
			t.Fatal(err)
		}
	}

	h := CodeHash(secretA, code1)
	if len(h) != 32 {
		t.Fatalf("hash is %d bytes, want 32", len(h))
	}
	for _, tc := range []struct {
		name  string
		other []byte
		same  bool
	}{
		{"same secret and code", CodeHash(bytes.Clone(secretA), code1), true},
		{"same code typed otherwise", func() []byte {
			c, err := api.ParseCode(strings.ReplaceAll(code1.String(), "-", " "))
			if err != nil {
				t.Fatal(err)
			}
			return CodeHash(secretA, c)
		}(), true},
		{"another secret", CodeHash(secretB, code1), false},
		{"another code", CodeHash(secretA, code2), false},
		{"no secret", CodeHash(nil, code1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if bytes.Equal(h, tc.other) != tc.same {
				t.Errorf("hashes equal: %v, want %v", !tc.same, tc.same)
			}
		})
	}

	// Each instance has its own secret, so its hashes are its own.
	a := mustInit(t, newTestDir(t.TempDir()))
	b := mustInit(t, newTestDir(t.TempDir()))
	if bytes.Equal(CodeHash(a.CodeSecret, code1), CodeHash(b.CodeSecret, code1)) {
		t.Error("two instances hash a code alike")
	}
}

func freshKey(t *testing.T) ed25519.PrivateKey {
	k, err := generateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}
