package api

import (
	"fmt"
	"strings"
	"testing"
)

func TestCheckPath(t *testing.T) {
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"a.txt", true},
		{"bin/ledger.exe", true},
		{"Справка/й.txt", true},           // NFC
		{"Справка/и\u0306.txt", false},    // the same name in NFD
		{"COM10", true},                   // only COM0–COM9 are devices
		{"console.txt", true},             // CON only as the whole base name
		{"a..b", true},                    // dots inside a name are fine
		{".hidden", true},                 // so is a leading one
		{strings.Repeat("a", 255), true},  // the longest name
		{strings.Repeat("a", 256), false}, // one longer
		{"CON", false}, {"con", false}, {"aux.txt", false}, {"COM1.log", false}, {"LPT9", false},
		{"con .txt", false}, {"NUL.tar.gz", false}, {"COM¹", false}, {"CONIN$", false},
		{"a.", false}, {"a ", false}, {"con ", false}, {"dir./a", false},
		{"..", false}, {"a/../b", false}, {".", false}, {"./a", false},
		{"/etc/passwd", false}, {`a\b`, false}, {"C:x", false}, {"a:b", false},
		{"a\x00b", false}, {"a\x1fb", false}, {"a\x7fb", false}, {"a\nb", false},
		{"a*b", false}, {"a?b", false}, {`a"b`, false}, {"a<b", false}, {"a|b", false},
		{"", false}, {"a//b", false}, {"a/", false}, {"\xff", false},
		{strings.Repeat("a/", 512) + "b", false}, // past MaxPathBytes
	} {
		if err := CheckPath(tc.path); (err == nil) != tc.ok {
			t.Errorf("CheckPath(%q) = %v; want ok=%v", tc.path, err, tc.ok)
		}
	}
}

func manifest(paths ...string) *Manifest {
	m := &Manifest{Product: "ledger", Version: "2.0.0", OS: "windows", Arch: "amd64"}
	for _, p := range paths {
		m.Files = append(m.Files, ManifestFile{Path: p, Size: 1, SHA256: strings.Repeat("a", 64), Mode: ModeFile})
	}
	return m
}

func TestValidate(t *testing.T) {
	many := manifest()
	for i := range MaxManifestFiles + 1 {
		many.Files = append(many.Files, ManifestFile{Path: fmt.Sprintf("f%06d", i), SHA256: strings.Repeat("a", 64), Mode: ModeFile})
	}
	for _, tc := range []struct {
		name string
		m    *Manifest
		want string // "" for valid
	}{
		{"valid", manifest("a.txt", "bin/ledger.exe", "data/x"), ""},
		{"case collision", manifest("README.TXT", "Readme.txt"), "differ only in case"},
		{"case collision of folders", manifest("Data/a", "data/b"), "differ only in case"},
		{"file where a folder must be", manifest("a", "a/b"), "needs a folder"},
		{"file where a folder must be, other case", manifest("A", "a/b"), "needs a folder"},
		{"unsorted", manifest("b", "a"), "not sorted"},
		{"twice", manifest("a", "a"), "not sorted and unique"},
		{"NFD", manifest("Справка/и\u0306.txt"), "NFC"},
		{"reserved", manifest("aux.txt"), "reserves"},
		{"no files", manifest(), "no files"},
		{"too many", many, "at most"},
		{"no version", &Manifest{Product: "ledger", OS: "windows", Arch: "amd64", Files: manifest("a").Files}, "version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate: %v; want one saying %q", err, tc.want)
			}
		})
	}
	m := manifest("a.ini", "bin/ledger.exe")
	m.Main = "bin/ledger.exe"
	m.Preserve = []string{"*.ini"}
	if err := m.Validate(); err != nil {
		t.Errorf("main and preserve: %v", err)
	}
	for _, bad := range []func(*Manifest){
		func(m *Manifest) { m.Main = "nosuch.exe" },
		func(m *Manifest) { m.Preserve = []string{"bin/*"} },
		func(m *Manifest) { m.Preserve = []string{"../x"} },
		func(m *Manifest) { m.Files[0].Mode = 0o600 },
		func(m *Manifest) { m.Files[0].SHA256 = strings.Repeat("A", 64) },
		func(m *Manifest) { m.Files[0].Size = -1 },
	} {
		c := *m
		c.Files = append([]ManifestFile(nil), m.Files...)
		bad(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%+v is valid", c)
		}
	}
}

func TestMatchPreserve(t *testing.T) {
	for _, tc := range []struct {
		pat, path string
		want      bool
	}{
		{"*.ini", "app.ini", true},
		{"*.ini", "conf/deep/app.INI", true}, // any depth, any case
		{"*.ini", "app.ini.bak", false},
		{"data/**", "data", true},
		{"data/**", "data/a/b/c.db", true},
		{"data/**", "DATA/x", true},
		{"data/**", "database/x", false},
		{"data/*.db", "data/x.db", true},
		{"data/*.db", "data/sub/x.db", false},
		{"**/cache/**", "a/b/cache/x", true},
		{"**/cache/**", "cache", true},
		{"logs/app.log", "logs/app.log", true},
		{"logs/app.log", "other/logs/app.log", false},
		{"Справка/*.txt", "справка/й.txt", true},
		{"Справка/й.txt", "Справка/и\u0306.txt", true}, // NFC on both sides
	} {
		if got := MatchPreserve(tc.pat, tc.path); got != tc.want {
			t.Errorf("MatchPreserve(%q, %q) = %v, want %v", tc.pat, tc.path, got, tc.want)
		}
	}
}
