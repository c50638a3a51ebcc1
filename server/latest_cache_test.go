package server_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
)

// latestRecheck is the server's bound on how late a release published by
// another process shows (latest_cache.go).
const latestRecheck = 5 * time.Second

// fakeClock is a server clock a test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newClockedFixture(t *testing.T, ttl time.Duration) (*fixture, *fakeClock) {
	clock := &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	f := newFixtureWith(t, func(s *server.Server) {
		s.Now = clock.Now
		s.LatestTTL = ttl
	})
	return f, clock
}

const nonceA, nonceB = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

// The answer without a nonce is signed once and served as it is, also
// after the store is read again and says the same, until less than a
// tenth of its validity is left; an answer to a nonce is signed for it.
func TestLatestCacheSignsOnce(t *testing.T) {
	const ttl = time.Hour
	f, clock := newClockedFixture(t, ttl)
	f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	const q = "/v1/products/app/latest?os=linux&arch=amd64"
	issued := clock.Now()

	first := f.get(t, q)
	if again := f.get(t, q); !bytes.Equal(again.body, first.body) {
		t.Error("a second answer was signed for the same question")
	}
	clock.advance(2 * latestRecheck) // read again, unchanged
	if again := f.get(t, q); !bytes.Equal(again.body, first.body) {
		t.Error("an unchanged store had the answer signed again")
	}
	if st, _ := f.latest(t, "app", "os=linux&arch=amd64"); !st.IssuedAt.Equal(issued) {
		t.Errorf("issued %v, want the first signature's %v", st.IssuedAt, issued)
	}

	for _, nonce := range []string{nonceA, nonceB} {
		st, _ := f.latest(t, "app", "os=linux&arch=amd64&nonce="+nonce)
		if st.Nonce != nonce || !st.IssuedAt.Equal(clock.Now()) || !st.ExpiresAt.Equal(clock.Now().Add(ttl)) {
			t.Errorf("answer to nonce %s: nonce %q issued %v expires %v; want it echoed, signed now", nonce, st.Nonce, st.IssuedAt, st.ExpiresAt)
		}
	}

	// Near expiry: signed anew.
	clock.advance(ttl - ttl/10 - 2*latestRecheck)
	renewed := f.get(t, q)
	if bytes.Equal(renewed.body, first.body) {
		t.Fatal("an answer with less than a tenth of its validity left is still served")
	}
	if st, _ := f.latest(t, "app", "os=linux&arch=amd64"); !st.IssuedAt.Equal(clock.Now()) || !st.ExpiresAt.Equal(clock.Now().Add(ttl)) {
		t.Errorf("renewed answer issued %v expires %v; want now and an hour on", st.IssuedAt, st.ExpiresAt)
	}
}

// A publish through the server's own Instance shows at once.
func TestLatestCacheSeesOwnPublishAtOnce(t *testing.T) {
	f, _ := newClockedFixture(t, time.Hour)
	f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	for _, nonce := range []string{"", nonceA} {
		if _, rel := f.latest(t, "app", "os=linux&arch=amd64&nonce="+nonce); rel.Version != "1.0.0" {
			t.Fatalf("latest = %s, want 1.0.0", rel.Version)
		}
	}
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	for _, nonce := range []string{"", nonceB} {
		if _, rel := f.latest(t, "app", "os=linux&arch=amd64&nonce="+nonce); rel.Version != "2.0.0" {
			t.Errorf("after a publish through the same Instance, latest (nonce %q) = %s, want 2.0.0 at once", nonce, rel.Version)
		}
	}
}

// A publish by another process (here another Instance on the same data
// folder and database, as aktuald release publish or another replica is)
// cannot be seen in memory: it shows once the statement is read again,
// within latestRecheck.
func TestLatestCacheSeesAnotherProcessPublishWithinBound(t *testing.T) {
	f, clock := newClockedFixture(t, time.Hour)
	f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	v1 := artifactBytes("app", "1.0.0", "linux", "amd64")
	query := func(nonce string) string {
		return "os=linux&arch=amd64&current_sha256=" + sha256Hex(v1) + "&nonce=" + nonce
	}
	for _, nonce := range []string{"", nonceA} {
		if _, rel := f.latest(t, "app", query(nonce)); rel.Version != "1.0.0" {
			t.Fatalf("latest = %s, want 1.0.0", rel.Version)
		}
	}

	other, err := datadir.Open(f.inst.Dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	data := artifactBytes("app", "2.0.0", "linux", "amd64")
	if _, err := admin.New(other).Publish(t.Context(), admin.PublishParams{Product: "app", Series: api.SeriesPro, Version: "2.0.0",
		OS: "linux", Arch: "amd64", File: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}

	// Within the bound the cached statement answers: the store is not
	// read for every request. Once the bound has passed, the new release
	// shows.
	clock.advance(latestRecheck - time.Second)
	for _, nonce := range []string{"", nonceB} {
		if _, rel := f.latest(t, "app", query(nonce)); rel.Version != "1.0.0" {
			t.Errorf("before the bound, latest (nonce %q) shows %s: the store was read again, not cached", nonce, rel.Version)
		}
	}
	clock.advance(time.Second)
	for _, nonce := range []string{"", nonceB} {
		st, rel := f.latest(t, "app", query(nonce))
		if rel.Version != "2.0.0" {
			t.Errorf("%v after another process published 2.0.0, latest (nonce %q) = %s", latestRecheck, nonce, rel.Version)
		}
		if st.Installed == nil || st.Nonce != nonce {
			t.Errorf("answer does not name the installed release or echo the nonce: %+v", st)
		}
	}
}

// Every question has its own answer: platform and current hash are part
// of the key.
func TestLatestCacheKeysByQuestion(t *testing.T) {
	f, _ := newClockedFixture(t, time.Hour)
	f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	f.publish(t, "app", api.SeriesPro, "1.1.0", "linux", "arm64")
	v1 := artifactBytes("app", "1.0.0", "linux", "amd64")
	for i := range 2 {
		for _, tc := range []struct{ query, version, current string }{
			{"os=linux&arch=amd64", "1.0.0", ""},
			{"os=linux&arch=arm64", "1.1.0", ""},
			{"os=linux&arch=amd64&current_sha256=" + sha256Hex(v1), "1.0.0", sha256Hex(v1)},
		} {
			st, rel := f.latest(t, "app", tc.query)
			if rel.Version != tc.version || st.CurrentSHA256 != tc.current || (tc.current != "") != (st.Installed != nil) {
				t.Errorf("round %d, %s: version %s, current %q, installed %v", i, tc.query, rel.Version, st.CurrentSHA256, st.Installed != nil)
			}
		}
	}
}

// getAll sends the GETs at once and returns their answers in order.
func (f *fixture) getAll(t *testing.T, paths []string) []reply {
	t.Helper()
	out := make([]reply, len(paths))
	errs := make([]error, len(paths))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, path := range paths {
		wg.Go(func() {
			<-start
			out[i], errs[i] = f.send(t.Context(), http.MethodGet, path, nil)
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return out
}

// A stampede on one question: every answer without a nonce is the one
// signed answer; every answer to a nonce echoes its own.
func TestLatestCacheStampede(t *testing.T) {
	f, _ := newClockedFixture(t, time.Hour)
	f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	const n = 64
	var shared, nonced []string
	for i := range n {
		shared = append(shared, "/v1/products/app/latest?os=linux&arch=amd64")
		nonced = append(nonced, fmt.Sprintf("/v1/products/app/latest?os=linux&arch=amd64&nonce=%032d", i))
	}
	replies := f.getAll(t, shared)
	for i, r := range replies {
		if r.status != http.StatusOK || !bytes.Equal(r.body, replies[0].body) {
			t.Fatalf("answer %d of %d differs: %s", i, n, r)
		}
	}
	for i, r := range f.getAll(t, nonced) {
		resp := decodeOK[api.LatestResponse](t, r)
		var st api.LatestStatement
		if err := resp.Answer.VerifyInto(api.PayloadLatest, f.trust.OnlineKeys, &st); err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if want := fmt.Sprintf("%032d", i); st.Nonce != want {
			t.Errorf("answer %d echoes nonce %q, want %q", i, st.Nonce, want)
		}
	}
}
