//go:build windows

package dirs

import (
	"errors"
	"os"
)

// homeVar is the environment variable the folders are found from.
const homeVar = "%LocalAppData%"

// Both live under %LocalAppData%: they belong to this machine, not to a
// roaming profile.
func localAppData() (string, error) {
	if d := os.Getenv("LocalAppData"); d != "" {
		return d, nil
	}
	return "", errors.New("%LocalAppData% is not set")
}

func stateBase() (string, error) { return localAppData() }
func dataBase() (string, error)  { return localAppData() }
