package keyring

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
)

// verifyAsClient checks the stored key set as a client would, with the
// trust.json on disk.
func verifyAsClient(t *testing.T, d Dir, now time.Time) *api.KeySet {
	t.Helper()
	trust, err := api.ParseTrust(readFile(t, d.Trust))
	if err != nil {
		t.Fatal(err)
	}
	k, err := d.load(nil)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := api.VerifyKeySet(&k.KeySetEnvelope, trust, now)
	if err != nil {
		t.Fatalf("a client refuses the key set: %v", err)
	}
	return ks
}

func TestRotateAndRevoke(t *testing.T) {
	d := newTestDir(t.TempDir())
	first := mustInit(t, d)
	trust := readFile(t, d.Trust)
	now := time.Now().UTC()

	k, fresh, err := d.RotateKey(api.RoleOnline, nil)
	if err != nil {
		t.Fatal(err)
	}
	ks := verifyAsClient(t, d, now)
	if ks.Version != 2 || ks.OnlineKeys[0].ID != fresh.ID || len(ks.OnlineKeys) != 2 || ks.OnlineKeys[1].ID != publicOf(first.Online).ID {
		t.Errorf("after rotating: %+v; want version 2, the new online key first and the old one retired", ks)
	}
	if !k.Online.Equal(mustInit(t, d).Online) || k.Online.Equal(first.Online) || !k.Release.Equal(first.Release) {
		t.Error("the server does not sign answers with the new online key, or the release key changed")
	}
	if _, err := os.Stat(d.path(keyFile(api.RoleOnline, publicOf(first.Online).ID))); !os.IsNotExist(err) {
		t.Errorf("the retired key's private half is still on disk (%v)", err)
	}
	if got := readFile(t, d.Trust); string(got) != string(trust) {
		t.Error("rotation changed trust.json: clients would need a new one")
	}

	// The active key cannot be revoked; an unknown one is named.
	if _, _, err := d.RevokeKey(fresh.ID, nil); err == nil || !strings.Contains(err.Error(), "rotate it first") {
		t.Errorf("revoking the active key: %v", err)
	}
	if _, _, err := d.RevokeKey("nosuchkey", nil); err == nil || !strings.Contains(err.Error(), "aktuald keys list") {
		t.Errorf("revoking an unknown key: %v", err)
	}
	if _, role, err := d.RevokeKey(publicOf(first.Online).ID, nil); err != nil || role != api.RoleOnline {
		t.Fatalf("revoke: %s, %v", role, err)
	}
	ks = verifyAsClient(t, d, now)
	if ks.Version != 3 || len(ks.OnlineKeys) != 1 || ks.OnlineKeys[0].ID != fresh.ID {
		t.Errorf("after revoking: %+v", ks)
	}
	if _, _, err := d.RotateKey(api.RoleRoot, nil); err == nil {
		t.Error("rotating the root key through the key set was accepted")
	}
}

func TestRootKeyOffServer(t *testing.T) {
	d := newTestDir(t.TempDir())
	mustInit(t, d)
	out := filepath.Join(t.TempDir(), "root.pem")
	pub, err := d.ExportRoot(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.path(rootKeyPEM)); !os.IsNotExist(err) {
		t.Fatalf("the root key is still in the data folder (%v)", err)
	}
	if _, err := d.ExportRoot(filepath.Join(t.TempDir(), "again.pem")); !errors.Is(err, ErrNoRootKey) {
		t.Errorf("exporting twice: %v", err)
	}
	// The server still starts and signs; only key changes need the root.
	k := mustInit(t, d)
	if k.Root != nil || k.RootOnServer {
		t.Error("the server still holds a root key")
	}
	now := time.Now().UTC()
	if _, _, err := d.RotateKey(api.RoleRelease, nil); !errors.Is(err, ErrNoRootKey) {
		t.Errorf("rotating without the root key: %v, want ErrNoRootKey", err)
	}
	root, err := ReadKeyFile(out)
	if err != nil || publicOf(root).ID != pub.ID {
		t.Fatalf("exported root key: %v", err)
	}
	if _, _, err := d.RotateKey(api.RoleRelease, root); err != nil {
		t.Errorf("rotating with --root-key: %v", err)
	}
	// Another root key is refused, naming both.
	other := freshKey(t)
	if _, _, err := d.RotateKey(api.RoleRelease, other); err == nil || !strings.Contains(err.Error(), "not this server's root key") {
		t.Errorf("rotating with a foreign root key: %v", err)
	}
	if ks := verifyAsClient(t, d, now); ks.Version != 2 {
		t.Errorf("key set version %d after one rotation", ks.Version)
	}
}

func TestInitWithRootKeepsNoRoot(t *testing.T) {
	root := freshKey(t)
	d := newTestDir(t.TempDir())
	k, err := d.Init(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.path(rootKeyPEM)); !os.IsNotExist(err) {
		t.Error("init --root-key stored the root key")
	}
	if k.Roots.RootKeys[0].ID != publicOf(root).ID {
		t.Errorf("trust names root %s, want %s", k.Roots.RootKeys[0].ID, publicOf(root).ID)
	}
	// trust.json lost: without the root it cannot be rebuilt, and says so.
	os.Remove(d.Trust)
	if _, err := d.Init(nil); err == nil || !strings.Contains(err.Error(), "--root-key") {
		t.Errorf("Init without trust.json nor root: %v", err)
	}
	if _, err := d.Init(root); err != nil {
		t.Errorf("Init with the root rebuilds trust.json: %v", err)
	}
}

func TestKeySetRenewal(t *testing.T) {
	d := newTestDir(t.TempDir())
	mustInit(t, d)
	// Eleven months later the server renews its own key set...
	later := time.Now().UTC().Add(KeySetTTL - KeySetRenewAhead + time.Hour)
	k, err := d.init(nil, later)
	if err != nil {
		t.Fatal(err)
	}
	if k.KeySet.Version != 2 || !k.KeySet.ExpiresAt.Equal(later.Add(KeySetTTL)) || len(k.Warnings) != 0 {
		t.Errorf("key set not renewed: %+v, warnings %v", k.KeySet, k.Warnings)
	}
	// ...but without the root key only warns, and clients refuse it once
	// it has expired.
	if _, err := d.ExportRoot(filepath.Join(t.TempDir(), "root.pem")); err != nil {
		t.Fatal(err)
	}
	muchLater := later.Add(KeySetTTL - time.Hour)
	k, err = d.init(nil, muchLater)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Warnings) != 1 || !strings.Contains(k.Warnings[0], "aktuald keys renew --root-key") {
		t.Errorf("warnings %v, want one that says how to renew", k.Warnings)
	}
	if _, err := api.VerifyKeySet(&k.KeySetEnvelope, k.Roots, muchLater.Add(2*time.Hour)); !errors.Is(err, api.ErrKeySetExpired) {
		t.Errorf("an expired key set verified: %v", err)
	}
}

func TestLostKeySetIsNotANewRoot(t *testing.T) {
	d := newTestDir(t.TempDir())
	mustInit(t, d)
	out := filepath.Join(t.TempDir(), "root.pem")
	if _, err := d.ExportRoot(out); err != nil {
		t.Fatal(err)
	}
	trust := readFile(t, d.Trust)
	os.Remove(d.path(keySetFile))
	if _, err := d.Init(nil); err == nil || !strings.Contains(err.Error(), "restore keys/") {
		t.Errorf("Init without the key set: %v", err)
	}
	if _, err := d.Init(freshKey(t)); err == nil || !strings.Contains(err.Error(), "names root key") {
		t.Errorf("Init with a foreign root: %v", err)
	}
	if got := readFile(t, d.Trust); string(got) != string(trust) {
		t.Fatal("trust.json was replaced")
	}
	root, err := ReadKeyFile(out)
	if err != nil {
		t.Fatal(err)
	}
	k, err := d.Init(root)
	if err != nil {
		t.Fatalf("Init with the vendor's root signs a new key set: %v", err)
	}
	if k.KeySet.Version < time.Now().Add(-time.Hour).Unix() {
		t.Errorf("the new key set has version %d: clients that saw the lost one would refuse it", k.KeySet.Version)
	}
}

// Key-set changes from several processes at once each build on the one
// before: none is lost.
func TestConcurrentKeyChanges(t *testing.T) {
	d := newTestDir(t.TempDir())
	mustInit(t, d)
	const n = 6
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := d.RenewKeySet(nil)
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if ks := verifyAsClient(t, d, time.Now()); ks.Version != 1+n {
		t.Errorf("key set version %d after %d concurrent changes, want %d", ks.Version, n, 1+n)
	}
}

// newTestDir is a key ring as a data folder lays it out: dir/keys and
// dir/trust.json.
func newTestDir(dir string) Dir {
	return Dir{Keys: filepath.Join(dir, "keys"), Trust: filepath.Join(dir, "trust.json")}
}
