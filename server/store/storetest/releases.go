package storetest

import (
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

func testPutRelease(t *testing.T, s store.Store) {
	ctx := t.Context()
	r := release("2.0.0", "linux", "amd64", sum("a"))
	if err := s.PutRelease(ctx, r); err != nil {
		t.Fatal(err)
	}
	// The same release again, re-signed later: a no-op that keeps the first.
	again := r
	again.Envelope, again.PublishedAt = []byte(`{"signed":"again"}`), t0.Add(time.Hour)
	if err := s.PutRelease(ctx, again); err != nil {
		t.Errorf("same release again: %v", err)
	}
	rs, err := s.Releases(ctx, product, "linux", "amd64")
	if err != nil || len(rs) != 1 {
		t.Fatalf("Releases: %v, %v", rs, err)
	}
	if string(rs[0].Envelope) != string(r.Envelope) || !rs[0].PublishedAt.Equal(t0) {
		t.Errorf("a repeat replaced the release: %+v", rs[0])
	}

	other := release("2.0.0", "linux", "amd64", sum("b"))
	wantErr(t, "other artifact, same version", s.PutRelease(ctx, other), store.ErrConflict)
	bigger := r
	bigger.Size++
	wantErr(t, "other size, same version", s.PutRelease(ctx, bigger), store.ErrConflict)
	classic := release("3.0.0", "linux", "amd64", sum("c"))
	classic.Series = api.SeriesClassic
	wantErr(t, "product under another series", s.PutRelease(ctx, classic), store.ErrConflict)

	if series, err := s.ProductSeries(ctx, product); err != nil || series != api.SeriesPro {
		t.Errorf("ProductSeries after refused puts = %q, %v", series, err)
	}
}

func testResignRelease(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := release("1.0.0", "linux", "amd64", sum("a"))
	b := release("2.0.0", "linux", "amd64", sum("b"))
	for _, r := range []store.Release{a, b} {
		if err := s.PutRelease(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.AllReleases(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("AllReleases = %d releases, %v; want 2", len(all), err)
	}
	if err := s.ResignRelease(ctx, product, "1.0.0", "linux", "amd64", []byte(`{"signed":"anew"}`)); err != nil {
		t.Fatal(err)
	}
	rs, err := s.Releases(ctx, product, "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		want := map[string]string{"1.0.0": `{"signed":"anew"}`, "2.0.0": string(b.Envelope)}[r.Version]
		if string(r.Envelope) != want {
			t.Errorf("%s envelope = %s, want %s", r.Version, r.Envelope, want)
		}
		if r.SHA256 != map[string]string{"1.0.0": a.SHA256, "2.0.0": b.SHA256}[r.Version] || !r.PublishedAt.Equal(t0) {
			t.Errorf("re-signing changed more than the envelope: %+v", r)
		}
	}
	wantErr(t, "no such release", s.ResignRelease(ctx, product, "9.0.0", "linux", "amd64", []byte(`{}`)), store.ErrNotFound)
}

func testReleaseQueries(t *testing.T, s store.Store) {
	ctx := t.Context()
	puts := []store.Release{
		release("1.0.0", "linux", "amd64", sum("1 linux")),
		release("2.0.0", "linux", "amd64", sum("2 linux")),
		release("2.0.0", "linux", "arm64", sum("2 linux arm")),
		release("2.0.0", "windows", "amd64", sum("2 windows")),
	}
	classic := release("1.0.0", "linux", "amd64", sum("classic"))
	classic.Product, classic.Series = "ledgerbook", api.SeriesClassic
	puts = append(puts, classic)
	for _, r := range puts {
		if err := s.PutRelease(ctx, r); err != nil {
			t.Fatalf("PutRelease(%s %s %s/%s): %v", r.Product, r.Version, r.OS, r.Arch, err)
		}
	}

	rs, err := s.Releases(ctx, product, "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	versions := map[string]bool{}
	for _, r := range rs {
		if r.Product != product || r.OS != "linux" || r.Arch != "amd64" {
			t.Errorf("Releases(linux/amd64) returned %s %s/%s", r.Product, r.OS, r.Arch)
		}
		versions[r.Version] = true
	}
	if len(rs) != 2 || !versions["1.0.0"] || !versions["2.0.0"] {
		t.Errorf("Releases(linux/amd64) = %d releases %v, want 1.0.0 and 2.0.0", len(rs), versions)
	}
	if rs, err := s.Releases(ctx, product, "darwin", "arm64"); err != nil || len(rs) != 0 {
		t.Errorf("Releases(darwin/arm64) = %v, %v; want none", rs, err)
	}

	got, err := s.ReleaseBySHA256(ctx, product, sum("2 windows"))
	if err != nil {
		t.Fatal(err)
	}
	want := puts[3]
	if got.Product != want.Product || got.Series != want.Series || got.Version != want.Version || got.OS != want.OS ||
		got.Arch != want.Arch || got.SHA256 != want.SHA256 || got.Size != want.Size ||
		string(got.Envelope) != string(want.Envelope) || !got.PublishedAt.Equal(want.PublishedAt) {
		t.Errorf("ReleaseBySHA256 = %+v, want %+v", got, want)
	}
	_, err = s.ReleaseBySHA256(ctx, product, sum("nothing"))
	wantErr(t, "ReleaseBySHA256(unknown hash)", err, store.ErrNotFound)
	_, err = s.ReleaseBySHA256(ctx, product, sum("classic"))
	wantErr(t, "ReleaseBySHA256(another product's hash)", err, store.ErrNotFound)

	for p, want := range map[string]string{product: api.SeriesPro, "ledgerbook": api.SeriesClassic} {
		if got, err := s.ProductSeries(ctx, p); err != nil || got != want {
			t.Errorf("ProductSeries(%s) = %q, %v; want %q", p, got, err, want)
		}
	}
	_, err = s.ProductSeries(ctx, "nothing")
	wantErr(t, "ProductSeries(unknown)", err, store.ErrNotFound)

	for h, want := range map[string]bool{sum("2 linux arm"): true, sum("classic"): true, sum("nothing"): false} {
		if got, err := s.HasArtifact(ctx, h); err != nil || got != want {
			t.Errorf("HasArtifact(%s…) = %v, %v; want %v", h[:8], got, err, want)
		}
	}
}
