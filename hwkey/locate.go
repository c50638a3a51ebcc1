package hwkey

import (
	"context"
	"errors"
	"fmt"
	"github.com/aktual/aktual/internal/i18n"
	"io/fs"
	"os"
	"strings"
)

// EnvHWKey names the environment variable that may hold a licence file's
// path, as --hwkey does.
const EnvHWKey = "AKTUAL_HWKEY"

// Locator finds the one key to use. Its zero value reads the real
// environment and uses no driver.
type Locator struct {
	// Drivers are asked in order when no path is given.
	Drivers []Driver
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// Locate finds the key to use: the licence file at explicit (from --hwkey)
// if given, else the one named by $AKTUAL_HWKEY, else the one key the
// drivers find. See Locator.Locate.
func Locate(ctx context.Context, explicit string, hint Hint, drivers ...Driver) (Key, error) {
	return Locator{Drivers: drivers}.Locate(ctx, explicit, hint)
}

// Locate finds the key to use. A path given (explicit, else $AKTUAL_HWKEY)
// is the customer's choice: if it cannot be used the error says why, and no
// other place is tried. Otherwise every driver is asked; when none finds a
// key the error wraps ErrNoKey and lists every place looked, and when
// different keys are found it wraps ErrSeveralKeys and lists them.
func (l Locator) Locate(ctx context.Context, explicit string, hint Hint) (Key, error) {
	if explicit != "" {
		return openChosen(explicit, "--hwkey")
	}
	getenv := l.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if path := getenv(EnvHWKey); path != "" {
		return openChosen(path, EnvHWKey)
	}

	var found []Key
	looked := []string{"$" + EnvHWKey + " (not set)"}
	for _, d := range l.Drivers {
		keys, where, err := d.Find(ctx, hint)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		looked = append(looked, where...)
		if err != nil {
			// One driver failing (a dongle service down) must not hide a
			// key another driver can find; it is reported if none does.
			looked = append(looked, fmt.Sprintf("%s keys (search failed: %v)", d.Name(), err))
		}
		found = append(found, keys...)
	}
	found = distinct(found)
	switch len(found) {
	case 0:
		return nil, i18n.Errorf("%w (looked in: %s); connect the hardware key, or pass --hwkey FILE with the key's licence file",
			ErrNoKey, strings.Join(looked, "; "))
	case 1:
		return found[0], nil
	default:
		names := make([]string, len(found))
		for i, k := range found {
			names[i] = fmt.Sprintf("%s at %s", k.Licence().Serial, k.Source())
		}
		return nil, i18n.Errorf("%w (%s); choose one with --hwkey FILE, or disconnect the others",
			ErrSeveralKeys, strings.Join(names, "; "))
	}
}

// openChosen opens the licence file the customer named, through how.
func openChosen(path, how string) (Key, error) {
	k, err := readFile(path)
	switch {
	case err == nil:
		return k, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, i18n.Errorf("%w: %s names %s, which does not exist; check the path to the hardware key's licence file",
			ErrNoKey, how, path)
	case errors.Is(err, ErrMalformed):
		return nil, i18n.Errorf("%s names %s, which is not a usable licence file: %w; check the path, or ask your vendor for a new licence file",
			how, path, err)
	default:
		return nil, i18n.Errorf("%s names %s, which cannot be read: %w", how, path, unwrapPath(err))
	}
}

// distinct drops repeats of a key found in several places (the target's
// folder on the removable disk, a copy of the file): one key is one
// serial with one public key.
func distinct(keys []Key) []Key {
	seen := map[string]bool{}
	var out []Key
	for _, k := range keys {
		l := k.Licence()
		id := l.Serial + "\x00" + string(l.PublicKey)
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, k)
	}
	return out
}
