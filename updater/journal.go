package updater

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
	Free      bool      `json:"free,omitempty"`
	State     string    `json:"state"`
	Remaining *int64    `json:"remaining,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

const journalVersion = 1

// maxJournalSize bounds what is read from the state directory.
const maxJournalSize = 64 << 10

// targetKey names a target's files in the state directory.
func targetKey(target string) string {
	sum := sha256.Sum256([]byte(target))
	return hex.EncodeToString(sum[:10])
}

func (u *Updater) journalDir() string { return filepath.Join(u.StateDir, "journal") }

func (u *Updater) journalPath(target string) string {
	return filepath.Join(u.journalDir(), targetKey(target)+".json")
}

func newIdempotencyKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "k_" + hex.EncodeToString(b), nil
}

// save writes the journal atomically: temp file, fsync, rename, fsync dir.
func (u *Updater) save(j *Journal) error {
	j.Version = journalVersion
	j.UpdatedAt = u.Now.Now().UTC()
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	if err := durable.WriteFile(u.journalPath(j.Target), data); err != nil {
		return i18n.Errorf("writing the update journal in %s: %w", u.journalDir(), err)
	}
	return nil
}

// loadJournal reads a target's journal: (nil, nil) when there is none.
func (u *Updater) loadJournal(target string) (*Journal, error) {
	return readJournal(u.journalPath(target))
}

func readJournal(path string) (*Journal, error) {
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

// journals lists every journal in the state directory.
func (u *Updater) journals() ([]string, error) {
	entries, err := os.ReadDir(u.journalDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var paths []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".json") {
			paths = append(paths, filepath.Join(u.journalDir(), e.Name()))
		}
	}
	return paths, nil
}

// forgetJournal removes the journal of an update that holds nothing (it
// was refused, given back, or never reached the server). Failing to only
// leaves work the next run does again, which every caller says is safe;
// it is said, not returned, as the update's own outcome is already known.
func (u *Updater) forgetJournal(target string) {
	if err := u.removeJournal(target); err != nil {
		u.notice("could not remove the update journal %s (%v); the next run of aktual finishes it again, which uses no update", u.journalPath(target), err)
	}
}

// finished forgets the journal of an update that is done: the server
// counted it, or it was free. Left at "applied", the journal would make
// the next run report the update again: the server answers a repeated
// completion with its first answer, so nothing is spent twice, but the
// customer would be told twice. So when it cannot be removed it is marked
// "reported", which recovery drops silently; only if that write fails too
// does the next run report it again (counted once all the same).
func (u *Updater) finished(j *Journal) {
	err := u.removeJournal(j.Target)
	if err == nil {
		return
	}
	done := *j
	done.State = StateReported
	if serr := u.save(&done); serr != nil {
		u.notice("could not remove the finished update's journal %s (%v); the next run of aktual tells the server again, which counts the update only once", u.journalPath(j.Target), err)
		return
	}
	u.notice("could not remove the finished update's journal %s (%v); it is marked done, and the next run of aktual removes it", u.journalPath(j.Target), err)
}

func (u *Updater) removeJournal(target string) error {
	err := os.Remove(u.journalPath(target))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
