package server_test

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server"
)

// latest fetches the latest answer and verifies it as a client would: the
// envelope with the online keys, the release inside with the release keys,
// each parsed strictly.
func (f *fixture) latest(t *testing.T, product, query string) (api.LatestStatement, api.ReleaseStatement) {
	t.Helper()
	resp := decodeOK[api.LatestResponse](t, f.get(t, "/v1/products/"+product+"/latest?"+query))
	ks, err := api.VerifyKeySet(&resp.Keys, f.inst.Keys.Trust(), time.Now())
	if err != nil {
		t.Fatalf("key set: %v", err)
	}
	if ks.Version != f.trust.Version || ks.OnlineKeys[0].ID != f.trust.OnlineKeys[0].ID {
		t.Fatalf("served key set %+v is not the instance's %+v", ks, f.trust)
	}
	var st api.LatestStatement
	if err := resp.Answer.VerifyInto(api.PayloadLatest, ks.OnlineKeys, &st); err != nil {
		t.Fatalf("latest answer: %v", err)
	}
	var rel api.ReleaseStatement
	if err := st.Latest.VerifyInto(api.PayloadRelease, f.trust.ReleaseKeys, &rel); err != nil {
		t.Fatalf("latest release: %v", err)
	}
	return st, rel
}

func TestLatestPicksHighestVersion(t *testing.T) {
	f := newFixture(t)
	for i, tc := range []struct {
		name      string
		published []string // in this order
		want      string
	}{
		{"one", []string{"1.0.0"}, "1.0.0"},
		{"major", []string{"1.0.0", "2.0.0"}, "2.0.0"},
		{"major published last first", []string{"2.0.0", "1.0.0"}, "2.0.0"},
		{"numeric not lexical minor", []string{"1.9.0", "1.10.0", "1.2.0"}, "1.10.0"},
		{"numeric not lexical patch", []string{"1.0.10", "1.0.9"}, "1.0.10"},
		{"numeric not lexical major", []string{"9.0.0", "10.0.0"}, "10.0.0"},
		// Pre-releases are for staff to try; customers are never offered one.
		{"pre-release of a newer version is not offered", []string{"2.0.0", "2.1.0-rc.1"}, "2.0.0"},
		{"release beats its pre-release", []string{"2.1.0", "2.1.0-rc.1"}, "2.1.0"},
		{"stable among pre-releases", []string{"3.0.0-alpha", "2.9.0", "3.0.0-rc.10"}, "2.9.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			product := fmt.Sprintf("app%d", i)
			for _, v := range tc.published {
				f.publish(t, product, api.SeriesPro, v, "linux", "amd64")
			}
			_, rel := f.latest(t, product, "os=linux&arch=amd64")
			if rel.Version != tc.want {
				t.Errorf("latest of %v is %s, want %s", tc.published, rel.Version, tc.want)
			}
			data := artifactBytes(product, tc.want, "linux", "amd64")
			if rel.SHA256 != sha256Hex(data) || rel.Size != int64(len(data)) {
				t.Errorf("latest names sha256 %s size %d, want the published artifact's %s size %d",
					rel.SHA256, rel.Size, sha256Hex(data), len(data))
			}
		})
	}
}

func TestLatestOffersNoPreReleaseAlone(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "beta", api.SeriesPro, "1.0.0-rc.1", "linux", "amd64")
	resp, err := f.http.Get(f.url + "/v1/products/beta/latest?os=linux&arch=amd64")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("only a pre-release published: status %d, want 404", resp.StatusCode)
	}
}

func TestLatestStatementIsSignedAndFresh(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	const ttl = 90 * time.Minute
	f := newFixtureWith(t, func(s *server.Server) {
		s.Now = func() time.Time { return now }
		s.LatestTTL = ttl
	})
	data := f.publish(t, "app", api.SeriesPro, "1.2.3", "linux", "arm64")

	st, rel := f.latest(t, "app", "os=linux&arch=arm64")
	want := api.ReleaseStatement{Product: "app", Series: api.SeriesPro, Version: "1.2.3", OS: "linux", Arch: "arm64",
		SHA256: sha256Hex(data), Size: int64(len(data)), PublishedAt: rel.PublishedAt}
	if !reflect.DeepEqual(rel, want) {
		t.Errorf("release %+v, want %+v", rel, want)
	}
	if st.Product != "app" || st.OS != "linux" || st.Arch != "arm64" || st.CurrentSHA256 != "" || st.Installed != nil {
		t.Errorf("statement does not echo the question: %+v", st)
	}
	if !st.IssuedAt.Equal(now) || !st.ExpiresAt.Equal(now.Add(ttl)) {
		t.Errorf("issued %v expires %v, want %v and %v", st.IssuedAt, st.ExpiresAt, now, now.Add(ttl))
	}

	// The two keys are not interchangeable: an answer is not a release and
	// a release key does not vouch for freshness.
	env := decodeOK[api.LatestResponse](t, f.get(t, "/v1/products/app/latest?os=linux&arch=arm64")).Answer
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"answer under release keys", func() error { _, err := env.Verify(api.PayloadLatest, f.trust.ReleaseKeys); return err }()},
		{"answer as a release", func() error { _, err := env.Verify(api.PayloadRelease, f.trust.OnlineKeys); return err }()},
		{"release under online keys", func() error { _, err := st.Latest.Verify(api.PayloadRelease, f.trust.OnlineKeys); return err }()},
		{"release as an answer", func() error { _, err := st.Latest.Verify(api.PayloadLatest, f.trust.ReleaseKeys); return err }()},
		{"answer under the root key", func() error { _, err := env.Verify(api.PayloadLatest, f.inst.Keys.Trust().RootKeys); return err }()},
		{"release under the root key", func() error {
			_, err := st.Latest.Verify(api.PayloadRelease, f.inst.Keys.Trust().RootKeys)
			return err
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, api.ErrSignature) {
				t.Errorf("verified (err %v), want %v", tc.err, api.ErrSignature)
			}
		})
	}
}

func TestLatestEchoesNonce(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	const nonce = "0123456789abcdef0123456789abcdef"
	st, _ := f.latest(t, "app", "os=linux&arch=amd64&nonce="+nonce)
	if st.Nonce != nonce {
		t.Errorf("nonce %q, want %q echoed", st.Nonce, nonce)
	}
	for _, good := range []string{strings.Repeat("Z", 16), strings.Repeat("9", 64), "abc-DEF_0123456789"} {
		if st, _ := f.latest(t, "app", "os=linux&arch=amd64&nonce="+good); st.Nonce != good {
			t.Errorf("nonce %q, want %q echoed", st.Nonce, good)
		}
	}
	for _, bad := range []string{"short", strings.Repeat("a", 15), strings.Repeat("a", 65), "0123456789abcdef.", "has%20space0123456789", "%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00"} {
		resp, err := f.http.Get(f.url + "/v1/products/app/latest?os=linux&arch=amd64&nonce=" + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("nonce %q: status %d, want 400", bad, resp.StatusCode)
		}
	}
}

func TestLatestDefaultExpiry(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	before := time.Now()
	st, _ := f.latest(t, "app", "os=linux&arch=amd64")
	after := time.Now()
	if st.IssuedAt.Before(before.Add(-time.Second)) || st.IssuedAt.After(after.Add(time.Second)) {
		t.Errorf("issued at %v, want about now (%v)", st.IssuedAt, before)
	}
	if !st.ExpiresAt.After(st.IssuedAt) || st.ExpiresAt.Sub(st.IssuedAt) != server.DefaultLatestTTL {
		t.Errorf("issued %v expires %v, want %v later", st.IssuedAt, st.ExpiresAt, server.DefaultLatestTTL)
	}
}

func TestLatestInstalled(t *testing.T) {
	f := newFixture(t)
	v1 := f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	other := f.publish(t, "tool", api.SeriesPro, "1.0.0", "linux", "amd64")

	for _, tc := range []struct {
		name, current string
		want          string // installed version; "" for none
	}{
		{"published older release", sha256Hex(v1), "1.0.0"},
		{"latest itself", sha256Hex(artifactBytes("app", "2.0.0", "linux", "amd64")), "2.0.0"},
		{"unknown hash", sha256Hex([]byte("a locally built binary")), ""},
		{"another product's artifact", sha256Hex(other), ""},
		{"no hash given", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := "os=linux&arch=amd64"
			if tc.current != "" {
				q += "&current_sha256=" + tc.current
			}
			st, rel := f.latest(t, "app", q)
			if rel.Version != "2.0.0" {
				t.Errorf("latest %s, want 2.0.0", rel.Version)
			}
			if st.CurrentSHA256 != tc.current {
				t.Errorf("current_sha256 echoed as %q, want %q", st.CurrentSHA256, tc.current)
			}
			if tc.want == "" {
				if st.Installed != nil {
					t.Errorf("installed is set for an unpublished hash: %+v", st.Installed)
				}
				return
			}
			if st.Installed == nil {
				t.Fatalf("installed is absent, want release %s", tc.want)
			}
			var inst api.ReleaseStatement
			if err := st.Installed.VerifyInto(api.PayloadRelease, f.trust.ReleaseKeys, &inst); err != nil {
				t.Fatalf("installed release: %v", err)
			}
			if inst.Version != tc.want || inst.SHA256 != tc.current || inst.Product != "app" {
				t.Errorf("installed %+v, want app %s with sha256 %s", inst, tc.want, tc.current)
			}
		})
	}
}

func TestLatestPlatforms(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	f.publish(t, "app", api.SeriesPro, "2.0.0", "windows", "amd64")
	f.publish(t, "app", api.SeriesPro, "3.0.0", "linux", "arm64")
	f.publish(t, "app", api.SeriesPro, "1.5.0", "linux", "amd64")

	for _, tc := range []struct{ os, arch, want string }{
		{"linux", "amd64", "1.5.0"},
		{"windows", "amd64", "2.0.0"},
		{"linux", "arm64", "3.0.0"},
	} {
		t.Run(tc.os+"/"+tc.arch, func(t *testing.T) {
			_, rel := f.latest(t, "app", "os="+tc.os+"&arch="+tc.arch)
			if rel.Version != tc.want || rel.OS != tc.os || rel.Arch != tc.arch {
				t.Errorf("latest is %s for %s/%s, want %s for %s/%s", rel.Version, rel.OS, rel.Arch, tc.want, tc.os, tc.arch)
			}
		})
	}
	for _, tc := range []struct{ name, path string }{
		{"unpublished platform", "/v1/products/app/latest?os=darwin&arch=amd64"},
		{"unpublished arch", "/v1/products/app/latest?os=windows&arch=arm64"},
		{"platform names are exact", "/v1/products/app/latest?os=Linux&arch=amd64"},
		{"unknown product", "/v1/products/nosuch/latest?os=linux&arch=amd64"},
		{"product names are exact", "/v1/products/App/latest?os=linux&arch=amd64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, f.get(t, tc.path), http.StatusNotFound, api.CodeNotFound)
		})
	}
}

func TestLatestBadRequest(t *testing.T) {
	f := newFixture(t)
	sum := sha256Hex(f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64"))
	for _, tc := range []struct{ name, path string }{
		{"no query", "/v1/products/app/latest"},
		{"no os", "/v1/products/app/latest?arch=amd64"},
		{"no arch", "/v1/products/app/latest?os=linux"},
		{"empty os", "/v1/products/app/latest?os=&arch=amd64"},
		{"os with a slash", "/v1/products/app/latest?os=linux%2F..&arch=amd64"},
		{"arch too long", "/v1/products/app/latest?os=linux&arch=" + strings.Repeat("x", 129)},
		{"current_sha256 uppercase", "/v1/products/app/latest?os=linux&arch=amd64&current_sha256=" + strings.ToUpper(sum)},
		{"current_sha256 short", "/v1/products/app/latest?os=linux&arch=amd64&current_sha256=" + sum[:63]},
		{"current_sha256 long", "/v1/products/app/latest?os=linux&arch=amd64&current_sha256=" + sum + "0"},
		{"current_sha256 not hex", "/v1/products/app/latest?os=linux&arch=amd64&current_sha256=" + strings.Repeat("g", 64)},
		{"product is a path trick", "/v1/products/..%2F..%2Fetc/latest?os=linux&arch=amd64"},
		{"product is dot-dot", "/v1/products/%2e%2e/latest?os=linux&arch=amd64"},
		{"product starts with a dash", "/v1/products/-app/latest?os=linux&arch=amd64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, f.get(t, tc.path), http.StatusBadRequest, api.CodeBadRequest)
		})
	}
}
