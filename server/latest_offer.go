package server

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/patches"
	"github.com/aktual/aktual/server/store"
)

// What one installation is offered depends on more than its question's
// cache key: its channel, its place in staged rollouts, the version it
// says it has, --force, and (on a required path) the updates its machine
// paid for. The store is read once per question (latestReading, cached
// as the statement was); the choice among the releases read
// (store.Select) is made per request, in memory.

// offerQuery is what an installer that asked with proto=2 adds to its
// question.
type offerQuery struct {
	Channel string // "" for stable
	Machine string // its protected machine identity; "" when not sent
	From    string // the version it knows it has; "" when unknown
	Force   bool
}

// latestReading is one reading of the store for a latest question.
type latestReading struct {
	catalog   *store.Catalog          // the releases and their controls, prepared for Select
	envelopes map[string]api.Envelope // by release version (canonical)
	installed *api.Envelope           // the release whose hash is the question's current one
	from      string                  // its version
	// patches memoises the patch from the current file to each release
	// offered (its sha256): a reading is shared by many requests.
	mu      sync.Mutex
	patches map[string]*api.PatchOffer
	notesMu sync.Mutex               // notes has its own: mu is held across a patch lookup
	notes   map[string]*api.Envelope // decoded release notes, by version (canonical)
}

// readLatest reads what answers to q are made of.
func (s *Server) readLatest(ctx context.Context, q latestQuery) (*latestReading, error) {
	releases, err := s.Store.Releases(ctx, q.Product, q.OS, q.Arch)
	if err != nil {
		return nil, &latestError{"listing releases", err}
	}
	controls, err := s.Store.ReleaseControls(ctx, q.Product)
	if err != nil {
		return nil, &latestError{"listing release controls", err}
	}
	rd := &latestReading{catalog: store.NewCatalog(releases, controls),
		envelopes: map[string]api.Envelope{}, patches: map[string]*api.PatchOffer{}}
	for _, r := range releases {
		var env api.Envelope
		if err := json.Unmarshal(r.Envelope, &env); err != nil {
			return nil, &latestError{"decoding stored release envelope", err}
		}
		rd.envelopes[api.CanonicalVersion(r.Version)] = env
	}
	if q.Current != "" {
		inst, err := s.Store.ReleaseBySHA256(ctx, q.Product, q.Current)
		switch {
		case err == nil:
			var env api.Envelope
			if err := json.Unmarshal(inst.Envelope, &env); err != nil {
				return nil, &latestError{"decoding stored release envelope", err}
			}
			rd.installed, rd.from = &env, inst.Version
		case !errors.Is(err, store.ErrNotFound):
			return nil, &latestError{"finding installed release", err}
		}
	}
	return rd, nil
}

// statementFor is the answer to q from a reading, for an installer that
// asked with oq (nil: an older installer, given none of the release
// control fields). Nonce and times are left to signLatest.
func (s *Server) statementFor(ctx context.Context, q latestQuery, rd *latestReading, oq *offerQuery) (api.LatestStatement, error) {
	sel := store.OfferQuery{Bucket: -1, From: rd.from}
	if oq != nil {
		sel.Channel, sel.Force = oq.Channel, oq.Force
		if sel.From == "" {
			sel.From = oq.From
		}
		if oq.Machine != "" {
			sel.Bucket = api.RolloutBucket(q.Product, oq.Machine)
			sel.Paths = func() ([]string, error) { return s.Store.PaidPaths(ctx, q.Product, oq.Machine) }
		}
	}
	offer, err := rd.catalog.Select(sel)
	if err != nil {
		return api.LatestStatement{}, &latestError{"listing the updates a machine paid for", err}
	}
	if offer.Release == nil {
		return api.LatestStatement{}, errNoRelease
	}
	st := api.LatestStatement{Product: q.Product, OS: q.OS, Arch: q.Arch, CurrentSHA256: q.Current,
		Latest: rd.envelopes[api.CanonicalVersion(offer.Release.Version)], Installed: rd.installed}
	if q.Patch {
		// Only to a client that asked: older ones refuse unknown fields.
		st.Patch = s.patchOffer(ctx, q, rd, offer.Release.SHA256)
	}
	if oq == nil {
		return st, nil
	}
	st.Channel, st.Machine = oq.Channel, oq.Machine
	st.Rollout, st.Critical, st.Withheld, st.Path = offer.Rollout, offer.Control.Critical, offer.Withheld, offer.Path
	if len(offer.Control.Notes) > 0 {
		notes, err := rd.notesOf(offer.Control)
		if err != nil {
			return api.LatestStatement{}, &latestError{"decoding stored release notes", err}
		}
		st.Notes = notes
	}
	return st, nil
}

// notesOf is c's signed notes, decoded once per reading: every answer that
// offers the release carries them.
func (rd *latestReading) notesOf(c store.ReleaseControl) (*api.Envelope, error) {
	rd.notesMu.Lock()
	defer rd.notesMu.Unlock()
	key := api.CanonicalVersion(c.Version)
	if n, ok := rd.notes[key]; ok {
		return n, nil
	}
	var notes api.Envelope
	if err := json.Unmarshal(c.Notes, &notes); err != nil {
		return nil, err
	}
	if rd.notes == nil {
		rd.notes = map[string]*api.Envelope{}
	}
	rd.notes[key] = &notes
	return &notes, nil
}

// patchOffer is the patch from the question's current file to the
// release with sha256 to, memoised in the reading; nil when there is
// none (or it cannot be found: the whole file is downloaded then).
func (s *Server) patchOffer(ctx context.Context, q latestQuery, rd *latestReading, to string) *api.PatchOffer {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if p, ok := rd.patches[to]; ok {
		return p
	}
	offer, err := patches.Offer(ctx, s.Store, s.Blobs, q.Product, q.OS, q.Arch, q.Current, to)
	if err != nil {
		s.logger().Warn("no patch offered", "product", q.Product, "err", err)
		return nil
	}
	rd.patches[to] = offer
	return offer
}
