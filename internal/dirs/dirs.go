// Package dirs finds the per-user folders aktual and aktuald keep their
// files in when no folder is named.
package dirs

import (
	"errors"
	"os"
	"path/filepath"
)

// State is the per-user state directory of the installer (journals,
// install records).
func State() (string, error) { return userDir(stateBase, "aktual") }

// Data is the per-user data directory of the reference server.
func Data() (string, error) { return userDir(dataBase, "aktuald") }

func userDir(base func() (string, error), name string) (string, error) {
	b, err := base()
	if err != nil || b == "" {
		return "", errors.New("cannot find a per-user folder (is HOME set?); name one with --state-dir or --data")
	}
	return filepath.Join(b, name), nil
}

// xdg returns $env, or HOME/fallback.
func xdg(env, fallback string) (string, error) {
	if d := os.Getenv(env); filepath.IsAbs(d) {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, fallback), nil
}
