// Package journal owns what the installer keeps in its state directory
// and beside a target between runs: the journal of each update in
// progress, the install records, the memory of what was seen (seen.json),
// and the lock that lets one update of a target run at a time.
package journal

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aktual/aktual/internal/clock"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/durable"

	"github.com/aktual/aktual/api"
)

// Journal states, in order. The journal of a target is on disk before each
// step that the next one depends on, so a crash at any instant leaves a
// record that recovery can finish.
const (
	StateIntent   = "intent"   // idempotency key chosen; reserve may or may not have reached the server
	StateReserved = "reserved" // the server holds one update for us
	StateStaged   = "staged"   // the new file is written beside the target
	StateApplied  = "applied"  // the target is the new version; completion not yet acknowledged
	StateReported = "reported" // the server counted the update: nothing left to do
)

// Journal is the record of one target's update in progress.
type Journal struct {
	Version     int      `json:"version"`
	Target      string   `json:"target"`
	Product     string   `json:"product"`
	Server      string   `json:"server"`
	From        string   `json:"from"`
	To          string   `json:"to"`
	OldSHA256   string   `json:"old_sha256"`
	NewSHA256   string   `json:"new_sha256"`
	HealthCheck []string `json:"health_check,omitempty"`
	// StagedID identifies the staged file (it keeps its identity through
	// the swap): recovery counts the update as applied only if the file
	// at the target is this one, not an identical copy put there by
	// another run or by hand.
	StagedID       string `json:"staged_id,omitempty"`
	IdempotencyKey string `json:"idempotency_key"`
	ReservationID  string `json:"reservation_id,omitempty"`
	// Free: a downgrade staff published; nothing is reserved, completed
	// or given back for it.
	Free bool `json:"free,omitempty"`
	// Kind is "folder" for a program folder (Target is the folder, the
	// hashes are the manifests', the switch plan is in its work folder),
	// "" for a single file. Main is the folder's program, which the
	// health check runs.
	Kind string `json:"kind,omitempty"`
	Main string `json:"main,omitempty"`
	// Channel is the channel the update came from, for the install
	// record ("" : the one the record has).
	Channel string `json:"channel,omitempty"`
	// PathTo is the release the required path this update is the first
	// step of ends at (sent with the reserve); "" for none.
	PathTo    string    `json:"path_to,omitempty"`
	State     string    `json:"state"`
	Remaining *int64    `json:"remaining,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

const journalVersion = 1

// Store is the journals, install records and memory of one state
// directory.
type Store struct {
	StateDir string
	// Now is the clock of UpdatedAt; nil reads the wall clock.
	Now clock.Func
}

// maxJournalSize bounds what is read from the state directory.
const maxJournalSize = 64 << 10

// targetKey names a target's files in the state directory.
func targetKey(target string) string {
	sum := sha256.Sum256([]byte(target))
	return hex.EncodeToString(sum[:10])
}

// JournalDir is the folder of the journals.
func (s Store) JournalDir() string { return filepath.Join(s.StateDir, "journal") }

// Path is the journal of target.
func (s Store) Path(target string) string {
	return filepath.Join(s.JournalDir(), targetKey(target)+".json")
}

// NewIdempotencyKey is a fresh key for a reserve: the server answers a
// repeat of the key with its first answer.
func NewIdempotencyKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "k_" + hex.EncodeToString(b), nil
}

// Save writes the journal atomically: temp file, fsync, rename, fsync dir.
func (s Store) Save(j *Journal) error {
	j.Version = journalVersion
	j.UpdatedAt = s.Now.Now().UTC()
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	if err := durable.WriteFile(s.Path(j.Target), data); err != nil {
		return i18n.Errorf("writing the update journal in %s: %w", s.JournalDir(), err)
	}
	return nil
}

// Load reads a target's journal: (nil, nil) when there is none.
func (s Store) Load(target string) (*Journal, error) {
	return Read(s.Path(target))
}

// Read reads the journal at path: (nil, nil) when there is none.
func Read(path string) (*Journal, error) {
	data, err := durable.ReadFile(path, maxJournalSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var j Journal
	if err := api.DecodeStrict(data, &j); err != nil {
		return nil, i18n.Errorf("the update journal %s is damaged (%v); aktual leaves it as it is: show it to your vendor's support, who can read the reservation in it", path, err)
	}
	if j.Version != journalVersion {
		return nil, i18n.Errorf("journal %s has version %d; this aktual reads version %d", filepath.Base(path), j.Version, journalVersion)
	}
	return &j, nil
}

// List names every journal in the state directory.
func (s Store) List() ([]string, error) { return jsonFiles(s.JournalDir(), true) }

// jsonFiles names the .json entries in dir, only regular files when
// regularOnly: none when there is no dir.
func jsonFiles(dir string, regularOnly bool) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var paths []string
	for _, e := range entries {
		if (e.Type().IsRegular() || !regularOnly) && strings.HasSuffix(e.Name(), ".json") {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	return paths, nil
}

// Remove removes a target's journal; none is no error.
func (s Store) Remove(target string) error {
	err := os.Remove(s.Path(target))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
