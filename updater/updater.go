// Package updater is the client engine: it finds the installed version,
// asks the server what is newest, downloads and verifies the new version,
// reserves a paid update, applies it atomically and reports completion,
// keeping a journal so that a paid update is consumed if and only if it was
// really applied. It never prints: it reports through Events.
package updater

import (
	"net/http"
	"runtime"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/clock"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/swap"
)

// Updater holds the edges the engine talks to. Zero values take working
// defaults where one exists; Server, Trust and StateDir are required.
type Updater struct {
	Server   string     // base URL of the update server
	Trust    *api.Trust // keys whose signatures are accepted
	StateDir string     // journals and install records

	HTTPClient *http.Client
	// Now is the clock; nil reads the wall clock.
	Now clock.Func
	// MachineID returns this machine's protected ID (never the raw one).
	MachineID func() (string, error)
	// Events receives progress; nil drops them.
	Events func(Event)
	// OS and Arch select releases; default: this machine's.
	OS, Arch string
	// Version is this client's version, sent as User-Agent.
	Version string
	// Lang is the reader's language (BCP 47, e.g. "bg"), sent as
	// Accept-Language so the server's messages match the installer's.
	Lang string
	// HealthTimeout bounds a release's health check; default 30 s.
	HealthTimeout time.Duration
	// RequestTimeout bounds each API exchange, answer included; default
	// 60 s. A download is bounded by its rate instead (slow retrieval):
	// it is abandoned when fewer than MinDownloadRate bytes a second
	// arrived over a StallWindow; defaults 1 KiB/s over 30 s.
	RequestTimeout  time.Duration
	MinDownloadRate int64
	StallWindow     time.Duration
	// DownloadAttempts bounds the tries of one download in a run (a line
	// that breaks, stalls or meets a busy server is tried again, from the
	// bytes already on disk); default 5. RetryDelay is the first backoff,
	// doubled each try up to 30 s, drawn with full jitter; default 1 s.
	// A server's Retry-After overrides it.
	DownloadAttempts int
	RetryDelay       time.Duration
	// NoPatch never asks the server for a patch (delta.go): every update
	// downloads the whole release.
	NoPatch bool
}

// Defaults of the bounds on slow servers.
const (
	DefaultRequestTimeout  = 60 * time.Second
	DefaultMinDownloadRate = 1 << 10
	DefaultStallWindow     = 30 * time.Second
)

// DefaultHealthTimeout bounds a health check.
const DefaultHealthTimeout = swap.DefaultHealthTimeout

func orDefault[T int64 | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

func (u *Updater) httpClient() *http.Client {
	if u.HTTPClient != nil {
		return u.HTTPClient
	}
	return DefaultHTTPClient()
}

func (u *Updater) emit(e Event) {
	if u.Events != nil {
		u.Events(e)
	}
}

// phase reports that a phase begins; format is an English message.
func (u *Updater) phase(phase, format string, args ...any) {
	u.emit(Event{Event: EventPhase, Phase: phase, Message: i18n.M(format, args...)})
}

// notice reports something a person should know; format is an English
// message.
func (u *Updater) notice(format string, args ...any) {
	u.emit(Event{Event: EventNotice, Message: i18n.M(format, args...)})
}

func (u *Updater) platform() (string, string) {
	goos, arch := u.OS, u.Arch
	if goos == "" {
		goos = runtime.GOOS
	}
	if arch == "" {
		arch = runtime.GOARCH
	}
	return goos, arch
}

func (u *Updater) version() string {
	if u.Version == "" {
		return "dev"
	}
	return u.Version
}
