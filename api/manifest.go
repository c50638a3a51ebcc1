package api

import (
	"encoding/json"
	"fmt"
	"time"
)

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
}

// LatestStatement is the server's answer to "what is newest", signed with its
// online key and valid until ExpiresAt, so an old answer cannot be replayed
// for ever. It echoes the question (product, platform, current hash).
type LatestStatement struct {
	Product       string    `json:"product"`
	OS            string    `json:"os"`
	Arch          string    `json:"arch"`
	CurrentSHA256 string    `json:"current_sha256,omitempty"`
	Latest        Envelope  `json:"latest"`              // a release envelope
	Installed     *Envelope `json:"installed,omitempty"` // the release whose hash is CurrentSHA256
	IssuedAt      time.Time `json:"issued_at"`
	ExpiresAt     time.Time `json:"expires_at"`
}

// Trust is the set of public keys a client accepts (trust.json).
type Trust struct {
	Version     int         `json:"version"`
	ReleaseKeys []PublicKey `json:"release_keys"`
	OnlineKeys  []PublicKey `json:"online_keys"`
}

// ParseTrust reads a trust file strictly.
func ParseTrust(data []byte) (*Trust, error) {
	var t Trust
	if err := DecodeStrict(data, &t); err != nil {
		return nil, fmt.Errorf("trust file is malformed: %w", err)
	}
	if t.Version != 1 {
		return nil, fmt.Errorf("trust file version %d is not supported (this aktual reads version 1)", t.Version)
	}
	if len(t.ReleaseKeys) == 0 || len(t.OnlineKeys) == 0 {
		return nil, fmt.Errorf("trust file names no release key or no online key")
	}
	return &t, nil
}

// Marshal returns the trust file's bytes.
func (t *Trust) Marshal() ([]byte, error) { return json.MarshalIndent(t, "", "  ") }
