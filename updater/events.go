package updater

import "github.com/aktual/aktual/internal/i18n"

// Phases of an update, in order.
const (
	PhaseRecover  = "recover"
	PhaseCheck    = "check"
	PhaseDownload = "download"
	PhaseVerify   = "verify"
	PhaseReserve  = "reserve"
	PhaseApply    = "apply"
	PhaseHealth   = "health"
	PhaseComplete = "complete"
)

// Event kinds.
const (
	EventPhase    = "phase"    // a phase begins; Message says what
	EventProgress = "progress" // download progress: Done of Total bytes
	EventNotice   = "notice"   // something a person should know
)

// Event is what the updater reports while it works. The CLI draws it (a
// progress bar, a line) or prints it as a JSON line.
type Event struct {
	Event   string       `json:"event"`
	Phase   string       `json:"phase,omitempty"`
	Message i18n.Message `json:"-"` // shown in the reader's language
	Done    int64        `json:"done,omitempty"`
	Total   int64        `json:"total,omitempty"`
	URL     string       `json:"url,omitempty"`
	// Rate (bytes a second over the last 5 s) and ETA (seconds left at
	// that rate) of a download's progress, once measured; Done counts a
	// download continued from an earlier run from its first byte.
	Rate int64 `json:"rate,omitempty"`
	ETA  int64 `json:"eta_seconds,omitempty"`
}
