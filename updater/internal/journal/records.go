package journal

import (
	"encoding/json"
	"path/filepath"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater/internal/durable"
)

// InstallRecord remembers what aktual installed at a target: the fallback
// for finding the installed version when the server's catalogue does not
// know the target's hash.
type InstallRecord struct {
	Target    string    `json:"target"`
	Product   string    `json:"product"`
	Version   string    `json:"version"`
	SHA256    string    `json:"sha256"`
	UpdatedAt time.Time `json:"updated_at"`
	// A program folder's record (Kind "folder"): SHA256 is its manifest's,
	// kept in the state directory (Manifest); Main is the program;
	// AllUsers, Shortcut and Registration are what the first install
	// made, for the uninstall to remove. A shortcut the customer deleted
	// is not made again.
	Kind         string `json:"kind,omitempty"`
	Main         string `json:"main,omitempty"`
	Server       string `json:"server,omitempty"`
	AllUsers     bool   `json:"all_users,omitempty"`
	Shortcut     string `json:"shortcut,omitempty"`
	Registration string `json:"registration,omitempty"`
	// Channel is the release channel the installation follows (aktual
	// update --channel); "" is stable.
	Channel string `json:"channel,omitempty"`
}

// KindFolder marks a program folder's journal and install record.
const KindFolder = "folder"

// InstallsDir is the folder of the install records.
func (s Store) InstallsDir() string { return filepath.Join(s.StateDir, "installs") }

// RecordPath is the install record of target.
func (s Store) RecordPath(target string) string {
	return filepath.Join(s.InstallsDir(), targetKey(target)+".json")
}

// InstallRecord reads the install record of target.
func (s Store) InstallRecord(target string) (*InstallRecord, error) {
	return ReadInstallRecord(s.RecordPath(target))
}

// InstallPaths names the install records in the state directory: none
// when it has no such folder.
func (s Store) InstallPaths() ([]string, error) {
	// Anything named .json is listed, so a record that cannot be read
	// is named in aktual status instead of passed over.
	return jsonFiles(s.InstallsDir(), false)
}

// ReadInstallRecord reads the install record at path.
func ReadInstallRecord(path string) (*InstallRecord, error) {
	data, err := durable.ReadFile(path, maxJournalSize)
	if err != nil {
		return nil, err
	}
	var r InstallRecord
	if err := api.DecodeStrict(data, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// WriteInstallRecord writes r atomically, stamped with the time.
func (s Store) WriteInstallRecord(r InstallRecord) error {
	r.UpdatedAt = s.Now.Now().UTC()
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return durable.WriteFile(s.RecordPath(r.Target), data)
}
