package osapp

import (
	"time"

	"github.com/aktual/aktual/updater/internal/kind"
)

// Registration is a program's entry in Windows' "Apps & features" (the
// Uninstall key). Elsewhere it is not written.
type Registration struct {
	ID                   string // the key's name, e.g. "aktual-<product>": letters, digits, '.', '_', '-'
	DisplayName          string
	DisplayVersion       string
	Publisher            string
	InstallLocation      string
	DisplayIcon          string // the main executable's path
	EstimatedSizeKB      uint32
	UninstallString      string // the whole command line: the quoted executable and its arguments
	QuietUninstallString string
	AllUsers             bool // HKLM rather than HKCU
}

// maxIDLen keeps the key's name well inside the registry's 255.
const maxIDLen = 128

// regValue is one value of the Uninstall key: a string, or with IsDWord a
// DWORD.
type regValue struct {
	Name    string
	Str     string
	DWord   uint32
	IsDWord bool
}

// registryValues is what Register writes under the key of r.ID, in order.
// Empty optional strings are left out, so Windows falls back to its own
// (the icon of the uninstaller, no version shown).
func registryValues(r Registration, now time.Time) ([]regValue, error) {
	if err := checkID(r.ID); err != nil {
		return nil, err
	}
	if r.DisplayName == "" || r.UninstallString == "" {
		return nil, fail(kind.ErrUsage, nil, "the Apps & features entry %s needs a display name and an uninstall command", r.ID)
	}
	var vs []regValue
	str := func(name, v string) {
		if v != "" {
			vs = append(vs, regValue{Name: name, Str: v})
		}
	}
	dword := func(name string, v uint32) { vs = append(vs, regValue{Name: name, DWord: v, IsDWord: true}) }
	str("DisplayName", r.DisplayName)
	str("DisplayVersion", r.DisplayVersion)
	str("Publisher", r.Publisher)
	str("InstallLocation", r.InstallLocation)
	str("DisplayIcon", r.DisplayIcon)
	str("UninstallString", r.UninstallString)
	str("QuietUninstallString", r.QuietUninstallString)
	str("InstallDate", now.Format("20060102"))
	if r.EstimatedSizeKB > 0 {
		dword("EstimatedSize", r.EstimatedSizeKB)
	}
	dword("NoModify", 1) // aktual changes a program by updating it, not by "Modify"
	dword("NoRepair", 1)
	return vs, nil
}

// checkID refuses a key name that could reach another key (a backslash)
// or that Windows would show oddly.
func checkID(id string) error {
	ok := len(id) > 0 && len(id) <= maxIDLen && isAlnum(id[0])
	for i := 1; ok && i < len(id); i++ {
		c := id[i]
		ok = isAlnum(c) || c == '.' || c == '_' || c == '-'
	}
	if !ok {
		return fail(kind.ErrUsage, nil, "%q cannot name an Apps & features entry: use up to %d letters, digits, '.', '_' and '-', starting with a letter or digit", id, maxIDLen)
	}
	return nil
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// fromValues is the Registration that values read back from a key make.
func fromValues(id string, allUsers bool, str func(string) string, dword func(string) uint32) Registration {
	return Registration{
		ID:                   id,
		DisplayName:          str("DisplayName"),
		DisplayVersion:       str("DisplayVersion"),
		Publisher:            str("Publisher"),
		InstallLocation:      str("InstallLocation"),
		DisplayIcon:          str("DisplayIcon"),
		EstimatedSizeKB:      dword("EstimatedSize"),
		UninstallString:      str("UninstallString"),
		QuietUninstallString: str("QuietUninstallString"),
		AllUsers:             allUsers,
	}
}
