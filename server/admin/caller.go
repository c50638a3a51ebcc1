package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// Caller is who asks for an operation and from where: a staff member in
// the console, a token on the admin API, or the server's shell. Every
// operation a Caller asks for is checked against its role here, in one
// place, so the console, the API and the shell cannot disagree.
// Distributor, when set, binds every listing and lookup to that
// distributor's customers whatever the role (a distributor's
// support-scoped token included): scope by it, never by the role.
type Caller struct {
	staff.Principal
	Address string // the client's address; "" for the shell
}

// Local is the server's shell: an admin recorded as "local:USER".
func Local(user string) Caller { return Caller{Principal: staff.LocalPrincipal(user)} }

// by is the record of c making a change for reason, now by a's clock.
func (a *Admin) by(c Caller, reason string) store.Actor {
	return store.Actor{Name: c.Actor, Address: c.Address, Reason: reason, At: a.Now.UTC()}
}

// What a refusal is, for the API's status codes and the console's words.
// Every error the staff operations return wraps one of these or a store
// sentinel (store.ErrNotFound, ErrConflict, ErrExists,
// ErrIdempotencyMismatch, ErrWouldGoNegative).
var (
	// ErrForbidden: the caller's role does not allow it (HTTP 403).
	ErrForbidden = errors.New("forbidden")
	// ErrInvalid: the request itself is wrong (HTTP 400).
	ErrInvalid = errors.New("invalid request")
)

// allow refuses what c's role does not allow.
func (c Caller) allow(act staff.Action) error {
	if !staff.Can(c.Principal, act) {
		return markKind(ErrForbidden, i18n.Errorf("your role (%s) does not allow this", c.Role))
	}
	return nil
}

// invalid is a refusal of the request's content: the message says what
// to do, in the reader's language.
func invalid(format string, args ...any) error {
	return markKind(ErrInvalid, i18n.Errorf(format, args...))
}

// Refuse marks a localisable error as one of the kinds (ErrInvalid,
// ErrForbidden, store.ErrNotFound …): errors.Is finds the kind, and a
// Printer shows the message alone, in its language.
func Refuse(kind, err error) error { return kindError{error: err, kind: kind} }

func markKind(kind, err error) error { return Refuse(kind, err) }

// kindError is a localisable error that is also one of the kinds above.
type kindError struct {
	error
	kind error
}

func (e kindError) Unwrap() []error { return []error{e.error, e.kind} }

// LocalizeArgs keeps the message translatable through the wrapping.
func (e kindError) LocalizeArgs() (string, []any) {
	if l, ok := e.error.(i18n.Localizable); ok {
		return l.LocalizeArgs()
	}
	return "%s", []any{e.error.Error()}
}

// notFound is what a caller is told of a customer it may not see, word
// for word what it is told of one that does not exist: a distributor
// learns nothing of another's customers.
func notFound(customer string) error {
	return markKind(store.ErrNotFound, i18n.Errorf("no customer %q", customer))
}

// customerFor finds a customer c may see: notFound otherwise.
func (a *Admin) customerFor(ctx context.Context, c Caller, name string) (store.Customer, error) {
	cu, err := a.Store.Customer(ctx, name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !staff.SeesCustomer(c.Principal, cu.Distributor)) {
		return store.Customer{}, notFound(name)
	} else if err != nil {
		return store.Customer{}, fmt.Errorf("finding customer %q: %w", name, err)
	}
	return cu, nil
}

// entitlementFor finds an entitlement of a customer c may see: the same
// not-found for one that does not exist and for another distributor's.
func (a *Admin) entitlementFor(ctx context.Context, c Caller, id int64) (store.Entitlement, error) {
	e, err := a.Store.EntitlementByID(ctx, id)
	gone := markKind(store.ErrNotFound, i18n.Errorf("no entitlement %d", id))
	if errors.Is(err, store.ErrNotFound) {
		return store.Entitlement{}, gone
	} else if err != nil {
		return store.Entitlement{}, fmt.Errorf("finding entitlement %d: %w", id, err)
	}
	if _, err := a.customerFor(ctx, c, e.Customer); errors.Is(err, store.ErrNotFound) {
		return store.Entitlement{}, gone
	} else if err != nil {
		return store.Entitlement{}, err
	}
	return e, nil
}
