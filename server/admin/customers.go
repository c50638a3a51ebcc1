package admin

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/keyring"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// Credential is one of a customer's entitlements as staff see it.
type Credential struct {
	ID          int64     `json:"id"`
	Customer    string    `json:"customer,omitempty"`
	Series      string    `json:"series"`
	Kind        string    `json:"kind"`
	CodeHint    string    `json:"code_hint,omitempty"`
	HWKeySerial string    `json:"hwkey,omitempty"`
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at"`
	Counts
}

func credentialOf(e store.Entitlement) Credential {
	return Credential{
		ID: e.ID, Series: e.Series, Kind: e.Kind, CodeHint: e.CodeHint, HWKeySerial: e.HWKeySerial,
		Active: e.Active, CreatedAt: e.CreatedAt, Counts: countsOf(e),
	}
}

// CustomerSummary is a customer in a list: who, and what they hold.
type CustomerSummary struct {
	Name        string       `json:"name"`
	VAT         string       `json:"vat,omitempty"`
	Distributor string       `json:"distributor,omitempty"`
	Credentials []Credential `json:"credentials"`
}

// SearchPage is one page of a search: Next is the After of the next page
// ("" after the last).
type SearchPage struct {
	Customers []CustomerSummary `json:"customers"`
	Next      string            `json:"next"`
}

// MaxPage bounds every listed page.
const MaxPage = 100

// Search finds the customers c may see whose name or VAT number contains
// text, or whose code ends in it or whose hardware key's serial contains
// it; a whole update code, typed in any form, finds its customer.
func (a *Admin) Search(ctx context.Context, c Caller, text, after string, limit int) (SearchPage, error) {
	if err := c.allow(staff.ActView); err != nil {
		return SearchPage{}, err
	}
	text = strings.TrimSpace(text)
	if len(text) > 200 || len(after) > 200 {
		return SearchPage{}, invalid("the search text is too long; type at most 200 characters")
	}
	if limit < 0 || limit > MaxPage {
		return SearchPage{}, invalid("limit must be between 1 and %d", MaxPage)
	}
	q := store.CustomerQuery{Text: text, After: after, Limit: limit}
	if code, err := api.ParseCode(text); err == nil {
		q.Text, q.CodeHash = "", keyring.CodeHash(a.Keys.CodeSecret, code)
	}
	if c.Distributor != "" {
		q.Distributor = c.Distributor
	}
	found, next, err := a.Store.Customers(ctx, q)
	if err != nil {
		return SearchPage{}, fmt.Errorf("searching customers: %w", err)
	}
	page := SearchPage{Customers: make([]CustomerSummary, 0, len(found)), Next: next}
	for _, cu := range found {
		s, err := a.summary(ctx, cu)
		if err != nil {
			return SearchPage{}, err
		}
		page.Customers = append(page.Customers, s)
	}
	return page, nil
}

func (a *Admin) summary(ctx context.Context, cu store.Customer) (CustomerSummary, error) {
	ents, err := a.Store.CustomerEntitlements(ctx, cu.Name)
	if err != nil {
		return CustomerSummary{}, fmt.Errorf("listing %s's entitlements: %w", cu.Name, err)
	}
	s := CustomerSummary{Name: cu.Name, VAT: cu.VAT, Distributor: cu.Distributor, Credentials: make([]Credential, 0, len(ents))}
	for _, e := range ents {
		s.Credentials = append(s.Credentials, credentialOf(e))
	}
	return s, nil
}

// HistoryEntry is one ledger row as staff read it.
type HistoryEntry struct {
	ID            int64     `json:"id"`
	EntitlementID int64     `json:"entitlement_id"`
	Kind          string    `json:"kind"`
	Reservation   string    `json:"reservation,omitempty"`
	At            time.Time `json:"at"`
	Actor         string    `json:"actor"`
	Reason        string    `json:"reason,omitempty"`
	Purchased     int64     `json:"purchased"`
	Remaining     int64     `json:"remaining"`
	Held          int64     `json:"held"`
	Consumed      int64     `json:"consumed"`
	Overdraft     int64     `json:"overdraft,omitempty"`
}

// CustomerDetail is the customer page: the customer, what they hold, and
// one page of the history of their counts, newest first (maxHistory rows
// unless asked for fewer). HistoryNext, when not 0, is the Before of the
// next, older page.
type CustomerDetail struct {
	CustomerSummary
	CreatedAt   time.Time      `json:"created_at"`
	History     []HistoryEntry `json:"history"`
	HistoryNext int64          `json:"history_next,omitempty"`
}

// maxHistory bounds a page of history on a customer page: a busy
// customer's ledger grows by a few rows per update, for years.
const maxHistory = 200

// HistoryPage picks a page of a customer's history: the rows older than
// Before (0: the newest), at most Limit (0: maxHistory).
type HistoryPage struct {
	Before int64
	Limit  int
}

// Customer returns a customer c may see, with their credentials and the
// newest page of the history of their counts.
func (a *Admin) Customer(ctx context.Context, c Caller, name string) (CustomerDetail, error) {
	return a.CustomerPage(ctx, c, name, HistoryPage{})
}

// CustomerPage returns a customer c may see, with their credentials and
// the page p of the history of their counts, newest first. Each
// credential's ledger is read from Before down, by its index, and only as
// far as the page needs (keyset pagination, never OFFSET).
func (a *Admin) CustomerPage(ctx context.Context, c Caller, name string, p HistoryPage) (CustomerDetail, error) {
	if err := c.allow(staff.ActView); err != nil {
		return CustomerDetail{}, err
	}
	if p.Limit < 0 || p.Limit > maxHistory || p.Before < 0 {
		return CustomerDetail{}, invalid("history_limit must be between 1 and %d", maxHistory)
	}
	n := p.Limit
	if n == 0 {
		n = maxHistory
	}
	cu, err := a.customerFor(ctx, c, name)
	if err != nil {
		return CustomerDetail{}, err
	}
	s, err := a.summary(ctx, cu)
	if err != nil {
		return CustomerDetail{}, err
	}
	d := CustomerDetail{CustomerSummary: s, CreatedAt: cu.CreatedAt, History: []HistoryEntry{}}
	for _, cr := range s.Credentials {
		rows, err := a.Store.LedgerPage(ctx, cr.ID, p.Before, n+1)
		if err != nil {
			return CustomerDetail{}, fmt.Errorf("reading the ledger of entitlement %d: %w", cr.ID, err)
		}
		for _, l := range rows {
			d.History = append(d.History, HistoryEntry{
				ID: l.ID, EntitlementID: l.EntitlementID, Kind: l.Kind, Reservation: l.ReservationID, At: l.At,
				Actor: l.Actor, Reason: l.Reason, Purchased: l.DeltaPurchased, Remaining: l.DeltaRemaining,
				Held: l.DeltaHeld, Consumed: l.DeltaConsumed, Overdraft: l.DeltaOverdraft,
			})
		}
	}
	sortHistory(d.History)
	if len(d.History) > n {
		d.History = d.History[:n]
		d.HistoryNext = d.History[n-1].ID
	}
	return d, nil
}

// sortHistory puts the newest first: ledger ids grow with time across
// entitlements too.
func sortHistory(h []HistoryEntry) {
	slices.SortFunc(h, func(x, y HistoryEntry) int { return cmp.Compare(y.ID, x.ID) })
}

// CustomerChange changes a customer's record: a nil field stays as it is.
// Only the vendor's offices move a customer to another distributor ("" :
// to the vendor's own).
type CustomerChange struct {
	VAT         *string `json:"vat,omitempty"`
	Distributor *string `json:"distributor,omitempty"`
	Reason      string  `json:"reason,omitempty"`
}

// UpdateCustomer changes a customer's VAT number or distributor.
func (a *Admin) UpdateCustomer(ctx context.Context, c Caller, name string, ch CustomerChange) (CustomerDetail, error) {
	if err := c.allow(staff.ActActivate); err != nil {
		return CustomerDetail{}, err
	}
	cu, err := a.customerFor(ctx, c, name)
	if err != nil {
		return CustomerDetail{}, err
	}
	if err := checkText("reason", ch.Reason, maxReason); err != nil {
		return CustomerDetail{}, err
	}
	if ch.VAT != nil {
		if err := checkText("vat", *ch.VAT, 40); err != nil {
			return CustomerDetail{}, err
		}
		cu.VAT = strings.TrimSpace(*ch.VAT)
	}
	if ch.Distributor != nil && *ch.Distributor != cu.Distributor {
		if err := c.allow(staff.ActManageDistributors); err != nil && c.Role != store.RoleOffice {
			return CustomerDetail{}, err
		}
		if *ch.Distributor != "" {
			if err := a.knownDistributor(ctx, *ch.Distributor); err != nil {
				return CustomerDetail{}, err
			}
		}
		cu.Distributor = *ch.Distributor
	}
	if _, err := a.Store.UpdateCustomer(ctx, cu, a.by(c, ch.Reason)); err != nil {
		return CustomerDetail{}, fmt.Errorf("changing customer %q: %w", name, err)
	}
	return a.Customer(ctx, c, name)
}

// Entitlement returns one credential c may see.
func (a *Admin) Entitlement(ctx context.Context, c Caller, id int64) (Credential, error) {
	if err := c.allow(staff.ActView); err != nil {
		return Credential{}, err
	}
	e, err := a.entitlementFor(ctx, c, id)
	if err != nil {
		return Credential{}, err
	}
	cr := credentialOf(e)
	cr.Customer = e.Customer
	return cr, nil
}

// Page is items[offset:offset+limit] (limit 0: 50) and the offset of the
// next page (0 after the last): the listings of a few hundred items at
// most (staff, tokens, distributors) page by offset.
func Page[T any](items []T, offset, limit int) ([]T, int, error) {
	if limit == 0 {
		limit = 50
	}
	if offset < 0 || limit < 0 || limit > MaxPage {
		return nil, 0, invalid("limit must be between 1 and %d, and the offset not negative", MaxPage)
	}
	if offset >= len(items) {
		return []T{}, 0, nil
	}
	end := min(offset+limit, len(items))
	next := 0
	if end < len(items) {
		next = end
	}
	return items[offset:end], next, nil
}
