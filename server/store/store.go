// Package store keeps customers' entitlements, releases, reservations and
// the append-only ledger. Every operation that changes counts is one
// transaction, so at every instant, for every entitlement,
//
//	purchased = remaining + held + consumed
//
// (overdrafts are recorded apart). Implementations share one conformance
// suite (storetest).
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aktual/aktual/api"
)

// Conditions callers act on. Implementations wrap them with context.
var (
	ErrNotFound            = errors.New("not found")
	ErrUnknownCredential   = errors.New("unknown credential")
	ErrInactive            = errors.New("credential inactive")
	ErrExhausted           = errors.New("no updates remaining")
	ErrWrongSeries         = errors.New("credential is for another series")
	ErrIdempotencyMismatch = errors.New("idempotency key reused with different parameters")
	ErrConflict            = errors.New("conflict")
	ErrSessionUsed         = errors.New("classic session already used, locked or unknown")
)

// Credential kinds.
const (
	KindCode  = "code"  // Pro series: keyed hash of a 25-digit update code
	KindHWKey = "hwkey" // classic series: hardware-key serial
)

// Credential identifies an entitlement: exactly one of CodeHash (32-byte
// keyed hash, never the code itself) or HWKeySerial is set.
type Credential struct {
	CodeHash    []byte
	HWKeySerial string
}

// Entitlement is one customer's paid updates for one credential.
type Entitlement struct {
	ID          int64
	Customer    string
	Series      string // api.SeriesPro or api.SeriesClassic
	Kind        string // KindCode or KindHWKey
	CodeHint    string // last group of the code, for staff; "" for hwkey
	HWKeySerial string
	Active      bool
	Purchased   int64
	Remaining   int64
	Held        int64
	Consumed    int64
	Overdraft   int64 // completions that arrived after expiry with nothing left
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ActivateParams adds Updates paid updates.
//
// Pro: one code per customer covers the whole series. If Customer already
// has a Pro entitlement, Updates are added to it and Credential is ignored
// (Created=false); otherwise a new entitlement is made for Credential.
// Classic: keyed by HWKeySerial; an existing entitlement for the serial gets
// Updates added (it must belong to the same customer, else ErrConflict).
// A new entitlement is active; an existing one keeps its state: more paid
// updates do not lift a suspension (Staff.SetActive does, and says so).
type ActivateParams struct {
	Customer   string
	Series     string
	Credential Credential
	CodeHint   string
	Updates    int64
	Now        time.Time
	// Actor is who activated: its Name goes on the purchase's ledger row
	// ("" is taken as "local:", the server's shell).
	Actor Actor
}

// Release is a published, signed release.
type Release struct {
	Product     string
	Series      string
	Version     string
	OS          string
	Arch        string
	SHA256      string // lowercase hex
	Size        int64
	Envelope    []byte // the signed release envelope (JSON), served as is
	PublishedAt time.Time
	// URL is where the artifact's bytes are served from when they are not
	// in the server's own blob store: an external origin or CDN. It is not
	// signed and need not be trusted: the client checks the bytes against
	// the signed sha256 and size. "" means the local blob store.
	URL string
	// Files, for a folder release, are the distinct sha256 of the files
	// its manifest lists (the manifest itself is SHA256): PutRelease
	// records them with the release, so each is served as an artifact.
	// Nil for a single-file release. Set when publishing; the listings
	// (Releases, AllReleases, ReleaseBySHA256) leave it nil.
	Files []string
}

// Reservation is one update held for (product, from, to, machine).
type Reservation struct {
	ID             string
	IdempotencyKey string
	EntitlementID  int64
	Product        string
	FromVersion    string
	ToVersion      string
	MachineID      string
	State          string // api.StateHeld, StateConsumed, StateReleased, StateExpired
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ExpiresAt      time.Time
}

// ReserveParams asks for one update. Series is the product's series (the
// credential must be of it). A repeat with the same IdempotencyKey and the
// same Credential/Product/FromVersion/ToVersion/MachineID returns the
// existing reservation as it now is, without moving any unit; with other
// parameters it fails with ErrIdempotencyMismatch.
type ReserveParams struct {
	IdempotencyKey string
	Credential     Credential
	Series         string
	Product        string
	FromVersion    string
	ToVersion      string
	MachineID      string
	Now            time.Time     // zero: the current time
	TTL            time.Duration // zero or less: DefaultTTL
	// SessionID, for the classic series, is the session whose Internet
	// code (or confirmation) was presented: in the same transaction it
	// goes from open or confirmed to used, so one session yields one
	// reservation; otherwise ErrSessionUsed.
	SessionID string
}

// ClassicSession is a classic-series session: opened with a hardware key's
// signature over a server challenge, it shows an Internet code on its page
// and yields at most one reservation.
type ClassicSession struct {
	ID            string
	Serial        string
	Product       string
	FromVersion   string
	ToVersion     string
	MachineID     string
	ChallengeHash []byte // unique: a signed challenge opens one session only
	State         string // api.SessionOpen, SessionConfirmed, SessionUsed, SessionLocked
	Attempts      int    // wrong Internet codes so far
	ReservationID string
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// LedgerEntry is one append-only record of a change of counts.
type LedgerEntry struct {
	ID             int64
	EntitlementID  int64
	ReservationID  string // "" for purchases
	Kind           string // see Ledger* constants
	DeltaPurchased int64
	DeltaRemaining int64
	DeltaHeld      int64
	DeltaConsumed  int64
	DeltaOverdraft int64
	At             time.Time
	Actor          string // who (see Actor); never empty
	Reason         string // why, for staff changes
}

// Ledger kinds.
const (
	LedgerPurchase  = "purchase"  // +purchased +remaining
	LedgerReserve   = "reserve"   // -remaining +held
	LedgerComplete  = "complete"  // -held +consumed
	LedgerRelease   = "release"   // -held +remaining
	LedgerExpire    = "expire"    // -held +remaining (by the sweep)
	LedgerRetake    = "retake"    // late completion: -remaining +consumed
	LedgerOverdraft = "overdraft" // late completion with nothing left: +overdraft
	// LedgerCorrection (staff.go): +n purchased +n remaining, n either sign
)

// Violation is one broken invariant found by Audit.
type Violation struct {
	EntitlementID int64
	Customer      string
	Problem       string
}

// Store is the server's storage. All methods are safe for concurrent use.
type Store interface {
	// Staff is what staff do and who they are (staff.go).
	Staff
	// Controls is how each published version is offered (controls.go).
	Controls
	// Reports is what installers report of their attempts (reports.go).
	Reports

	// Activate adds paid updates (see ActivateParams) and records a new
	// customer (under no distributor). It writes no audit event: staff
	// activate with ActivateStaff.
	Activate(ctx context.Context, p ActivateParams) (e Entitlement, created bool, err error)
	// Entitlement finds by credential: ErrUnknownCredential when none.
	Entitlement(ctx context.Context, c Credential) (Entitlement, error)
	// ProEntitlement finds a customer's Pro entitlement: ErrNotFound when none.
	ProEntitlement(ctx context.Context, customer string) (Entitlement, error)
	// Entitlements lists all, by ID.
	Entitlements(ctx context.Context) ([]Entitlement, error)

	// PutRelease records a release; the same release again keeps its
	// first envelope and takes the new URL (the artifact moved to another
	// origin, or back to the blob store); a different artifact under the
	// same (product, version, os, arch) is ErrConflict, and so is a
	// product published under another series.
	PutRelease(ctx context.Context, r Release) error
	// Releases lists a product's releases for a platform (any order).
	Releases(ctx context.Context, product, os, arch string) ([]Release, error)
	// ReleaseBySHA256 finds a product's release by artifact hash (any platform).
	ReleaseBySHA256(ctx context.Context, product, sha256 string) (Release, error)
	// AllReleases lists every release (any order): for re-signing.
	AllReleases(ctx context.Context) ([]Release, error)
	// ResignRelease replaces the envelope of the release (product,
	// version, os, arch) with a new signature over the same statement:
	// ErrNotFound when there is no such release. Nothing else changes.
	ResignRelease(ctx context.Context, product, version, os, arch string, envelope []byte) error
	// ProductSeries returns the series a product was published under:
	// ErrNotFound for an unknown product.
	ProductSeries(ctx context.Context, product string) (string, error)
	// HasArtifact reports whether any release, file of a folder release
	// or patch has this sha256.
	HasArtifact(ctx context.Context, sha256 string) (bool, error)
	// ArtifactURL returns where the artifact with this sha256 is served
	// from: the URL of the first release published with it, "" for the
	// local blob store (a patch's bytes and a folder release's files are
	// always there); ErrNotFound when no release, folder file or patch
	// names it.
	ArtifactURL(ctx context.Context, sha256 string) (string, error)

	// PutPatch records the patch from one release to another (both
	// published for its product and platform, else ErrNotFound); a patch
	// between the same two releases again replaces the first.
	PutPatch(ctx context.Context, p Patch) error
	// Patch finds the patch between two releases: ErrNotFound when none.
	Patch(ctx context.Context, product, os, arch, fromSHA256, toSHA256 string) (Patch, error)
	// Patches lists a product's patches for a platform (any order).
	Patches(ctx context.Context, product, os, arch string) ([]Patch, error)

	// Reserve moves one unit remaining → held (see ReserveParams). Errors:
	// ErrUnknownCredential, ErrInactive, ErrWrongSeries, ErrExhausted,
	// ErrIdempotencyMismatch.
	Reserve(ctx context.Context, p ReserveParams) (Reservation, Entitlement, error)
	// Complete moves held → consumed; idempotent. A reservation that
	// expired re-takes a unit (LedgerRetake) or, with none left, records
	// an overdraft; either way it ends consumed. One the client released
	// (it said: never applied) is ErrConflict. ErrNotFound for an unknown ID.
	Complete(ctx context.Context, id string, now time.Time) (Reservation, Entitlement, error)
	// Release moves held → remaining; idempotent for released/expired ones;
	// ErrConflict for a consumed one; ErrNotFound for an unknown ID.
	Release(ctx context.Context, id string, now time.Time) (Reservation, Entitlement, error)
	// Reservation finds by ID: ErrNotFound when none.
	Reservation(ctx context.Context, id string) (Reservation, error)
	// ReservationByKey finds the reservation a reserve with this
	// idempotency key made, and its entitlement as it now is:
	// ErrNotFound when none.
	ReservationByKey(ctx context.Context, key string) (Reservation, Entitlement, error)
	// ConsumedVersions lists the distinct to-versions of an entitlement's
	// consumed reservations for product (any order): the versions it has
	// paid for (InstallableRelease).
	ConsumedVersions(ctx context.Context, entitlementID int64, product string) ([]string, error)
	// ExpireReservations releases held reservations whose ExpiresAt <= now
	// and returns how many.
	ExpireReservations(ctx context.Context, now time.Time) (int, error)

	// CreateSession records a new classic session (State open); a reused
	// ChallengeHash is ErrConflict.
	CreateSession(ctx context.Context, s ClassicSession) error
	// Session finds by ID: ErrNotFound when none.
	Session(ctx context.Context, id string) (ClassicSession, error)
	// ConfirmSession moves an open session to confirmed (idempotent for a
	// confirmed one); any other state is ErrSessionUsed.
	ConfirmSession(ctx context.Context, id string) (ClassicSession, error)
	// FailSessionAttempt counts a wrong Internet code; at maxAttempts the
	// session is locked. Returns the session as it now is.
	FailSessionAttempt(ctx context.Context, id string, maxAttempts int) (ClassicSession, error)

	// Ledger lists an entitlement's ledger, oldest first.
	Ledger(ctx context.Context, entitlementID int64) ([]LedgerEntry, error)
	// LedgerPage lists at most limit rows of an entitlement's ledger,
	// newest first, those with an ID below before (0: from the newest):
	// keyset pagination, which reads only the rows it returns (the index
	// on entitlement and ID) however long the ledger.
	LedgerPage(ctx context.Context, entitlementID, before int64, limit int) ([]LedgerEntry, error)
	// Audit checks purchased = remaining + held + consumed, non-negative
	// counts, held = number of held reservations, and that the ledger
	// replays to the current counts, for every entitlement.
	Audit(ctx context.Context) ([]Violation, error)
	// AuditCounted is Audit that also says how many entitlements it
	// checked, in the same snapshot.
	AuditCounted(ctx context.Context) (checked int, v []Violation, err error)
	// Ping checks the store answers (readiness).
	Ping(ctx context.Context) error
	Close() error
}

// Validate checks what every store refuses in a release: the stores share
// it so that they refuse the same things with the same words.
func (r Release) Validate() error {
	switch {
	case r.Product == "" || r.Version == "" || r.OS == "" || r.Arch == "":
		return errors.New("product, version, os and arch are required")
	case r.Series != api.SeriesPro && r.Series != api.SeriesClassic:
		return fmt.Errorf("unknown series %q", r.Series)
	case !isLowerHex(r.SHA256, 64):
		return fmt.Errorf("sha256 %q is not 64 lowercase hex digits", r.SHA256)
	case r.Size < 0:
		return fmt.Errorf("negative size %d", r.Size)
	case len(r.Envelope) == 0:
		return errors.New("no signed envelope")
	case len(r.Files) > api.MaxManifestFiles:
		return fmt.Errorf("%d files; at most %d", len(r.Files), api.MaxManifestFiles)
	case len(r.Files) > 0 && r.URL != "":
		return errors.New("a folder release's files are kept in the blob store, not at an origin")
	}
	for _, f := range r.Files {
		if !isLowerHex(f, 64) {
			return fmt.Errorf("file sha256 %q is not 64 lowercase hex digits", f)
		}
	}
	if r.URL != "" {
		if err := ValidOrigin(r.URL); err != nil {
			return err
		}
	}
	return nil
}

// ValidOrigin checks an artifact origin URL: absolute http or https, with
// a host, no credentials (they would be sent to every client in a
// redirect) and no fragment.
func ValidOrigin(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("artifact URL %q: %w", raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("artifact URL %q: must start with https:// or http://", raw)
	case u.Host == "":
		return fmt.Errorf("artifact URL %q: has no host", raw)
	case u.User != nil:
		return fmt.Errorf("artifact URL %q: must not carry a user name or password; every client is sent to it", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("artifact URL %q: must not have a #fragment", raw)
	case len(raw) > 2048:
		return fmt.Errorf("artifact URL is %d characters long; at most 2048", len(raw))
	}
	return nil
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
