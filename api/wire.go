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
type Credential struct {
	Code         string `json:"code,omitempty"`
	Session      string `json:"session,omitempty"`
	InternetCode string `json:"internet_code,omitempty"`
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
