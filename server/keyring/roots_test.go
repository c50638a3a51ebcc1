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

// followAsClient is what an installer that trusts trust does with the
// server's answer: follow the links after its root, then verify the key
// set with the newest root.
func followAsClient(t *testing.T, k *Keys, trust *api.Trust) *api.Trust {
	t.Helper()
	newest, err := api.FollowRoots(trust, k.RootsAfter(trust.Root()))
	if err != nil {
		t.Fatalf("a client that trusts root %d refuses the chain: %v", trust.Root(), err)
	}
	if _, err := api.VerifyKeySet(&k.KeySetEnvelope, newest, time.Now()); err != nil {
		t.Fatalf("a client that followed the chain to root %d refuses the key set: %v", newest.Root(), err)
	}
	return newest
}

func TestRotateRootOnServer(t *testing.T) {
	d := newTestDir(t.TempDir())
	first := mustInit(t, d)
	trust1 := first.Trust()
	if first.Roots.Root() != 1 || len(first.Chain) != 0 || first.RootsAfter(1) != nil {
		t.Fatalf("a new key ring is at root %d with %d links", first.Roots.Root(), len(first.Chain))
	}

	k2, _, err := d.RotateRoot(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	k3, root3, err := d.RotateRoot(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if k2.Roots.Root() != 2 || k3.Roots.Root() != 3 || len(k3.Chain) != 2 {
		t.Fatalf("after two rotations: root %d, %d links", k3.Roots.Root(), len(k3.Chain))
	}
	if got := followAsClient(t, k3, trust1); got.RootKeys[0].ID != root3.ID {
		t.Errorf("root 1 follows to %s, want %s", got.RootKeys[0].ID, root3.ID)
	}
	followAsClient(t, k3, k2.Trust())
	if got := k3.RootsAfter(3); got != nil {
		t.Errorf("a client at the newest root is sent %d links", len(got))
	}
	if k3.KeySet.Version != first.KeySet.Version+2 || !k3.Release.Equal(first.Release) || !k3.Online.Equal(first.Online) {
		t.Errorf("the key set after rotating the root: version %d, or its keys changed", k3.KeySet.Version)
	}
	onDisk, err := api.ParseTrust(readFile(t, d.Trust))
	if err != nil || onDisk.Root() != 3 || onDisk.RootKeys[0].ID != root3.ID {
		t.Errorf("trust.json: %+v, %v; want root 3, key %s", onDisk, err, root3.ID)
	}
	if root, err := ReadKeyFile(d.path(rootKeyPEM)); err != nil || publicOf(root).ID != root3.ID || !k3.RootOnServer {
		t.Errorf("keys/root.pem is not the new root (%v)", err)
	}
	if _, err := os.Stat(d.path(rootNextPEM)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("root-next.pem is left behind (%v)", err)
	}
	// Later key changes are signed by the newest root.
	if _, _, err := d.RotateKey(api.RoleOnline, nil); err != nil {
		t.Fatal(err)
	}
	k, err := d.load(nil)
	if err != nil {
		t.Fatal(err)
	}
	followAsClient(t, k, trust1)
}

func TestRotateRootOffline(t *testing.T) {
	tmp := t.TempDir()
	d := newTestDir(tmp)
	mustInit(t, d)
	trust1 := mustInit(t, d).Trust()
	old := filepath.Join(tmp, "old-root.pem")
	if _, err := d.ExportRoot(old); err != nil {
		t.Fatal(err)
	}
	oldRoot, err := ReadKeyFile(old)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.RotateRoot(nil, nil); !errors.Is(err, ErrNoRootKey) {
		t.Errorf("rotating without the root key: %v; want ErrNoRootKey", err)
	}
	if _, _, err := d.RotateRoot(oldRoot, nil); err == nil || !strings.Contains(err.Error(), "--new-root-key") {
		t.Errorf("an offline root handing over to a new root on the server: %v", err)
	}
	if _, _, err := d.RotateRoot(oldRoot, oldRoot); err == nil {
		t.Error("the root handed over to itself")
	}
	newPath := filepath.Join(tmp, "new-root.pem")
	fresh, err := GenerateRootKey(newPath)
	if err != nil {
		t.Fatal(err)
	}
	newRoot, _ := ReadKeyFile(newPath)
	k, got, err := d.RotateRoot(oldRoot, newRoot)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != fresh.ID || k.RootOnServer || k.Roots.Root() != 2 {
		t.Errorf("rotated to %s, root on server %v, version %d", got.ID, k.RootOnServer, k.Roots.Root())
	}
	if _, err := os.Stat(d.path(rootKeyPEM)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a root key is in the data folder (%v)", err)
	}
	// The old root no longer changes anything; the new one does.
	if _, err := d.RenewKeySet(oldRoot); err == nil {
		t.Error("the old root renewed the key set")
	}
	if _, err := d.RenewKeySet(newRoot); err != nil {
		t.Fatal(err)
	}
	k, err = d.load(nil)
	if err != nil {
		t.Fatal(err)
	}
	followAsClient(t, k, trust1)
}

// A root rotation kept on the server cut short is finished or forgotten
// safely when the folder is loaded again.
func TestRotateRootCutShort(t *testing.T) {
	d := newTestDir(t.TempDir())
	first := mustInit(t, d)
	// Cut after the link was written, before the key set was signed by the
	// new root: the link is not served, the old root stays the server's.
	next, err := d.newRootOnServer()
	if err != nil {
		t.Fatal(err)
	}
	k, err := d.load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.writeRootLinks(k, next); err != nil {
		t.Fatal(err)
	}
	k, err = d.load(nil)
	if err != nil || k.Roots.Root() != 1 || len(k.RootsAfter(1)) != 0 || !k.Root.Equal(first.Root) {
		t.Fatalf("after a rotation cut before the key set: root %v, %v", k, err)
	}
	// The next rotation replaces the pending link.
	k2, root2, err := d.RotateRoot(nil, nil)
	if err != nil || k2.Roots.Root() != 2 || root2.ID == publicOf(next).ID {
		t.Fatalf("rotating after a cut one: %v, %v", k2, err)
	}
	followAsClient(t, k2, first.Trust())

	// Cut after the key set was signed by the new root, before root.pem
	// was replaced: loading finishes it.
	next, err = d.newRootOnServer()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.writeRootLinks(k2, next); err != nil {
		t.Fatal(err)
	}
	if err := d.resignKeySet(k2, next); err != nil {
		t.Fatal(err)
	}
	k3, err := d.load(nil)
	if err != nil || k3.Roots.Root() != 3 || !k3.Root.Equal(next) || !k3.RootOnServer {
		t.Fatalf("after a rotation cut before root.pem: %v, %v", k3, err)
	}
	followAsClient(t, k3, first.Trust())
}

// Loading the folder verifies the chain: a damaged or forged link stops
// the server rather than being served.
func TestLoadVerifiesTheChain(t *testing.T) {
	d := newTestDir(t.TempDir())
	mustInit(t, d)
	if _, _, err := d.RotateRoot(nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.RotateRoot(nil, nil); err != nil {
		t.Fatal(err)
	}
	link := d.rootLinkPath(2)
	good := readFile(t, link)
	tampered := strings.Replace(string(good), `"payload": "`, `"payload": "e`, 1)
	for name, data := range map[string]string{"tampered": tampered, "cut": string(good[:len(good)/2])} {
		if err := os.WriteFile(link, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := d.load(nil); err == nil || !strings.Contains(err.Error(), "restore keys/") {
			t.Errorf("%s link 2: loaded (%v)", name, err)
		}
	}
	if err := os.WriteFile(link, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if _, err := d.load(nil); err == nil {
		t.Error("a chain with a gap loaded")
	}
}
