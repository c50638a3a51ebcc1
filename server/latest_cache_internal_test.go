package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/server/keyring"
)

// Clients choose the current hash in the question: the cache holds at
// most maxLatestEntries questions whatever they send.
func TestLatestCacheIsBounded(t *testing.T) {
	var c latestCache
	for i := range maxLatestEntries + 100 {
		c.entry(latestQuery{Product: "app", OS: "linux", Arch: "amd64", Current: fmt.Sprintf("%064x", i)})
		if len(c.entries) > maxLatestEntries {
			t.Fatalf("%d entries after %d questions; want at most %d", len(c.entries), i+1, maxLatestEntries)
		}
	}
	q := latestQuery{Product: "app", OS: "linux", Arch: "amd64"}
	if first, again := c.entry(q), c.entry(q); first != again {
		t.Error("one question, two entries")
	}
}

// keyring.Keys that change (a rotated online key) have the answer signed anew
// with the new key at once, even though the store says the same.
func TestLatestCacheFollowsTheKeys(t *testing.T) {
	inst, err := datadir.Open(datadir.DataDir(t.TempDir()), "")
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	if _, err := admin.New(inst).Publish(t.Context(), admin.PublishParams{Product: "app", Series: api.SeriesPro, Version: "1.0.0",
		OS: "linux", Arch: "amd64", File: bytes.NewReader([]byte("app 1.0.0"))}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s := New(inst, "test", nil)
	s.Now = func() time.Time { return now }
	q := latestQuery{Product: "app", OS: "linux", Arch: "amd64"}
	first, err := s.latestAnswer(t.Context(), q, answerFor{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, online, err := inst.Dir.Keyring().RotateKey(api.RoleOnline, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Keys = keys
	second, err := s.latestAnswer(t.Context(), q, answerFor{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var resp api.LatestResponse
	if err := json.Unmarshal(second, &resp); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(first, second) || resp.Answer.Signatures[0].KeyID != online.ID {
		t.Errorf("after the online key was rotated the answer is signed by %s, want the new key %s", resp.Answer.Signatures[0].KeyID, online.ID)
	}
}

// The answer latestCache.encode splices together is byte for byte the
// one writeJSON writes for an api.LatestResponse: without roots, and with
// the links after each root version a client may trust.
func TestLatestEncodingIsWriteJSONs(t *testing.T) {
	inst, err := datadir.Open(datadir.DataDir(t.TempDir()), "")
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	payload := []byte(`{"product":"app","note":"<&>"}`)
	answers := []api.Envelope{api.Sign(api.PayloadLatest, payload, inst.Keys.Online)}
	// Answers signed in trees of 1, 2 and 5 (paths of 0, 1 and 3 hashes),
	// and envelopes no server makes but the encoder must still get right.
	for _, n := range []int{1, 2, 5} {
		ps := make([][]byte, n)
		for i := range ps {
			ps[i] = payload
		}
		answers = append(answers, api.SignTree(api.PayloadLatest, ps, inst.Keys.Online)[n-1])
	}
	odd := api.Sign("a\"<type>\u00e9", nil, inst.Keys.Online)
	odd.Signatures = append(odd.Signatures, api.Signature{KeyID: "k&\n", Tree: &api.TreeProof{Index: 7}})
	answers = append(answers, odd, api.Envelope{}, api.Envelope{Signatures: []api.Signature{}})
	check := func(keys *keyring.Keys, root int64) {
		t.Helper()
		var c latestCache
		for _, answer := range answers {
			for range 2 { // encoding the key set, then reusing it
				got, err := c.encode(keys, root, answer)
				if err != nil {
					t.Fatal(err)
				}
				w := httptest.NewRecorder()
				writeJSON(w, 200, api.LatestResponse{Keys: keys.KeySetEnvelope, Answer: answer, Roots: keys.RootsAfter(root)})
				if !bytes.Equal(got, w.Body.Bytes()) {
					t.Fatalf("root %d: encode:\n%s\nwriteJSON:\n%s", root, got, w.Body.Bytes())
				}
			}
		}
	}
	check(inst.Keys, 0)
	check(inst.Keys, 1)
	for range 2 {
		if _, _, err := inst.Dir.Keyring().RotateRoot(nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := inst.Dir.Keyring().Init(nil)
	if err != nil {
		t.Fatal(err)
	}
	for root := range int64(5) {
		check(keys, root)
	}
	if len(keys.RootsAfter(1)) != 2 {
		t.Fatalf("%d links after root 1, want 2", len(keys.RootsAfter(1)))
	}
}
