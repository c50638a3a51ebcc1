package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/keyring"
)

// The "latest" answer is the server's hot path: on a release day every
// installation asks it at once. Building it reads the store (the
// platform's releases, the installed release) and decodes every release's
// envelope; signing it costs an Ed25519 signature and an encoding. Both
// are cached per question (latestQuery), in two layers:
//
//   - the statement read from the store is reused for latestRecheck, then
//     read again; the answer to a client's nonce is signed from it afresh
//     each time (the nonce is inside what is signed, so no two clients can
//     share that answer);
//   - the answer without a nonce is signed once and served, byte for byte,
//     until what it says changes (a release published or re-signed, the
//     keys changed) or less than a tenth of its validity is left.
//
// A publish or re-sign through this process's Admin (the same Instance)
// is seen at once (datadir.Changes). One by another process — aktuald
// release publish, aktuald keys, another replica on the same PostgreSQL —
// cannot be seen in memory: it shows within latestRecheck, when the store
// is read again. A short bound was chosen over a store query per request
// (a "newest change" counter would need a new store method and schema in
// both stores) because the store read it saves is most of the answer's
// cost, and five seconds late is nothing for an update published once.

// latestRecheck bounds how long a statement read from the store is used
// before it is read again: the longest a release published by another
// process or replica takes to show in the answers.
const latestRecheck = 5 * time.Second

// latestRefreshShare is the share of a signed answer's validity that, once
// left, has the shared answer signed anew: 1/10.
const latestRefreshShare = 10

// maxLatestEntries bounds the cache: questions differ by product,
// platform and the client's current hash, which a client may make up. A
// full cache drops an arbitrary entry for a new one.
const maxLatestEntries = 4096

// latestQuery is a latest question without its nonce: every input of the
// answer, and so the cache's key. A query parameter that changes the
// answer must be a field here, or one question's answer would be given to
// another.
type latestQuery struct {
	Product, OS, Arch string
	Current           string // current_sha256; "" when not asked
	Patch             bool   // a patch from Current is asked for (patch=bsdiff)
	Root              int64  // the root version the client trusts, when before the server's (askedRoot); else 0
}

// latestCache holds the statements and shared answers, per question.
type latestCache struct {
	mu      sync.Mutex
	entries map[latestQuery]*latestEntry
	// off serves every answer uncached: for benchmarks and tests that
	// compare with the cache.
	off   bool
	keys  atomic.Pointer[keysEncoding]
	trees treeSigner // signs answers for sig=tree
}

type latestEntry struct {
	// refresh is held by the one request that reads the store or signs
	// the shared answer for the entry; the others wait for its result
	// rather than doing the same work.
	refresh sync.Mutex
	snap    atomic.Pointer[latestSnapshot]
}

// latestSnapshot is one reading of the store for a question, immutable
// but for the shared answer signed from it.
type latestSnapshot struct {
	reading *latestReading
	st      api.LatestStatement // to an older installer: no nonce, no times
	// none: no release is offered to an older installer (st is empty);
	// one that asks with proto=2 may still be offered one (staged, on a
	// channel), chosen from the reading.
	none    bool
	stable  []byte    // st encoded: a new reading is compared with it
	checked time.Time // when the store was read
	changes uint64    // catalogChanges then
	keys    *keyring.Keys
	shared  atomic.Pointer[signedLatest]
}

// signedLatest is an encoded, signed answer.
type signedLatest struct {
	body      []byte
	issued    time.Time
	refreshAt time.Time // sign anew from here: less than a tenth of its validity left
}

// current reports whether the snapshot may answer at now without reading
// the store again.
func (p *latestSnapshot) current(now time.Time, changes uint64, keys *keyring.Keys) bool {
	return p != nil && p.changes == changes && p.keys == keys &&
		!now.Before(p.checked) && now.Sub(p.checked) < latestRecheck
}

// snapshotCurrent is current, and the patch the snapshot offers, if any,
// still in the blob store: a patch whose file is gone is not offered (a
// stat, far cheaper than the store read it saves).
func (s *Server) snapshotCurrent(p *latestSnapshot, now time.Time, changes uint64) bool {
	if !p.current(now, changes, s.Keys) {
		return false
	}
	if p.st.Patch == nil {
		return true
	}
	return s.Blobs.Has(p.st.Patch.SHA256)
}

// usable reports whether a shared answer may still be served at now.
func (a *signedLatest) usable(now time.Time) bool {
	return a != nil && !now.Before(a.issued) && now.Before(a.refreshAt)
}

func (c *latestCache) entry(q latestQuery) *latestEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[q]; ok {
		return e
	}
	if c.entries == nil {
		c.entries = make(map[latestQuery]*latestEntry)
	}
	if len(c.entries) >= maxLatestEntries {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	e := &latestEntry{}
	c.entries[q] = e
	return e
}

// answerFor is who a latest answer is signed for: the installer's nonce
// ("" for none: the shared answer), and whether it accepts a signature
// over a tree of answers (sig=tree: treesign.go).
type answerFor struct {
	nonce string
	tree  bool
}

// latestAnswer is the encoded, signed answer to q for ask, for an installer that asked for the release control fields with
// oq (nil for none): errNoRelease, a *latestError, or the body.
func (s *Server) latestAnswer(ctx context.Context, q latestQuery, ask answerFor, oq *offerQuery) ([]byte, error) {
	now := s.Now.UTC()
	if s.latest.off {
		st, rd, err := s.latestStatement(ctx, q)
		if oq != nil && rd != nil {
			st, err = s.statementFor(ctx, q, rd, oq)
		}
		return s.signedBody(st, err, q.Root, ask, now)
	}
	e := s.latest.entry(q)
	snap, err := s.latestSnapshot(ctx, e, q, now)
	if err != nil {
		return nil, err
	}
	if oq != nil {
		// Chosen per installation (latest_offer.go), from the reading.
		st, err := s.statementFor(ctx, q, snap.reading, oq)
		return s.signedBody(st, err, q.Root, ask, now)
	}
	if snap.none {
		return nil, errNoRelease
	}
	if ask.nonce != "" {
		return s.signedBody(snap.st, nil, q.Root, ask, now)
	}
	if a := snap.shared.Load(); a.usable(now) {
		return a.body, nil
	}
	e.refresh.Lock()
	defer e.refresh.Unlock()
	if a := snap.shared.Load(); a.usable(now) {
		return a.body, nil // signed by the request this one waited for
	}
	a, err := s.signLatest(snap.st, q.Root, answerFor{}, now)
	if err != nil {
		return nil, err
	}
	snap.shared.Store(a)
	return a.body, nil
}

// signedBody signs st for one request (unless err, the failure to make
// it, is set) and returns the encoded answer.
func (s *Server) signedBody(st api.LatestStatement, err error, root int64, ask answerFor, now time.Time) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	a, err := s.signLatest(st, root, ask, now)
	if err != nil {
		return nil, err
	}
	return a.body, nil
}

// latestSnapshot returns the entry's statement, reading the store again
// when it is older than latestRecheck or the catalogue or keys changed
// since. A reading that says the same as the last keeps its signed
// answer: nothing is signed for a question whose answer did not change.
func (s *Server) latestSnapshot(ctx context.Context, e *latestEntry, q latestQuery, now time.Time) (*latestSnapshot, error) {
	changes := s.Changes.Count()
	if p := e.snap.Load(); s.snapshotCurrent(p, now, changes) {
		return p, nil
	}
	e.refresh.Lock()
	defer e.refresh.Unlock()
	old := e.snap.Load()
	if s.snapshotCurrent(old, now, changes) {
		return old, nil // read by the request this one waited for
	}
	st, rd, err := s.latestStatement(ctx, q)
	none := errors.Is(err, errNoRelease) && rd != nil
	if err != nil && !none {
		return nil, err
	}
	stable, err := json.Marshal(st)
	if err != nil {
		return nil, &latestError{"encoding latest answer", err}
	}
	p := &latestSnapshot{reading: rd, st: st, none: none, stable: stable, checked: now, changes: changes, keys: s.Keys}
	if old != nil && old.keys == s.Keys && bytes.Equal(old.stable, stable) {
		p.shared.Store(old.shared.Load())
	}
	e.snap.Store(p)
	return p, nil
}

// signLatest dates st at now, adds the nonce, signs it with the online key
// (alone, or in a tree with the answers made at the same moment, for an
// installer that accepts that) and encodes the whole answer, with the
// links of the chain of root keys after root (none for 0).
func (s *Server) signLatest(st api.LatestStatement, root int64, ask answerFor, now time.Time) (*signedLatest, error) {
	ttl := s.latestTTL()
	st.Nonce, st.IssuedAt, st.ExpiresAt = ask.nonce, now, now.Add(ttl)
	payload, err := json.Marshal(st)
	if err != nil {
		return nil, &latestError{"encoding latest answer", err}
	}
	keys := s.Keys
	var env api.Envelope
	if ask.tree && ask.nonce != "" {
		if env, err = s.latest.trees.sign(payload, keys.Online); err != nil {
			return nil, &latestError{"signing latest answer", err}
		}
	} else {
		env = api.Sign(api.PayloadLatest, payload, keys.Online)
	}
	body, err := s.latest.encode(keys, root, env)
	if err != nil {
		return nil, &latestError{"encoding latest answer", err}
	}
	return &signedLatest{body: body, issued: now, refreshAt: now.Add(ttl - ttl/latestRefreshShare)}, nil
}

// keysEncoding is the key set envelope of keys, encoded as it stands in
// every answer, and the links of the chain of root keys after each root
// version before the server's (roots[v-1]), as they stand in an answer to
// a client that trusts root v.
type keysEncoding struct {
	keys  *keyring.Keys
	json  []byte
	roots [][]byte
}

// encode encodes the answer exactly as writeJSON encodes an
// api.LatestResponse (TestLatestEncodingIsWriteJSONs), with the key set's
// part, the same in every answer, encoded once per key set: indenting it
// anew was a third of the cost of an answer to a nonce. So are the roots
// part of each root version a client may trust (root; 0: none).
func (c *latestCache) encode(keys *keyring.Keys, root int64, answer api.Envelope) ([]byte, error) {
	k := c.keys.Load()
	if k == nil || k.keys != keys {
		var err error
		if k, err = encodeKeys(keys); err != nil {
			return nil, err
		}
		c.keys.Store(k)
	}
	var roots []byte
	if root >= 1 && int(root) <= len(k.roots) {
		roots = k.roots[root-1]
	}
	const head, mid, more, tail = "{\n  \"keys\": ", ",\n  \"answer\": ", ",\n  \"roots\": ", "\n}\n"
	size := len(head) + len(k.json) + len(mid) + 4*len(answer.Payload)/3 + 512 + len(more) + len(roots) + len(tail)
	for _, s := range answer.Signatures {
		if s.Tree != nil {
			size += 64 * len(s.Tree.Path)
		}
	}
	body := make([]byte, 0, size)
	body = appendAnswer(append(append(append(body, head...), k.json...), mid...), answer)
	if roots != nil {
		body = append(append(body, more...), roots...)
	}
	return append(body, tail...), nil
}

// encodeKeys encodes what every answer made with keys repeats.
func encodeKeys(keys *keyring.Keys) (*keysEncoding, error) {
	b, err := json.MarshalIndent(keys.KeySetEnvelope, "  ", "  ")
	if err != nil {
		return nil, err
	}
	k := &keysEncoding{keys: keys, json: b}
	for v := int64(1); v < keys.Roots.Root(); v++ {
		r, err := json.MarshalIndent(keys.RootsAfter(v), "  ", "  ")
		if err != nil {
			return nil, err
		}
		k.roots = append(k.roots, r)
	}
	return k, nil
}

// latestError is a failure of the server's own (the store, an encoding):
// what failed, for the log.
type latestError struct {
	what string
	err  error
}

func (e *latestError) Error() string { return e.what + ": " + e.err.Error() }
func (e *latestError) Unwrap() error { return e.err }

// writeJSONBody writes an encoded answer with writeJSON's headers.
func writeJSONBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body) // a client that hung up: nobody to tell; the request log has the size
}
