package storetest

import (
	"errors"
	"testing"

	"github.com/aktual/aktual/server/store"
)

// testArtifactOrigin: a release may name an external origin for its bytes;
// publishing the same artifact again moves it; a bad URL is refused.
func testArtifactOrigin(t *testing.T, s store.Store) {
	ctx := t.Context()
	local := release("1.0.0", "linux", "amd64", sum("local"))
	cdn := release("2.0.0", "linux", "amd64", sum("cdn"))
	cdn.URL = "https://cdn.example.com/ledger/2.0.0/ledger-linux-amd64?sig=abc"
	for _, r := range []store.Release{local, cdn} {
		if err := s.PutRelease(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	wantURL := func(what, sha, want string) {
		t.Helper()
		got, err := s.ArtifactURL(ctx, sha)
		if err != nil || got != want {
			t.Errorf("%s: ArtifactURL = %q, %v; want %q", what, got, err, want)
		}
	}
	wantURL("local blob", local.SHA256, "")
	wantURL("external origin", cdn.SHA256, cdn.URL)
	if _, err := s.ArtifactURL(ctx, sum("nothing")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ArtifactURL(unknown) error %v, want ErrNotFound", err)
	}
	rs, err := s.Releases(ctx, product, "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if want := map[string]string{"1.0.0": "", "2.0.0": cdn.URL}[r.Version]; r.URL != want {
			t.Errorf("Releases: %s has URL %q, want %q", r.Version, r.URL, want)
		}
	}

	// The vendor moves the bytes: the same artifact again, another origin.
	moved := cdn
	moved.URL = "https://mirror.example.net/ledger-2.0.0"
	moved.Envelope = []byte(`{"signed":"again"}`)
	if err := s.PutRelease(ctx, moved); err != nil {
		t.Fatal(err)
	}
	wantURL("moved", cdn.SHA256, moved.URL)
	back := cdn
	back.URL = ""
	if err := s.PutRelease(ctx, back); err != nil {
		t.Fatal(err)
	}
	wantURL("back to the blob store", cdn.SHA256, "")
	r, err := s.ReleaseBySHA256(ctx, product, cdn.SHA256)
	if err != nil || string(r.Envelope) != string(cdn.Envelope) {
		t.Errorf("a republish replaced the first envelope: %s, %v", r.Envelope, err)
	}

	for _, bad := range []string{
		"ftp://cdn.example.com/x",
		"/relative/path",
		"https://",
		"https://user:secret@cdn.example.com/x",
		"https://cdn.example.com/x#frag",
		"cdn.example.com/x",
	} {
		r := release("3.0.0", "linux", "amd64", sum("bad "+bad))
		r.URL = bad
		if err := s.PutRelease(ctx, r); err == nil {
			t.Errorf("PutRelease with URL %q accepted", bad)
		}
	}
	if rs, _ := s.Releases(ctx, product, "linux", "amd64"); len(rs) != 2 {
		t.Errorf("%d releases after refused puts, want 2", len(rs))
	}
}
