package admin_test

import (
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
)

// What a revoked release key signed stays installable: re-signed by the
// new key before the old one leaves the key set.
func TestRevokedReleaseKeyReleasesAreResigned(t *testing.T) {
	d := datadir.DataDir(t.TempDir())
	inst, err := datadir.Open(d, "")
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	ctx := t.Context()
	for _, v := range []string{"1.0.0", "2.0.0"} {
		if _, err := admin.New(inst).Publish(ctx, admin.PublishParams{Product: "app", Series: api.SeriesPro, Version: v,
			OS: "linux", Arch: "amd64", File: strings.NewReader("app " + v),
			Control: admin.ControlParams{Notes: map[string]string{"en": "notes of " + v}}}); err != nil {
			t.Fatal(err)
		}
	}
	old := api.NewPublicKey(inst.Keys.Release.Public().(ed25519.PublicKey)).ID
	now := time.Now().UTC()
	if inst.Keys, _, err = d.Keyring().RotateKey(api.RoleRelease, nil); err != nil {
		t.Fatal(err)
	}
	keep := func(id string) bool { return id != old }
	n, err := admin.New(inst).ResignReleases(ctx, keep)
	if err != nil || n != 4 {
		t.Fatalf("ResignReleases = %d, %v; want 4 (two releases, their two notes)", n, err)
	}
	if n, err := admin.New(inst).ResignReleases(ctx, keep); err != nil || n != 0 {
		t.Errorf("again = %d, %v; want 0 (idempotent)", n, err)
	}
	keys, _, err := d.Keyring().RevokeKey(old, nil)
	if err != nil {
		t.Fatal(err)
	}
	// As a client verifies it, with the trust.json customers have.
	ks, err := api.VerifyKeySet(&keys.KeySetEnvelope, keys.Trust(), now)
	if err != nil {
		t.Fatalf("a client refuses the key set: %v", err)
	}
	rs, err := inst.Store.AllReleases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		var env api.Envelope
		if err := json.Unmarshal(r.Envelope, &env); err != nil {
			t.Fatal(err)
		}
		var st api.ReleaseStatement
		if err := env.VerifyInto(api.PayloadRelease, ks.ReleaseKeys, &st); err != nil || st.Version != r.Version || st.SHA256 != r.SHA256 {
			t.Errorf("release %s after revocation: %+v, %v", r.Version, st, err)
		}
	}
	cs, err := inst.Store.ReleaseControls(ctx, "app")
	if err != nil || len(cs) != 2 {
		t.Fatalf("controls %v %v", cs, err)
	}
	for _, c := range cs {
		var env api.Envelope
		var n api.NotesStatement
		if err := json.Unmarshal(c.Notes, &env); err != nil {
			t.Fatal(err)
		}
		if err := env.VerifyInto(api.PayloadNotes, ks.ReleaseKeys, &n); err != nil || n.Notes["en"] != "notes of "+c.Version {
			t.Errorf("notes of %s after revocation: %+v, %v", c.Version, n, err)
		}
	}
}

// A data folder whose key set was lost is not taken for a new one: a new
// root would lock every client out.
