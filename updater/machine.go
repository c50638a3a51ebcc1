package updater

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aktual/aktual/updater/internal/durable"
	"github.com/denisbrodbeck/machineid"
)

// machineAppID keys the protected machine ID, so the raw ID never leaves
// the machine.
const machineAppID = "aktual"

// machineID is the protected machine ID, or, where the system has none (a
// minimal container), a random ID kept in the state directory.
func (u *Updater) machineID() (string, error) {
	if u.MachineID != nil {
		return u.MachineID()
	}
	if id, err := machineid.ProtectedID(machineAppID); err == nil && id != "" {
		return "m_" + id[:32], nil
	}
	path := filepath.Join(u.StateDir, "machine-id")
	if data, err := durable.ReadFile(path, 256); err == nil {
		if id := strings.TrimSpace(string(data)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	id := "s_" + hex.EncodeToString(b)
	if err := durable.WriteFile(path, []byte(id+"\n")); err != nil {
		return "", err
	}
	return id, nil
}

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
