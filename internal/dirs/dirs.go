// Package dirs finds the per-user folders aktual and aktuald keep their
// files in when no folder is named.
package dirs

import (
	"os"
	"path/filepath"

	"github.com/aktual/aktual/internal/i18n"
)

// State is the per-user state directory of the installer (journals,
// install records). Its error names aktual's --state-dir.
func State() (string, error) { return userDir(stateBase, "aktual", "--state-dir") }

// Data is the per-user data directory of the reference server. Its error
// names aktuald's --data.
func Data() (string, error) { return userDir(dataBase, "aktuald", "--data") }

// userDir is name under base; flag is the option of the program asking
// that names a folder instead.
func userDir(base func() (string, error), name, flag string) (string, error) {
	b, err := base()
	if err != nil || b == "" {
		return "", i18n.Errorf("cannot find a per-user folder (is %s set?); name one with %s", homeVar, flag)
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
