package store

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aktual/aktual/api"
)

// This file holds what every store decides about staff changes apart from
// its database (as rules.go does for the update flow), so that SQLite and
// PostgreSQL refuse the same things with the same words.

// ActorLocal is the actor of a plain Activate that names none: aktuald run
// on the server's shell.
const ActorLocal = "local:"

// Page sizes of the searches.
const (
	DefaultCustomerPage = 50
	MaxCustomerPage     = 100
	DefaultEventPage    = 50
	MaxEventPage        = 200
)

// Fold is how customer names, VAT numbers and search text are compared
// case-insensitively: Go's Unicode lower case, computed when a customer is
// written and stored beside it. The databases' lower() will not do: SQLite's
// folds ASCII only, PostgreSQL's follows the database's locale (none under
// the C locale), and a Bulgarian name must be found by any case of it.
func Fold(s string) string { return strings.ToLower(s) }

// Correction is the move of a correction of n units (LedgerCorrection).
func Correction(n int64) Counts { return Counts{Purchased: n, Remaining: n} }

// ActorName is the name a plain Activate records on its ledger row:
// p.Actor.Name, or ActorLocal when it names none.
func (p ActivateParams) ActorName() string {
	if p.Actor.Name == "" {
		return ActorLocal
	}
	return p.Actor.Name
}

// Check refuses a change that does not say who made it.
func (a Actor) Check() error {
	if strings.TrimSpace(a.Name) == "" {
		return errors.New("no actor given: a change must say who made it")
	}
	return nil
}

// Who is the actor of a staff activation: Actor, or, when that names no
// one, the embedded ActivateParams.Actor (the field Actor shadows).
func (p ActivateStaffParams) Who() Actor {
	if p.Actor.Name != "" {
		return p.Actor
	}
	return p.ActivateParams.Actor
}

// Validate checks what every store refuses in a staff activation before it
// looks anything up: what ActivateParams.Validate refuses, no actor, and an
// idempotency key without the hash of its request (a repeat could not be
// told from another request).
func (p ActivateStaffParams) Validate() error {
	if err := p.ActivateParams.Validate(); err != nil {
		return err
	}
	if err := p.Who().Check(); err != nil {
		return fmt.Errorf("activating for %s: %w", p.Customer, err)
	}
	if p.IdempotencyKey != "" && p.RequestHash == "" {
		return fmt.Errorf("activating for %s: an idempotency key needs the request's hash", p.Customer)
	}
	return nil
}

// CheckDistributor refuses a staff activation for an existing customer
// that is under another distributor than p.Distributor (ErrConflict). An
// activation that names no distributor (the vendor's office) may add to
// any customer; one that names a distributor only to that distributor's.
func (p ActivateStaffParams) CheckDistributor(existing Customer) error {
	if p.Distributor != "" && existing.Distributor != p.Distributor {
		under := "the vendor's own"
		if existing.Distributor != "" {
			under = "distributor " + existing.Distributor + "'s"
		}
		return fmt.Errorf("customer %s is %s, not distributor %s's: %w", existing.Name, under, p.Distributor, ErrConflict)
	}
	return nil
}

// Validate checks an account before it is stored: a login, one of the
// roles, and a distributor exactly for RoleDistributor.
func (acc StaffAccount) Validate() error {
	switch {
	case strings.TrimSpace(acc.Login) == "":
		return errors.New("a staff account needs a login")
	case !ValidRole(acc.Role):
		return fmt.Errorf("staff account %s: unknown role %q", acc.Login, acc.Role)
	case acc.Role == RoleDistributor && acc.Distributor == "":
		return fmt.Errorf("staff account %s: the distributor role needs a distributor", acc.Login)
	case acc.Role != RoleDistributor && acc.Distributor != "":
		return fmt.Errorf("staff account %s: only the distributor role has a distributor", acc.Login)
	}
	return nil
}

// Validate checks a token before it is stored.
func (t APIToken) Validate() error {
	switch {
	case t.Login == "" || strings.TrimSpace(t.Name) == "":
		return errors.New("a token needs a login and a name")
	case !ValidRole(t.Role):
		return fmt.Errorf("token %s: unknown role %q", t.Name, t.Role)
	case len(t.Hash) == 0:
		return fmt.Errorf("token %s: no hash", t.Name)
	}
	return nil
}

// PageSize is the number of customers a search returns at most.
func (q CustomerQuery) PageSize() int {
	switch {
	case q.Limit <= 0:
		return DefaultCustomerPage
	case q.Limit > MaxCustomerPage:
		return MaxCustomerPage
	}
	return q.Limit
}

// PageSize is the number of events a query returns at most.
func (q AuditQuery) PageSize() int {
	switch {
	case q.Limit <= 0:
		return DefaultEventPage
	case q.Limit > MaxEventPage:
		return MaxEventPage
	}
	return q.Limit
}

// CheckCorrection refuses a correction of nothing, or one without a
// reason or an actor.
func CheckCorrection(n int64, a Actor) error {
	switch {
	case n == 0:
		return errors.New("a correction of 0 updates changes nothing")
	case strings.TrimSpace(a.Reason) == "":
		return errors.New("a correction needs a reason")
	}
	return a.Check()
}

// CheckReplacement refuses a credential that is not of e's own kind (a
// code hash for a Pro code, a serial for a hardware key), or that is e's
// own already. It returns the audit action: "reissue" for a code,
// "replace" for a key.
func CheckReplacement(e Entitlement, c Credential) (action string, err error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	switch {
	case e.Kind == KindCode && len(c.CodeHash) == 0:
		return "", fmt.Errorf("entitlement %d is a code's: it takes a new code, not a hardware key", e.ID)
	case e.Kind == KindHWKey && c.HWKeySerial == "":
		return "", fmt.Errorf("entitlement %d is hardware key %s's: it takes a new key, not a code", e.ID, e.HWKeySerial)
	case e.Kind == KindHWKey && c.HWKeySerial == e.HWKeySerial:
		return "", fmt.Errorf("hardware key %s is already entitlement %d's: %w", c.HWKeySerial, e.ID, ErrConflict)
	case e.Kind == KindHWKey:
		return "replace", nil
	}
	return "reissue", nil
}

// seriesOf names a series for staff: "Pro" or "classic".
func seriesOf(series string) string {
	if series == api.SeriesPro {
		return "Pro"
	}
	return series
}

// ActivationDetail is the detail of an audit event "activate".
func ActivationDetail(e Entitlement, added int64, created bool) string {
	what := "updates"
	if added == 1 {
		what = "update"
	}
	d := fmt.Sprintf("+%d %s %s", added, seriesOf(e.Series), what)
	switch {
	case created && e.Kind == KindCode:
		d += ", new code …-" + e.CodeHint
	case created:
		d += ", new hardware key " + e.HWKeySerial
	case e.Kind == KindHWKey:
		d += ", hardware key " + e.HWKeySerial
	}
	return d
}

// CredentialName names an entitlement's credential for staff and the
// audit log: "code …-12345" or "hardware key HK-1".
func CredentialName(e Entitlement) string {
	if e.Kind == KindHWKey {
		return "hardware key " + e.HWKeySerial
	}
	return "code …-" + e.CodeHint
}

// SuspendAction is the audit action of SetActive: "reinstate" or "suspend".
func SuspendAction(active bool) string {
	if active {
		return "reinstate"
	}
	return "suspend"
}

// CorrectionDetail is the detail of an audit event "correct" that took e
// from before to after.
func CorrectionDetail(n int64, before, after Entitlement) string {
	return fmt.Sprintf("%+d updates: purchased %d → %d, remaining %d → %d",
		n, before.Purchased, after.Purchased, before.Remaining, after.Remaining)
}
