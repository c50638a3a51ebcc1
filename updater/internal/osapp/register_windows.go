//go:build windows

package osapp

import (
	"errors"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"github.com/aktual/aktual/internal/i18n"
)

// uninstallKey is where Windows lists installed programs, under HKCU or
// HKLM.
const uninstallKey = `Software\Microsoft\Windows\CurrentVersion\Uninstall`

// registerError wraps a registry failure with what was being done.
func registerError(id string, err error) error {
	return i18n.Errorf("cannot write the Apps & features entry %s: %w", id, err)
}

// root is HKLM for an install for all users, HKCU for one user's.
func root(allUsers bool) registry.Key {
	if allUsers {
		return registry.LOCAL_MACHINE
	}
	return registry.CURRENT_USER
}

// Register writes r as an Apps & features entry, replacing one of the
// same ID. Values of an older entry that r leaves out are removed, so the
// entry says only what r does.
func Register(r Registration) error {
	vs, err := registryValues(r, time.Now())
	if err != nil {
		return err
	}
	k, _, err := registry.CreateKey(root(r.AllUsers), uninstallKey+`\`+r.ID, registry.SET_VALUE|registry.QUERY_VALUE)
	if err != nil {
		return registerError(r.ID, err)
	}
	defer k.Close()
	keep := map[string]bool{}
	for _, v := range vs {
		keep[v.Name] = true
		if v.IsDWord {
			err = k.SetDWordValue(v.Name, v.DWord)
		} else {
			err = k.SetStringValue(v.Name, v.Str)
		}
		if err != nil {
			return registerError(r.ID, err)
		}
	}
	old, err := k.ReadValueNames(0)
	if err != nil {
		return registerError(r.ID, err)
	}
	for _, name := range old {
		if !keep[name] {
			if err := k.DeleteValue(name); err != nil && !errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
				return registerError(r.ID, err)
			}
		}
	}
	return nil
}

// Unregister removes the entry id, if there is one.
func Unregister(id string, allUsers bool) error {
	if err := checkID(id); err != nil {
		return err
	}
	err := registry.DeleteKey(root(allUsers), uninstallKey+`\`+id)
	if err != nil && !errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
		return i18n.Errorf("cannot remove the Apps & features entry %s: %w", id, err)
	}
	return nil
}

// Registered reads back the entry id; false when there is none.
func Registered(id string, allUsers bool) (Registration, bool, error) {
	if err := checkID(id); err != nil {
		return Registration{}, false, err
	}
	k, err := registry.OpenKey(root(allUsers), uninstallKey+`\`+id, registry.QUERY_VALUE)
	if errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
		return Registration{}, false, nil
	}
	if err != nil {
		return Registration{}, false, i18n.Errorf("cannot read the Apps & features entry %s: %w", id, err)
	}
	defer k.Close()
	// A value missing or of another type reads as empty: the entry is
	// shown to a person, not trusted.
	str := func(name string) string {
		s, _, _ := k.GetStringValue(name)
		return s
	}
	dword := func(name string) uint32 {
		v, _, _ := k.GetIntegerValue(name)
		return uint32(v)
	}
	return fromValues(id, allUsers, str, dword), true, nil
}
