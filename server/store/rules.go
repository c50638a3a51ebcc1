package store

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"time"

	"github.com/aktual/aktual/api"
)

// This file holds what every store decides apart from its database: what a
// request must carry, what each ledger kind moves, which changes of state
// are allowed, and the words of each refusal. A store keeps its SQL,
// transactions and locks, and calls these, so that SQLite and PostgreSQL
// refuse the same things with the same words. (Release.Validate is in
// store.go, the audit's rules in audit.go.)

// DefaultTTL is how long a reservation is held when ReserveParams.TTL is
// zero (DESIGN.md: default 7 days).
const DefaultTTL = 7 * 24 * time.Hour

// OrNow lets callers leave a time zero; the server passes its own clock.
// The result is in UTC, as stores keep times.
func OrNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now().UTC()
	}
	return t.UTC()
}

// LedgerMoves says what each ledger kind does to the counts; a purchase is
// LedgerPurchase with its own amount (see Purchase).
var LedgerMoves = map[string]Counts{
	LedgerReserve:   {Remaining: -1, Held: +1},
	LedgerComplete:  {Held: -1, Consumed: +1},
	LedgerRelease:   {Held: -1, Remaining: +1},
	LedgerExpire:    {Held: -1, Remaining: +1},
	LedgerRetake:    {Remaining: -1, Consumed: +1},
	LedgerOverdraft: {Overdraft: +1},
}

// Purchase is the move that buys n updates.
func Purchase(n int64) Counts { return Counts{Purchased: n, Remaining: n} }

// ErrWouldGoNegative is what a store's move returns when it needs a unit the
// entitlement does not have; Reserve reports it as ErrExhausted.
var ErrWouldGoNegative = errors.New("not enough units for this move")

// Validate refuses a credential that does not set exactly one of its
// fields: such a credential names no entitlement (ErrUnknownCredential).
func (c Credential) Validate() error {
	if (len(c.CodeHash) != 0) == (c.HWKeySerial != "") {
		return fmt.Errorf("a credential needs exactly one of a code hash or a hardware-key serial: %w", ErrUnknownCredential)
	}
	return nil
}

// Validate checks what every store refuses in an activation before it
// looks anything up. Its error is the whole message, returned as it is.
func (p ActivateParams) Validate() error {
	if p.Customer == "" {
		return errors.New("activating: no customer given")
	}
	if p.Updates < 1 {
		return fmt.Errorf("activating for %s: %d updates; give at least 1", p.Customer, p.Updates)
	}
	if p.Series != api.SeriesPro && p.Series != api.SeriesClassic {
		return fmt.Errorf("activating for %s: unknown series %q", p.Customer, p.Series)
	}
	return nil
}

// ClassicSerial returns the hardware-key serial a classic-series
// activation is keyed by: it takes a serial and no code.
func (p ActivateParams) ClassicSerial() (string, error) {
	if p.Credential.HWKeySerial == "" || len(p.Credential.CodeHash) != 0 {
		return "", errors.New("a classic-series activation takes a hardware-key serial and no code")
	}
	return p.Credential.HWKeySerial, nil
}

// CheckOwner refuses to add updates to e, the classic entitlement of p's
// hardware key, when it belongs to another customer (ErrConflict).
func (p ActivateParams) CheckOwner(e Entitlement) error {
	if e.Customer != p.Customer {
		return fmt.Errorf("hardware key %s belongs to another customer: %w", p.Credential.HWKeySerial, ErrConflict)
	}
	return nil
}

// NewProCode returns the code hash a new Pro-series entitlement is made
// for: it takes one and no hardware-key serial. Updates added to a
// customer's existing Pro entitlement ignore the credential.
func (p ActivateParams) NewProCode() ([]byte, error) {
	if len(p.Credential.CodeHash) == 0 || p.Credential.HWKeySerial != "" {
		return nil, errors.New("a new Pro-series entitlement takes a code hash and no hardware-key serial")
	}
	return p.Credential.CodeHash, nil
}

// CheckProductSeries refuses r when its product was first published under
// another series, series: a product belongs to one series (ErrConflict).
func (r Release) CheckProductSeries(series string) error {
	if series != r.Series {
		return fmt.Errorf("%s is published as a %s-series product, not %s: %w", r.Product, series, r.Series, ErrConflict)
	}
	return nil
}

// CheckSameArtifact refuses r when its (product, version, os, arch) is
// already published with another artifact, one of sha256 and size: that is
// ErrConflict. The same artifact again is no conflict (see
// Store.PutRelease).
func (r Release) CheckSameArtifact(sha256 string, size int64) error {
	if sha256 != r.SHA256 || size != r.Size {
		return fmt.Errorf("already published with other contents: %w", ErrConflict)
	}
	return nil
}

// Validate checks what every store refuses in a request to reserve. Its
// error is the whole message, returned as it is.
func (p ReserveParams) Validate() error {
	if p.IdempotencyKey == "" || p.Product == "" || p.ToVersion == "" || p.MachineID == "" || p.Series == "" {
		return errors.New("reserving: idempotency key, series, product, to-version and machine are required")
	}
	return nil
}

// NewReservation is the reservation p makes on e at now: held, under a new
// ID, until now + p.TTL (DefaultTTL unless the TTL is positive). An inactive
// entitlement is ErrInactive, one of another series ErrWrongSeries; whether
// a unit remains is the store's move to decide, in the transaction that
// records the reservation.
func (p ReserveParams) NewReservation(e Entitlement, now time.Time) (Reservation, error) {
	switch {
	case !e.Active:
		return Reservation{}, ErrInactive
	case e.Series != p.Series:
		return Reservation{}, fmt.Errorf("%s is a %s-series product, the credential is for the %s series: %w", p.Product, p.Series, e.Series, ErrWrongSeries)
	}
	ttl := p.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return Reservation{
		ID:             newReservationID(),
		IdempotencyKey: p.IdempotencyKey,
		EntitlementID:  e.ID,
		Product:        p.Product,
		FromVersion:    p.FromVersion,
		ToVersion:      p.ToVersion,
		MachineID:      p.MachineID,
		State:          api.StateHeld,
		CreatedAt:      now,
		UpdatedAt:      now,
		ExpiresAt:      now.Add(ttl),
	}, nil
}

// CheckRepeat judges p, which reuses the idempotency key prior was made
// for, given what looking up p's credential found (e, or err); it returns
// the entitlement as it now is. A repeat matches when the credential leads
// to the same entitlement as the first request and product, versions and
// machine are equal; Series and TTL are not compared: the server derives
// them, they are not the client's request. Anything else is
// ErrIdempotencyMismatch.
func (p ReserveParams) CheckRepeat(prior Reservation, e Entitlement, err error) (Entitlement, error) {
	switch {
	case errors.Is(err, ErrUnknownCredential):
		return Entitlement{}, fmt.Errorf("another credential: %w", ErrIdempotencyMismatch)
	case err != nil:
		return Entitlement{}, err
	case e.ID != prior.EntitlementID:
		return Entitlement{}, fmt.Errorf("another credential: %w", ErrIdempotencyMismatch)
	case p.Product != prior.Product || p.FromVersion != prior.FromVersion ||
		p.ToVersion != prior.ToVersion || p.MachineID != prior.MachineID:
		return Entitlement{}, fmt.Errorf("first used for %s %s→%s on machine %s: %w",
			prior.Product, prior.FromVersion, prior.ToVersion, prior.MachineID, ErrIdempotencyMismatch)
	}
	return e, nil
}

// reservationIDEncoding is lowercase base32 without padding: 128 bits in
// 26 characters that are safe in URLs and file names.
var reservationIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newReservationID returns "r_" and 128 random bits: unguessable, so an ID
// seen in a log cannot be used to complete or release someone else's update.
func newReservationID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return "r_" + reservationIDEncoding.EncodeToString(b[:])
}

// CompleteKind is the ledger kind that completing a reservation in state
// records, or "" for one already consumed (an idempotent repeat). A held
// one is LedgerComplete. A completion that arrives after the reservation
// expired still ends consumed, since the update was applied: it re-takes a
// unit (LedgerRetake) or, with none remaining, records an overdraft
// (LedgerOverdraft). remaining is called only then, so a store reads the
// entitlement only when the answer depends on it. One the client released
// (never applied, it said) contradicts the completion and is refused with
// ErrConflict, never charged.
//
// An overdraft changes no count but Overdraft: Consumed does not go up, as
// there is no purchased unit to consume. Consumed and the invariant
// purchased = remaining + held + consumed are about purchased units;
// overdraft counts updates given beyond them, for staff to settle.
func CompleteKind(state string, remaining func() (int64, error)) (string, error) {
	switch state {
	case api.StateConsumed:
		return "", nil
	case api.StateReleased:
		return "", fmt.Errorf("the update was given back as never applied: %w", ErrConflict)
	case api.StateHeld:
		return LedgerComplete, nil
	}
	n, err := remaining()
	switch {
	case err != nil:
		return "", err
	case n == 0:
		return LedgerOverdraft, nil
	}
	return LedgerRetake, nil
}

// ReleaseKind is the ledger kind that releasing a reservation in state
// records: LedgerRelease, or "" for one already released or expired (an
// idempotent repeat). A consumed one is ErrConflict: its update was
// applied.
func ReleaseKind(state string) (string, error) {
	switch state {
	case api.StateReleased, api.StateExpired:
		return "", nil
	case api.StateConsumed:
		return "", fmt.Errorf("the update was already reported applied: %w", ErrConflict)
	}
	return LedgerRelease, nil
}

// CheckConfirm says whether confirming cs changes it: an open session
// becomes confirmed, a confirmed one stays as it is (idempotent), and any
// other is ErrSessionUsed.
func (cs ClassicSession) CheckConfirm() (change bool, err error) {
	switch cs.State {
	case api.SessionOpen:
		return true, nil
	case api.SessionConfirmed:
		return false, nil
	}
	return false, ErrSessionUsed
}
