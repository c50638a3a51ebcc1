package admin

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// Event is one entry of the audit log.
type Event struct {
	ID            int64     `json:"id"`
	At            time.Time `json:"at"`
	Actor         string    `json:"actor"`
	Address       string    `json:"address,omitempty"`
	Action        string    `json:"action"`
	Customer      string    `json:"customer,omitempty"`
	EntitlementID int64     `json:"entitlement_id,omitempty"`
	Detail        string    `json:"detail,omitempty"`
	Reason        string    `json:"reason,omitempty"`
}

// EventPage is one page of the audit log, newest first; Next is the
// Before of the next page (0 after the last).
type EventPage struct {
	Events []Event `json:"events"`
	Next   int64   `json:"next"`
}

// Events reads the audit log: a distributor's staff see what was done to
// their own customers only.
func (a *Admin) Events(ctx context.Context, c Caller, q store.AuditQuery) (EventPage, error) {
	if err := c.allow(staff.ActViewAudit); err != nil {
		return EventPage{}, err
	}
	if q.Limit < 0 || q.Limit > 200 {
		return EventPage{}, invalid("limit must be between 1 and 200")
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return EventPage{}, invalid("from must be before to")
	}
	if c.Distributor != "" {
		q.Distributor = c.Distributor
	}
	found, next, err := a.Store.Events(ctx, q)
	if err != nil {
		return EventPage{}, fmt.Errorf("reading the audit log: %w", err)
	}
	page := EventPage{Events: make([]Event, 0, len(found)), Next: next}
	for _, e := range found {
		page.Events = append(page.Events, Event{ID: e.ID, At: e.At, Actor: e.Actor, Address: e.Address, Action: e.Action,
			Customer: e.Customer, EntitlementID: e.EntitlementID, Detail: e.Detail, Reason: e.Reason})
	}
	return page, nil
}

// ReleaseView is a published release as staff list it.
type ReleaseView struct {
	Product     string    `json:"product"`
	Series      string    `json:"series"`
	Version     string    `json:"version"`
	OS          string    `json:"os"`
	Arch        string    `json:"arch"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	PublishedAt time.Time `json:"published_at"`
	External    bool      `json:"external"`
}

// ReleasePage is one page of releases, newest first; Next is the offset
// of the next page (0 after the last).
type ReleasePage struct {
	Releases []ReleaseView `json:"releases"`
	Next     int           `json:"next"`
}

// Releases lists the published releases, newest first.
func (a *Admin) Releases(ctx context.Context, c Caller, offset, limit int) (ReleasePage, error) {
	if err := c.allow(staff.ActViewReleases); err != nil {
		return ReleasePage{}, err
	}
	all, err := a.Store.AllReleases(ctx)
	if err != nil {
		return ReleasePage{}, fmt.Errorf("listing releases: %w", err)
	}
	sort.SliceStable(all, func(i, j int) bool {
		if !all[i].PublishedAt.Equal(all[j].PublishedAt) {
			return all[i].PublishedAt.After(all[j].PublishedAt)
		}
		return all[i].Product+all[i].Version+all[i].OS+all[i].Arch < all[j].Product+all[j].Version+all[j].OS+all[j].Arch
	})
	items, next, err := Page(all, offset, limit)
	if err != nil {
		return ReleasePage{}, err
	}
	page := ReleasePage{Releases: make([]ReleaseView, 0, len(items)), Next: next}
	for _, r := range items {
		page.Releases = append(page.Releases, ReleaseView{Product: r.Product, Series: r.Series, Version: r.Version, OS: r.OS,
			Arch: r.Arch, Size: r.Size, SHA256: r.SHA256, PublishedAt: r.PublishedAt, External: r.URL != ""})
	}
	return page, nil
}
