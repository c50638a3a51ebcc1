package api

import "time"

// Series of products. Pro-series updates are paid for with an update code;
// classic-series updates with a hardware-key licence and an Internet code.
const (
	SeriesPro     = "pro"
	SeriesClassic = "classic"
)

// ValidSeries reports whether s names a series.
func ValidSeries(s string) bool { return s == SeriesPro || s == SeriesClassic }

// ReleaseStatement is what the vendor's release key signs at publish time:
// every fact a client acts on, so a valid file for another product, platform
// or version is refused.
type ReleaseStatement struct {
	Product     string    `json:"product"`
	Series      string    `json:"series"`
	Version     string    `json:"version"`
	OS          string    `json:"os"`
	Arch        string    `json:"arch"`
	SHA256      string    `json:"sha256"`
	Size        int64     `json:"size"`
	PublishedAt time.Time `json:"published_at"`
	// HealthCheck is how the new version proves it starts, run after the
	// swap: it is executed with these arguments and must exit 0 in time,
	// or the old version is put back. Empty: no check (a data file).
	HealthCheck []string `json:"health_check,omitempty"`
	// DowngradeFrom lists the versions this release replaces although it is
	// older: staff withdrew them. A client refuses an older release unless
	// the version it has (or has seen offered) is listed here, so an old
	// release replayed by whoever holds only the online key installs nothing.
	DowngradeFrom []string `json:"downgrade_from,omitempty"`
	// Kind is "" for a single-file program, KindFolder for a program
	// folder: SHA256 and Size are then its manifest's (folder.go), and
	// Files and TotalSize say what the manifest lists, for the customer's
	// confirmation before it is fetched.
	Kind      string `json:"kind,omitempty"`
	Files     int    `json:"files,omitempty"`
	TotalSize int64  `json:"total_size,omitempty"`
}

// IsFolder reports whether the release is a program folder.
func (r *ReleaseStatement) IsFolder() bool { return r.Kind == KindFolder }

// Replaces reports whether this release is an explicit downgrade from v.
func (r *ReleaseStatement) Replaces(v string) bool {
	for _, d := range r.DowngradeFrom {
		if CompareVersions(d, v) == 0 {
			return true
		}
	}
	return false
}

// LatestStatement is the server's answer to "what is newest", signed with its
// online key and valid until ExpiresAt, so an old answer cannot be replayed
// for ever. It echoes the question (product, platform, current hash).
type LatestStatement struct {
	Product       string `json:"product"`
	OS            string `json:"os"`
	Arch          string `json:"arch"`
	CurrentSHA256 string `json:"current_sha256,omitempty"`
	// Nonce echoes the client's random nonce: an answer recorded earlier
	// (a freeze attack) cannot answer a new question.
	Nonce     string    `json:"nonce,omitempty"`
	Latest    Envelope  `json:"latest"`              // a release envelope
	Installed *Envelope `json:"installed,omitempty"` // the release whose hash is CurrentSHA256
	// Patch is sent only to a client that asked for patches (query
	// patch=bsdiff): an older client parses strictly and would refuse
	// the unknown field.
	Patch *PatchOffer `json:"patch,omitempty"`
	// The release control fields (control.go), sent only to a client that
	// asked with proto=2: the channel and machine it asked for (echoed),
	// its place in a staged rollout, whether the release is critical, its
	// signed notes, the newer versions the server withholds from this
	// installation (halted, withdrawn, not yet rolled out to it, or beyond
	// a required step), and the path this release is a step of.
	Channel   string    `json:"channel,omitempty"`
	Machine   string    `json:"machine,omitempty"`
	Rollout   *Rollout  `json:"rollout,omitempty"`
	Critical  bool      `json:"critical,omitempty"`
	Notes     *Envelope `json:"notes,omitempty"`
	Withheld  []string  `json:"withheld,omitempty"`
	Path      *Path     `json:"path,omitempty"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// PatchBSDiff is the bsdiff 4 patch format (BSDIFF40, bzip2 blocks), the
// one minio/selfupdate's patcher applies.
const PatchBSDiff = "bsdiff"

// PatchOffer is a binary patch from the installed file (FromSHA256) to the
// latest release, served as the artifact SHA256. It saves bytes, nothing
// more: the client keeps the patch's output only if it is the latest
// release's signed sha256 and size, and downloads the whole file otherwise.
type PatchOffer struct {
	FromSHA256 string `json:"from_sha256"`
	SHA256     string `json:"sha256"`
	Size       int64  `json:"size"`
	Format     string `json:"format"`
}
