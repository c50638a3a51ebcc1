package storetest

import (
	"cmp"
	"errors"
	"slices"
	"testing"

	"github.com/aktual/aktual/server/store"
)

// patchFixture is three releases of linux/amd64 (the third served from an
// origin), one of linux/arm64, and two patches from the first release.
type patchFixture struct {
	v1, v2, v3, arm store.Release
	p12, p13        store.Patch
}

func putPatchFixture(t *testing.T, s store.Store) patchFixture {
	t.Helper()
	var f patchFixture
	f.v1 = release("1.0.0", "linux", "amd64", sum("p1"))
	f.v2 = release("2.0.0", "linux", "amd64", sum("p2"))
	f.v3 = release("3.0.0", "linux", "amd64", sum("p3"))
	f.v3.URL = "https://cdn.example.com/studio-3.0.0"
	f.arm = release("2.0.0", "linux", "arm64", sum("p2 arm"))
	for _, r := range []store.Release{f.v1, f.v2, f.v3, f.arm} {
		if err := s.PutRelease(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	f.p12 = store.Patch{Product: product, OS: "linux", Arch: "amd64",
		FromSHA256: f.v1.SHA256, ToSHA256: f.v2.SHA256, SHA256: sum("patch 1→2"), Size: 271}
	f.p13 = store.Patch{Product: product, OS: "linux", Arch: "amd64",
		FromSHA256: f.v1.SHA256, ToSHA256: f.v3.SHA256, SHA256: sum("patch 1→3"), Size: 4096}
	for _, p := range []store.Patch{f.p12, f.p13} {
		if err := s.PutPatch(t.Context(), p); err != nil {
			t.Fatalf("PutPatch(%s→%s): %v", p.FromSHA256[:6], p.ToSHA256[:6], err)
		}
	}
	return f
}

// testPatches: a patch is recorded between two releases of one platform,
// found by its two ends, and its bytes are an artifact served from the
// local blob store.
func testPatches(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := putPatchFixture(t, s)
	v1, v2, v3, p12, p13 := f.v1, f.v2, f.v3, f.p12, f.p13
	got, err := s.Patch(ctx, product, "linux", "amd64", v1.SHA256, v2.SHA256)
	if err != nil || got != p12 {
		t.Errorf("Patch(1→2) = %+v, %v; want %+v", got, err, p12)
	}
	for name, q := range map[string][5]string{
		"reversed":       {product, "linux", "amd64", v2.SHA256, v1.SHA256},
		"other platform": {product, "linux", "arm64", v1.SHA256, v2.SHA256},
		"other product":  {"ledgerbook", "linux", "amd64", v1.SHA256, v2.SHA256},
		"unknown":        {product, "linux", "amd64", sum("x"), v2.SHA256},
	} {
		if p, err := s.Patch(ctx, q[0], q[1], q[2], q[3], q[4]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Patch(%s) = %+v, %v; want ErrNotFound", name, p, err)
		}
	}

	// A patch's bytes are an artifact in the blob store, even when the
	// release it leads to is served from an origin.
	for _, sha := range []string{p12.SHA256, p13.SHA256} {
		if u, err := s.ArtifactURL(ctx, sha); err != nil || u != "" {
			t.Errorf("ArtifactURL(patch) = %q, %v; want the blob store", u, err)
		}
		if has, err := s.HasArtifact(ctx, sha); err != nil || !has {
			t.Errorf("HasArtifact(patch) = %v, %v; want true", has, err)
		}
	}
	if u, err := s.ArtifactURL(ctx, v3.SHA256); err != nil || u != v3.URL {
		t.Errorf("ArtifactURL(release at an origin) = %q, %v; want %q", u, err, v3.URL)
	}
}

// testPatchReplaced: a patch computed again (another bsdiff, a repaired
// blob) replaces the one between the same releases.
func testPatchReplaced(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := putPatchFixture(t, s)
	again := f.p12
	again.SHA256, again.Size = sum("patch 1→2 again"), 300
	if err := s.PutPatch(ctx, again); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Patch(ctx, product, "linux", "amd64", f.v1.SHA256, f.v2.SHA256); err != nil || got != again {
		t.Errorf("Patch(1→2) after a new one = %+v, %v; want %+v", got, err, again)
	}
	if has, err := s.HasArtifact(ctx, f.p12.SHA256); err != nil || has {
		t.Errorf("HasArtifact(replaced patch) = %v, %v; want false", has, err)
	}

	ps, err := s.Patches(ctx, product, "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(ps, func(a, b store.Patch) int { return cmp.Compare(a.Size, b.Size) })
	if want := []store.Patch{again, f.p13}; !slices.Equal(ps, want) {
		t.Errorf("Patches(linux/amd64) = %+v, want %+v", ps, want)
	}
	if ps, err := s.Patches(ctx, product, "linux", "arm64"); err != nil || len(ps) != 0 {
		t.Errorf("Patches(linux/arm64) = %+v, %v; want none", ps, err)
	}
}

// testPatchRefused: a malformed patch, or one whose ends are not two
// releases of its product and platform, is refused and changes nothing.
func testPatchRefused(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := putPatchFixture(t, s)
	bad := func(edit func(p *store.Patch)) store.Patch {
		p := f.p12
		edit(&p)
		return p
	}
	for name, p := range map[string]store.Patch{
		"no product":            bad(func(p *store.Patch) { p.Product = "" }),
		"to itself":             bad(func(p *store.Patch) { p.ToSHA256 = p.FromSHA256 }),
		"upper-case hash":       bad(func(p *store.Patch) { p.SHA256 = "AB" + p.SHA256[2:] }),
		"short hash":            bad(func(p *store.Patch) { p.FromSHA256 = p.FromSHA256[:63] }),
		"empty patch":           bad(func(p *store.Patch) { p.Size = 0 }),
		"from an unpublished":   bad(func(p *store.Patch) { p.FromSHA256 = sum("never published") }),
		"release of another os": bad(func(p *store.Patch) { p.ToSHA256 = f.arm.SHA256 }),
		"unknown product":       bad(func(p *store.Patch) { p.Product = "nothing" }),
	} {
		if err := s.PutPatch(ctx, p); err == nil {
			t.Errorf("PutPatch(%s) accepted", name)
		}
	}
	if err := s.PutPatch(ctx, bad(func(p *store.Patch) { p.FromSHA256 = sum("never published") })); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PutPatch(from an unpublished release) error %v, want ErrNotFound", err)
	}
	ps, err := s.Patches(ctx, product, "linux", "amd64")
	if err != nil || len(ps) != 2 || ps[0] == ps[1] {
		t.Errorf("patches after refused puts: %+v, %v; want the two put before", ps, err)
	}
	for _, p := range ps {
		if p != f.p12 && p != f.p13 {
			t.Errorf("patch after refused puts: %+v", p)
		}
	}
}
