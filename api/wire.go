package api

import "time"

// Error codes a client acts on (DESIGN.md, HTTP API).
const (
	CodeInvalidCode       = "invalid_code"
	CodeUnknownCredential = "unknown_credential"
	CodeInactive          = "inactive"
	CodeExhausted         = "exhausted"
	CodeWrongSeries       = "wrong_series"
	CodeRateLimited       = "rate_limited"
	CodeExpired           = "expired"
	CodeNotFound          = "not_found"
	CodeBadRequest        = "bad_request"
	CodeConflict          = "conflict"
	CodeHalted            = "halted" // staff halted or withdrew the release asked for
	CodeInternal          = "internal"
)

// MaxRequestBody bounds every JSON request body the server reads.
const MaxRequestBody = 16 << 10

// ErrorBody is every error response: {"error": {"code", "message"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail names the condition (Code) and tells a person what to do.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Credential proves the right to an update: a Pro update code, or (classic)
// a session opened with a hardware key plus the Internet code its page shows.
// An entitlement query takes a code, or HWKey: the key's proof that it is
// present (a reserve never does).
type Credential struct {
	Code         string      `json:"code,omitempty"`
	Session      string      `json:"session,omitempty"`
	InternetCode string      `json:"internet_code,omitempty"`
	HWKey        *HWKeyProof `json:"hwkey,omitempty"`
}

// HWKeyProof shows a hardware key is present, as ClassicSessionRequest
// does: the key's signed licence, and its signature of a fresh server
// challenge (POST /v1/classic/challenges).
type HWKeyProof struct {
	Licence   Envelope `json:"licence"`
	Challenge []byte   `json:"challenge"`
	Signature []byte   `json:"signature"`
}

// EntitlementQuery asks how many paid updates a credential has left for a
// product (POST /v1/entitlements/query). It reserves nothing.
type EntitlementQuery struct {
	Credential Credential `json:"credential"`
	Product    string     `json:"product"`
}

// EntitlementStatus answers an EntitlementQuery: an update of Product
// would use one of Remaining (none left when 0). Held are reserved by
// updates not yet finished; they return to Remaining if those fail. A
// credential that is unknown, not active or for the other series is
// refused with an error instead, so Active is true in every answer.
type EntitlementStatus struct {
	Product   string `json:"product"`
	Series    string `json:"series"`
	Active    bool   `json:"active"`
	Remaining int64  `json:"remaining"`
	Held      int64  `json:"held"`
}

// ReserveRequest asks to hold one update for (product, from, to, machine).
// Repeating it with the same IdempotencyKey returns the first answer.
type ReserveRequest struct {
	IdempotencyKey string     `json:"idempotency_key"`
	Credential     Credential `json:"credential"`
	Product        string     `json:"product"`
	FromVersion    string     `json:"from_version"`
	ToVersion      string     `json:"to_version"`
	MachineID      string     `json:"machine_id"`
	// PathTo, sent only when the latest answer offered ToVersion as the
	// first step of a required path (api.Path; an older server never
	// does), is the release the path ends at: the server records it, and
	// the path's later steps are free.
	PathTo string `json:"path_to,omitempty"`
}

// Reservation states.
const (
	StateHeld     = "held"
	StateConsumed = "consumed"
	StateReleased = "released"
	StateExpired  = "expired"
)

// Reservation is one held (then consumed or released) update.
type Reservation struct {
	ID          string    `json:"id"`
	State       string    `json:"state"`
	Product     string    `json:"product"`
	FromVersion string    `json:"from_version"`
	ToVersion   string    `json:"to_version"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// ReservationResponse answers reserve, complete and release.
type ReservationResponse struct {
	Reservation Reservation `json:"reservation"`
	Remaining   int64       `json:"remaining"`
}

// Health is the body of /healthz and /readyz.
type Health struct {
	Status  string `json:"status"`
	Version string `json:"version"`
}

// ChallengeResponse carries a fresh challenge for a hardware key to sign.
type ChallengeResponse struct {
	Challenge []byte    `json:"challenge"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ClassicSessionRequest opens a classic-series session: the key's signed
// licence, the server's challenge signed by the key, and the update it is
// for.
type ClassicSessionRequest struct {
	Licence     Envelope `json:"licence"`
	Challenge   []byte   `json:"challenge"`
	Signature   []byte   `json:"signature"`
	Product     string   `json:"product"`
	FromVersion string   `json:"from_version"`
	ToVersion   string   `json:"to_version"`
	MachineID   string   `json:"machine_id"`
}

// Classic session states.
const (
	SessionOpen      = "open"      // waiting for the Internet code
	SessionConfirmed = "confirmed" // the customer pressed "Continue" on the page
	SessionUsed      = "used"      // a reservation was made with it
	SessionLocked    = "locked"    // too many wrong Internet codes
	SessionExpired   = "expired"
)

// ClassicSession is a session as the client sees it. Problem, when set, is
// why the page cannot give a code (an error code: inactive, exhausted).
type ClassicSession struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	State     string    `json:"state"`
	ExpiresAt time.Time `json:"expires_at"`
	Remaining *int64    `json:"remaining,omitempty"`
	Problem   string    `json:"problem,omitempty"`
	Message   string    `json:"message,omitempty"`
}

// InstallRequest asks which release a credential may install first
// (POST /v1/install): a Pro code, or a hardware key's proof (HWKey), as an
// entitlement query takes. It reserves and consumes nothing.
type InstallRequest struct {
	Credential Credential `json:"credential"`
	Product    string     `json:"product"`
	OS         string     `json:"os"`
	Arch       string     `json:"arch"`
}

// InstallResponse answers an InstallRequest: the release the credential
// is entitled to install (signed by a release key of Keys), and the newest
// release, which an update after the install moves to.
type InstallResponse struct {
	Keys    Envelope `json:"keys"`
	Release Envelope `json:"release"`
	Newest  string   `json:"newest"`
	// Roots: as in LatestResponse, for a request that names ?root=N.
	Roots []Envelope `json:"roots,omitempty"`
}

// SettleRequest asks what became of the reservation a reserve with
// IdempotencyKey made (POST /v1/reservations/settle) and, with Release,
// gives it back if it is still held. The key is the client journal's
// secret: it is the only credential, and it reaches only that one
// reservation. The answer is a ReservationResponse, or not_found when no
// reserve with the key reached the server.
type SettleRequest struct {
	IdempotencyKey string `json:"idempotency_key"`
	Release        bool   `json:"release"`
}

// MaxListedReleases bounds GET /v1/products/{product}/releases: the newest
// this many, enough to recognise any installation still in use.
const MaxListedReleases = 32

// ReleasesResponse is the body of GET /v1/products/{product}/releases:
// the product's releases for a platform, newest first (pre-releases and
// withdrawn ones included: an installation of one is still recognised),
// each signed by a release key of the root-signed key set Keys. A client
// recognises a program folder aktual did not install by comparing its
// files with these releases' manifests.
type ReleasesResponse struct {
	Keys     Envelope   `json:"keys"`
	Releases []Envelope `json:"releases"`
	// Roots: as in LatestResponse, for a request that names ?root=N.
	Roots []Envelope `json:"roots,omitempty"`
}
