package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// Folder releases (issue 17): the files a folder's manifest names are
// artifacts too, recorded with the release in one transaction.

func folderRelease(version string, files ...string) store.Release {
	r := release(version, "linux", "amd64", sum("manifest "+version))
	r.Files = files
	return r
}

func testFolderFiles(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := folderRelease("1.0.0", sum("shared"), sum("only in 1"))
	if err := s.PutRelease(ctx, a); err != nil {
		t.Fatal(err)
	}
	for _, f := range append(a.Files, a.SHA256) {
		if ok, err := s.HasArtifact(ctx, f); err != nil || !ok {
			t.Errorf("HasArtifact(%s…) = %v, %v; want true", f[:8], ok, err)
		}
		if u, err := s.ArtifactURL(ctx, f); err != nil || u != "" {
			t.Errorf("ArtifactURL(%s…) = %q, %v; want the blob store", f[:8], u, err)
		}
	}
	// The same release again (a re-run publish): no conflict, nothing new.
	if err := s.PutRelease(ctx, a); err != nil {
		t.Errorf("same folder release again: %v", err)
	}
	// Another manifest under the same version is refused, and its files
	// are not recorded.
	other := folderRelease("1.0.0", sum("refused file"))
	other.SHA256 = sum("another manifest")
	wantErr(t, "other manifest, same version", s.PutRelease(ctx, other), store.ErrConflict)
	wantNoArtifact(t, s, sum("refused file"))
	// A file unchanged in the next version is named by both.
	b := folderRelease("2.0.0", sum("shared"), sum("only in 2"))
	if err := s.PutRelease(ctx, b); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.HasArtifact(ctx, sum("only in 2")); err != nil || !ok {
		t.Errorf("HasArtifact(a file of 2.0.0) = %v, %v", ok, err)
	}
	wantNoArtifact(t, s, sum("never published"))
	// The listings leave Files out; the release is there as any other.
	rs, err := s.Releases(ctx, product, "linux", "amd64")
	if err != nil || len(rs) != 2 {
		t.Fatalf("Releases = %d, %v; want 2", len(rs), err)
	}

	bad := folderRelease("3.0.0", "NOT-A-HASH")
	if err := s.PutRelease(ctx, bad); err == nil {
		t.Error("a file hash that is not 64 lowercase hex digits was recorded")
	}
	atOrigin := folderRelease("3.0.0", sum("x"))
	atOrigin.URL = "https://cdn.example.com/m"
	if err := s.PutRelease(ctx, atOrigin); err == nil {
		t.Error("a folder release at an origin was recorded")
	}
	wantNoArtifact(t, s, sum("x"))
}

func wantNoArtifact(t *testing.T, s store.Store, f string) {
	t.Helper()
	if ok, err := s.HasArtifact(t.Context(), f); err != nil || ok {
		t.Errorf("HasArtifact(%s…) = %v, %v; want false", f[:8], ok, err)
	}
	if _, err := s.ArtifactURL(t.Context(), f); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ArtifactURL(%s…): %v; want ErrNotFound", f[:8], err)
	}
}

func testReservationByKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	ent, c := activatePro(t, s, "Acme", 2)
	r, _ := mustReserve(t, s, reserveParams(c, "k_0123456789abcdef0123456789abcdef"))
	got, e, err := s.ReservationByKey(ctx, "k_0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	if !sameReservation(got, r) || e.ID != ent.ID {
		t.Errorf("ReservationByKey = %+v of entitlement %d; want %+v of %d", got, e.ID, r, ent.ID)
	}
	wantCounts(t, "by key", e, counts{Purchased: 2, Remaining: 1, Held: 1})
	if _, _, err := s.Complete(ctx, r.ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, e, err = s.ReservationByKey(ctx, "k_0123456789abcdef0123456789abcdef")
	if err != nil || got.State != api.StateConsumed {
		t.Errorf("after complete: %+v, %v; want consumed", got, err)
	}
	wantCounts(t, "by key after complete", e, counts{Purchased: 2, Remaining: 1, Consumed: 1})
	_, _, err = s.ReservationByKey(ctx, "k_ffffffffffffffffffffffffffffffff")
	wantErr(t, "unknown key", err, store.ErrNotFound)
}

// testInstallable: what an entitlement paid for (its consumed
// reservations' to-versions) and when it was made choose the release it
// may install first (store.InstallableRelease).
func testInstallable(t *testing.T, s store.Store) {
	ctx := t.Context()
	ent, c := activatePro(t, s, "Acme", 5)
	for v, at := range map[string]time.Time{"1.0.0": t0.Add(-2 * time.Hour), "2.0.0": t0.Add(-time.Hour), "3.0.0": t0.Add(time.Hour), "4.0.0": t0.Add(2 * time.Hour)} {
		r := release(v, "linux", "amd64", sum(v))
		r.PublishedAt = at
		if err := s.PutRelease(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := s.Releases(ctx, product, "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	installable := func(what, want string) {
		t.Helper()
		consumed, err := s.ConsumedVersions(ctx, ent.ID, product)
		if err != nil {
			t.Fatal(err)
		}
		got := store.InstallableRelease(rs, consumed, ent.CreatedAt)
		if got == nil || got.Version != want {
			t.Errorf("%s: installable %v (consumed %v); want %s", what, got, consumed, want)
		}
	}
	installable("nothing consumed", "2.0.0")
	reserveTo := func(key, to string) store.Reservation {
		p := reserveParams(c, key)
		p.FromVersion, p.ToVersion = "2.0.0", to
		r, _ := mustReserve(t, s, p)
		return r
	}
	held := reserveTo("held", "4.0.0")
	installable("a held reservation pays for nothing yet", "2.0.0")
	released := reserveTo("released", "4.0.0")
	if _, _, err := s.Release(ctx, released.ID, t0); err != nil {
		t.Fatal(err)
	}
	installable("a released one neither", "2.0.0")
	done := reserveTo("consumed", "3.0.0")
	if _, _, err := s.Complete(ctx, done.ID, t0); err != nil {
		t.Fatal(err)
	}
	installable("3.0.0 consumed", "3.0.0")
	// Another product's consumption counts for nothing here.
	other := reserveParams(c, "other product")
	other.Product, other.ToVersion = "other", "9.0.0"
	r, _ := mustReserve(t, s, other)
	if _, _, err := s.Complete(ctx, r.ID, t0); err != nil {
		t.Fatal(err)
	}
	consumed, err := s.ConsumedVersions(ctx, ent.ID, product)
	if err != nil || !slices.Equal(consumed, []string{"3.0.0"}) {
		t.Errorf("ConsumedVersions = %v, %v; want [3.0.0]", consumed, err)
	}
	if _, _, err := s.Release(ctx, held.ID, t0); err != nil {
		t.Fatal(err)
	}
}
