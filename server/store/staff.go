package store

import (
	"context"
	"errors"
	"time"
)

// This file is the storage of what staff do and who they are (issue 19):
// customers and the distributors they are sold through, staff accounts,
// their browser sessions and API tokens, the shared throttle, the audit
// log, and the changes staff make to an entitlement (suspend, replace a
// credential, correct). Everything here is in the database, so that every
// replica sees the same accounts, sessions, throttles and log at once.

// Staff roles, from most to least allowed.
const (
	RoleAdmin       = "admin"       // everything, staff accounts included
	RoleOffice      = "office"      // every customer: activate, add, suspend, replace, reissue, correct
	RoleDistributor = "distributor" // the same, for its own distributor's customers only
	RoleSupport     = "support"     // read only
)

// ValidRole reports whether r is one of the roles.
func ValidRole(r string) bool {
	switch r {
	case RoleAdmin, RoleOffice, RoleDistributor, RoleSupport:
		return true
	}
	return false
}

// More conditions callers act on.
var (
	// ErrExists: a staff login, token name or distributor already taken.
	ErrExists = errors.New("already exists")
)

// Actor is who made a change, from where, and why. Name is never empty
// for a change: "staff:LOGIN" (the console), "token:NAME@LOGIN" (the admin
// API), "local:USER" (aktuald on the server's shell), "installer" and
// "expiry" (the update flow, set by the store itself).
type Actor struct {
	Name    string
	Address string // the client's address; "" for the shell
	Reason  string // why; required for corrections, optional elsewhere
	// At is when the change is made, for a change that takes no time of
	// its own (SetActive, ReplaceCredential, Correct, RevokeToken,
	// AddDistributor): zero is now. The admin package sets its clock.
	At time.Time
}

// Actors the store sets itself on the update flow's ledger rows.
const (
	ActorInstaller = "installer" // reserve, complete, release, retake, overdraft
	ActorExpiry    = "expiry"    // the sweep that expires held reservations
)

// LedgerCorrection is a staff correction: purchased and remaining move
// together by the same amount (+ a goodwill update, - a mistaken
// activation), so consumed and held, which reservations prove, never
// change by hand.
const LedgerCorrection = "correction"

// Customer is one customer: the name entitlements carry, and the
// distributor (if any) that sold to it. VAT is the VAT or company number.
type Customer struct {
	Name        string
	VAT         string
	Distributor string // "" for the vendor's own offices
	CreatedAt   time.Time
}

// CustomerQuery searches customers. Text matches (case-insensitively,
// anywhere) the name or VAT number, the last group of an update code
// (CodeHint), or a hardware-key serial. CodeHash, when set, matches the
// customer whose update code hashes to it (a whole code was typed).
// Distributor, when set, keeps only that distributor's customers (the
// scope of a distributor's staff). Results are ordered by name; After is
// the last name of the previous page; Limit is at most 100 (0: 50).
type CustomerQuery struct {
	Text        string
	CodeHash    []byte
	Distributor string
	After       string
	Limit       int
}

// ActivateStaffParams is an activation made by staff: ActivateParams, who
// made it, the distributor a new customer is put under, and an optional
// idempotency key (the invoice number).
//
// With IdempotencyKey set, the activation is made at most once: a repeat
// with the same key and RequestHash returns the first one's outcome
// (Replayed, Sealed as first stored, the entitlement as it now is); with
// another RequestHash it is ErrIdempotencyMismatch. Sealed is the caller's
// opaque record of a new code (it keeps it only when the activation
// created the entitlement).
type ActivateStaffParams struct {
	ActivateParams
	Actor          Actor
	Distributor    string
	VAT            string
	IdempotencyKey string
	RequestHash    string
	Sealed         []byte
}

// ActivateOutcome is what ActivateStaff did.
type ActivateOutcome struct {
	Entitlement Entitlement
	Created     bool   // a new entitlement (a new code, or a new key's access)
	Replayed    bool   // an earlier activation with the same idempotency key
	Added       int64  // the updates the (first) activation added
	Sealed      []byte // as stored with the key; nil when none was kept
	At          time.Time
}

// StaffAccount is a staff member's account. PasswordHash is the argon2id
// PHC string; TOTPSecret the base32 secret ("" when TOTP is off).
type StaffAccount struct {
	Login        string
	Role         string
	Distributor  string // set exactly for RoleDistributor
	PasswordHash string
	TOTPSecret   string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// StaffSession is a console session. Only the hash of its cookie value is
// stored. Pending is true between the password and the TOTP code.
type StaffSession struct {
	IDHash    []byte
	Login     string
	CSRF      string
	Address   string
	Pending   bool
	CreatedAt time.Time
	SeenAt    time.Time
	ExpiresAt time.Time
}

// APIToken is a token for the admin API. Only its hash is stored. Role is
// its scope: at most its account's role (the lesser of the two applies).
type APIToken struct {
	ID         int64
	Login      string
	Name       string
	Role       string
	Hash       []byte
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used
	RevokedAt  time.Time // zero: in force
}

// AuditEvent is one entry of the audit log: who did what to whom, from
// where, when and why. Detail is a short text (what changed).
type AuditEvent struct {
	ID            int64
	At            time.Time
	Actor         string
	Address       string
	Action        string
	Customer      string
	EntitlementID int64
	Detail        string
	Reason        string
}

// AuditQuery filters the audit log: every field optional. Results are
// newest first; Before is the ID the previous page ended at; Limit is at
// most 200 (0: 50). Distributor keeps the events about that distributor's
// customers only, as they were when each event was written: a customer
// moved to another distributor takes no history along.
type AuditQuery struct {
	Customer    string
	Actor       string
	Distributor string
	From, To    time.Time // [From, To)
	Before      int64
	Limit       int
}

// ThrottleResult is what a Hit on a throttle says.
type ThrottleResult struct {
	Count   int       // hits in the current window, this one included
	ResetAt time.Time // when the window ends
}

// Staff is the storage of staff, their sessions and tokens, the customers
// and the audit log. Every change that moves counts writes its ledger row
// (with its actor) and its audit event in one transaction.
type Staff interface {
	// ActivateStaff is Activate made by staff (see ActivateStaffParams):
	// also records the customer (created under Distributor; an existing
	// customer under another distributor is ErrConflict), the ledger row's
	// actor, and an audit event "activate".
	ActivateStaff(ctx context.Context, p ActivateStaffParams) (ActivateOutcome, error)
	// Customer finds a customer by exact name: ErrNotFound when none.
	Customer(ctx context.Context, name string) (Customer, error)
	// Customers searches (see CustomerQuery) and returns the page and the
	// name to pass as After for the next one ("" after the last page).
	Customers(ctx context.Context, q CustomerQuery) ([]Customer, string, error)
	// UpdateCustomer sets a customer's VAT number and distributor, with an
	// audit event "customer".
	UpdateCustomer(ctx context.Context, c Customer, a Actor) (Customer, error)
	// CustomerEntitlements lists a customer's entitlements, by ID.
	CustomerEntitlements(ctx context.Context, customer string) ([]Entitlement, error)
	// EntitlementByID finds one: ErrNotFound when none.
	EntitlementByID(ctx context.Context, id int64) (Entitlement, error)

	// SetActive suspends (false) or reinstates (true) an entitlement, with
	// an audit event "suspend" or "reinstate"; the same state again changes
	// nothing and records nothing.
	SetActive(ctx context.Context, entitlementID int64, active bool, a Actor) (Entitlement, error)
	// ReplaceCredential moves an entitlement to a new credential of its
	// own kind (a new hardware-key serial, or a new code's hash and hint):
	// the old one stops working at once, the counts and ledger stay. Open
	// classic sessions of an old serial are locked. Audit event "replace"
	// (a key) or "reissue" (a code). A credential in use is ErrConflict.
	ReplaceCredential(ctx context.Context, entitlementID int64, c Credential, codeHint string, a Actor) (Entitlement, error)
	// Correct appends a LedgerCorrection of n units (purchased and
	// remaining both by n; n != 0) with a.Reason (required), and an audit
	// event "correct". Taking remaining below zero is ErrWouldGoNegative.
	Correct(ctx context.Context, entitlementID int64, n int64, a Actor) (Entitlement, error)

	// Distributors lists the distributors' names, sorted.
	Distributors(ctx context.Context) ([]string, error)
	// AddDistributor records one (idempotent).
	AddDistributor(ctx context.Context, name string, a Actor) error

	// CreateStaff records a new account (ErrExists for a taken login), with
	// an audit event "staff.add".
	CreateStaff(ctx context.Context, acc StaffAccount, a Actor) error
	// StaffAccount finds an account: ErrNotFound when none.
	StaffAccount(ctx context.Context, login string) (StaffAccount, error)
	// StaffAccounts lists every account, by login.
	StaffAccounts(ctx context.Context) ([]StaffAccount, error)
	// UpdateStaff stores an account's role, distributor, password hash,
	// TOTP secret and disabled flag as given (ErrNotFound when none), with
	// an audit event of action (e.g. "staff.disable"): ChangeStaff with a
	// change that sets them all.
	UpdateStaff(ctx context.Context, acc StaffAccount, action string, a Actor) error
	// ChangeStaff reads login's account, locked, and stores what change
	// makes of it, in one transaction, with an audit event of action; an
	// error from change changes nothing and is returned as it is. So a
	// change made from what was read earlier (a password checked a moment
	// ago) can refuse when the account changed meanwhile (it was
	// disabled), instead of writing the old state back. Disabling, a new
	// password or a new TOTP secret ends the account's sessions.
	ChangeStaff(ctx context.Context, login, action string, a Actor, change func(*StaffAccount) error) (StaffAccount, error)

	// UseTOTPStep records that login signed in with the TOTP code of time
	// step step, and reports false when that step or a later one was
	// used already: a code seen over a shoulder, or replayed, is refused.
	UseTOTPStep(ctx context.Context, login string, step int64) (bool, error)

	// CreateSession records a console session.
	CreateStaffSession(ctx context.Context, s StaffSession) error
	// StaffSession finds a session in force at now and its account:
	// ErrNotFound for an unknown or expired session, or one whose account
	// is disabled. It records now as the session's SeenAt when that is
	// more than a minute old (a click is a read, not a write), and returns
	// the SeenAt of the use before (for an idle timeout).
	StaffSession(ctx context.Context, idHash []byte, now time.Time) (StaffSession, StaffAccount, error)
	// UpdateStaffSession stores a session's Pending, CSRF and ExpiresAt.
	UpdateStaffSession(ctx context.Context, s StaffSession) error
	// EndStaffSession deletes one session (idempotent).
	EndStaffSession(ctx context.Context, idHash []byte) error

	// CreateToken records a token (ErrExists for a name its login already
	// has), with an audit event "token.add"; returns its ID.
	CreateToken(ctx context.Context, t APIToken, a Actor) (int64, error)
	// TokenByHash finds a token in force and its account, recording now
	// as its last use when that is more than a minute old: ErrNotFound for
	// an unknown or revoked token, or one whose account is disabled.
	TokenByHash(ctx context.Context, hash []byte, now time.Time) (APIToken, StaffAccount, error)
	// Tokens lists the tokens of a login ("" : all), by ID.
	Tokens(ctx context.Context, login string) ([]APIToken, error)
	// RevokeToken revokes one (idempotent; ErrNotFound when none), with an
	// audit event "token.revoke".
	RevokeToken(ctx context.Context, id int64, a Actor) error

	// Hit counts one hit on a throttle key in a fixed window of length
	// window that starts at the first hit, and returns the count so far.
	Hit(ctx context.Context, key string, window time.Duration, now time.Time) (ThrottleResult, error)
	// Throttle returns a key's count without counting (0 when the window
	// is over or the key unknown).
	Throttle(ctx context.Context, key string, now time.Time) (ThrottleResult, error)
	// ClearThrottle forgets a key (a successful login clears its account's
	// failures).
	ClearThrottle(ctx context.Context, key string) error
	// Unhit takes one hit back from a key's count in its current window
	// (a sign-in attempt that was right); nothing for a key with none.
	Unhit(ctx context.Context, key string) error

	// RecordEvent appends an audit event that goes with no change of
	// counts (a login, a failed one, a staff action done elsewhere).
	RecordEvent(ctx context.Context, e AuditEvent) error
	// Events lists the audit log (see AuditQuery) and the Before of the
	// next page (0 after the last).
	Events(ctx context.Context, q AuditQuery) ([]AuditEvent, int64, error)
}
