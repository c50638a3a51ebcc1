package updater

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
}

func (u *Updater) recordPath(target string) string {
	return filepath.Join(u.StateDir, "installs", targetKey(target)+".json")
}

func (u *Updater) installRecord(target string) (*InstallRecord, error) {
	return readInstallRecord(u.recordPath(target))
}

func readInstallRecord(path string) (*InstallRecord, error) {
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

func (u *Updater) writeInstallRecord(r InstallRecord) error {
	r.UpdatedAt = u.Now.Now().UTC()
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return durable.WriteFile(u.recordPath(r.Target), data)
}

// recordInstall writes the install record of a finished update. It is
// only the fallback for telling the installed version when the server's
// catalogue does not know the file, so failing to write it is said, not
// returned: the update itself is done and counted.
func (u *Updater) recordInstall(j *Journal) {
	r := InstallRecord{Target: j.Target, Product: j.Product, Version: j.To, SHA256: j.NewSHA256}
	if err := u.writeInstallRecord(r); err != nil {
		u.notice("%s %s is installed, but aktual could not note it in %s (%v); if a later check cannot tell the installed version, pass --from-version %s",
			j.Product, j.To, filepath.Dir(u.recordPath(j.Target)), err, j.To)
	}
}
