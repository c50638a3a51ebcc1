package storetest

import (
	"cmp"
	"errors"
	"slices"
	"testing"

	"github.com/aktual/aktual/server/store"
)

// testPatches: a patch is recorded between two releases of one platform,
// found by its two ends, replaced by a newer one, and its bytes are an
// artifact served from the local blob store.
func testPatches(t *testing.T, s store.Store) {
	ctx := t.Context()
	v1 := release("1.0.0", "linux", "amd64", sum("p1"))
	v2 := release("2.0.0", "linux", "amd64", sum("p2"))
	v3 := release("3.0.0", "linux", "amd64", sum("p3"))
	v3.URL = "https://cdn.example.com/studio-3.0.0"
	arm := release("2.0.0", "linux", "arm64", sum("p2 arm"))
	for _, r := range []store.Release{v1, v2, v3, arm} {
		if err := s.PutRelease(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	p12 := store.Patch{Product: product, OS: "linux", Arch: "amd64",
		FromSHA256: v1.SHA256, ToSHA256: v2.SHA256, SHA256: sum("patch 1→2"), Size: 271}
	p13 := store.Patch{Product: product, OS: "linux", Arch: "amd64",
		FromSHA256: v1.SHA256, ToSHA256: v3.SHA256, SHA256: sum("patch 1→3"), Size: 4096}
	for _, p := range []store.Patch{p12, p13} {
		if err := s.PutPatch(ctx, p); err != nil {
			t.Fatalf("PutPatch(%s→%s): %v", p.FromSHA256[:6], p.ToSHA256[:6], err)
		}
	}
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

	// Computed again (another bsdiff, a repaired blob): the new one wins.
	again := p12
	again.SHA256, again.Size = sum("patch 1→2 again"), 300
	if err := s.PutPatch(ctx, again); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Patch(ctx, product, "linux", "amd64", v1.SHA256, v2.SHA256); err != nil || got != again {
		t.Errorf("Patch(1→2) after a new one = %+v, %v; want %+v", got, err, again)
	}
	if has, err := s.HasArtifact(ctx, p12.SHA256); err != nil || has {
		t.Errorf("HasArtifact(replaced patch) = %v, %v; want false", has, err)
	}

	ps, err := s.Patches(ctx, product, "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(ps, func(a, b store.Patch) int { return cmp.Compare(a.Size, b.Size) })
	if want := []store.Patch{again, p13}; !slices.Equal(ps, want) {
		t.Errorf("Patches(linux/amd64) = %+v, want %+v", ps, want)
	}
	if ps, err := s.Patches(ctx, product, "linux", "arm64"); err != nil || len(ps) != 0 {
		t.Errorf("Patches(linux/arm64) = %+v, %v; want none", ps, err)
	}

	bad := func(edit func(p *store.Patch)) store.Patch {
		p := p12
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
		"release of another os": bad(func(p *store.Patch) { p.ToSHA256 = arm.SHA256 }),
		"unknown product":       bad(func(p *store.Patch) { p.Product = "nothing" }),
	} {
		if err := s.PutPatch(ctx, p); err == nil {
			t.Errorf("PutPatch(%s) accepted", name)
		}
	}
	if err := s.PutPatch(ctx, bad(func(p *store.Patch) { p.FromSHA256 = sum("never published") })); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PutPatch(from an unpublished release) error %v, want ErrNotFound", err)
	}
	if ps, _ := s.Patches(ctx, product, "linux", "amd64"); len(ps) != 2 {
		t.Errorf("%d patches after refused puts, want 2", len(ps))
	}
}
