// Package updater is the client engine: it finds the installed version,
// asks the server what is newest, downloads and verifies the new version,
// reserves a paid update, applies it atomically and reports completion,
// keeping a journal so that a paid update is consumed if and only if it was
// really applied. It never prints: it reports through Events.
package updater

import (
	"context"
	"net/http"
	"net/url"
	"runtime"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/clock"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/fetch"
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
	// Finished, when set, is told of each unfinished update recovery
	// finishes (reported, installed or given back), in any command: for
	// the field reports (fieldreport.go).
	Finished func(Recovered)
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
	// FilesInUse finds the programs holding files open; nil asks the
	// operating system (the Restart Manager on Windows, /proc on Linux).
	FilesInUse func(files []string) ([]Process, error)
	// InUseBlocks, when set, says whether files in use stop a folder's
	// switch (default: on Windows only, which cannot replace them).
	InUseBlocks *bool

	// settleIntents: recovery settles an unanswered reserve by its key
	// (set by Recover; an update resumes the reserve instead).
	settleIntents bool
}

// Defaults of the bounds on slow servers.
const (
	DefaultRequestTimeout  = fetch.DefaultRequestTimeout
	DefaultMinDownloadRate = fetch.DefaultMinDownloadRate
	DefaultStallWindow     = fetch.DefaultStallWindow
)

// Bounds on retrying a download within one run. A line that keeps
// breaking is tried DefaultDownloadAttempts times; each try continues from
// the bytes already on disk, and whatever arrived is kept for the next run.
const (
	DefaultDownloadAttempts = fetch.DefaultDownloadAttempts
	DefaultRetryDelay       = fetch.DefaultRetryDelay
)

// DefaultHTTPClient has timeouts on connecting and on waiting for an answer,
// but none on the whole exchange: a large download on a slow line may take
// long, and is cancelled through its context.
func DefaultHTTPClient() *http.Client { return fetch.DefaultHTTPClient() }

// DefaultHealthTimeout bounds a health check.
const DefaultHealthTimeout = swap.DefaultHealthTimeout

// client is the update server's client, with this Updater's edges and
// bounds, reporting through Events.
func (u *Updater) client() *fetch.Client {
	return &fetch.Client{
		Server: u.Server, HTTP: u.HTTPClient, Now: u.Now,
		UserAgent: "aktual/" + u.version(), Lang: u.Lang,
		RequestTimeout: u.RequestTimeout, MinRate: u.MinDownloadRate, StallWindow: u.StallWindow,
		Attempts: u.DownloadAttempts, RetryDelay: u.RetryDelay,
		Notice: func(m i18n.Message) { u.emit(Event{Event: EventNotice, Message: m}) },
		Progress: func(p fetch.Progress) {
			u.emit(Event{Event: EventProgress, Phase: PhaseDownload, Done: p.Done, Total: p.Total, Rate: p.Rate, ETA: p.ETA})
		},
		Verifying: func() { u.phase(PhaseVerify, "verifying the download") },
	}
}

// callJSON sends a request to the server and decodes its bounded JSON
// answer into out; an error answer is a *fetch.APIError.
func (u *Updater) callJSON(ctx context.Context, method, path string, query url.Values, body, out any) error {
	return u.client().CallJSON(ctx, method, path, query, body, out)
}

// download fetches the release's artifact beside target (resumed,
// retried) and returns the path of the verified file.
func (u *Updater) download(ctx context.Context, rel api.ReleaseStatement, target string) (string, error) {
	u.phase(PhaseDownload, "downloading %s %s (%d bytes)", rel.Product, rel.Version, rel.Size)
	return u.client().Download(ctx, rel, target)
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
