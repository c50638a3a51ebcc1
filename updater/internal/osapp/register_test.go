package osapp

import (
	"errors"
	"testing"
	"time"

	"github.com/aktual/aktual/updater/internal/kind"
)

var acme = Registration{
	ID:                   "aktual-acme-books",
	DisplayName:          "Acme Books",
	DisplayVersion:       "7.2.1",
	Publisher:            "Acme Ltd",
	InstallLocation:      `C:\Users\ana\AppData\Local\Programs\Acme Books`,
	DisplayIcon:          `C:\Users\ana\AppData\Local\Programs\Acme Books\acme.exe`,
	EstimatedSizeKB:      48213,
	UninstallString:      `"C:\Users\ana\AppData\Local\Programs\aktual.exe" uninstall acme-books`,
	QuietUninstallString: `"C:\Users\ana\AppData\Local\Programs\aktual.exe" uninstall --yes acme-books`,
}

func TestRegistryValues(t *testing.T) {
	now := time.Date(2026, 3, 7, 23, 59, 0, 0, time.UTC)
	s := func(n, v string) regValue { return regValue{Name: n, Str: v} }
	d := func(n string, v uint32) regValue { return regValue{Name: n, DWord: v, IsDWord: true} }
	minimal := Registration{ID: "aktual-x", DisplayName: "X", UninstallString: "x.exe"}
	for _, tc := range []struct {
		name string
		in   Registration
		want []regValue
	}{
		{"full", acme, []regValue{
			s("DisplayName", acme.DisplayName), s("DisplayVersion", "7.2.1"), s("Publisher", "Acme Ltd"),
			s("InstallLocation", acme.InstallLocation), s("DisplayIcon", acme.DisplayIcon),
			s("UninstallString", acme.UninstallString), s("QuietUninstallString", acme.QuietUninstallString),
			s("InstallDate", "20260307"), d("EstimatedSize", 48213), d("NoModify", 1), d("NoRepair", 1),
		}},
		{"minimal: empty values left out", minimal, []regValue{
			s("DisplayName", "X"), s("UninstallString", "x.exe"), s("InstallDate", "20260307"),
			d("NoModify", 1), d("NoRepair", 1),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := registryValues(tc.in, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d values %+v, want %d %+v", len(got), got, len(tc.want), tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("value %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestRegistryValuesRefuses(t *testing.T) {
	long := make([]byte, maxIDLen+1)
	for i := range long {
		long[i] = 'a'
	}
	for name, id := range map[string]string{
		"empty": "", "another key": `aktual\..\Other`, "space": "aktual acme", "leading dash": "-acme",
		"non-ASCII": "aktual-счетоводство", "too long": string(long),
	} {
		r := acme
		r.ID = id
		if _, err := registryValues(r, time.Now()); !errors.Is(err, kind.ErrUsage) {
			t.Errorf("%s: %v, want a usage error", name, err)
		}
		if err := Unregister(id, false); err == nil {
			t.Errorf("%s: Unregister took it", name)
		}
	}
	for name, mod := range map[string]func(*Registration){
		"no display name": func(r *Registration) { r.DisplayName = "" },
		"no uninstall":    func(r *Registration) { r.UninstallString = "" },
	} {
		r := acme
		mod(&r)
		if _, err := registryValues(r, time.Now()); !errors.Is(err, kind.ErrUsage) {
			t.Errorf("%s: %v, want a usage error", name, err)
		}
	}
}

// fromValues reads back what registryValues wrote.
func TestFromValuesRoundTrip(t *testing.T) {
	vs, err := registryValues(acme, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	strs, dwords := map[string]string{}, map[string]uint32{}
	for _, v := range vs {
		if v.IsDWord {
			dwords[v.Name] = v.DWord
		} else {
			strs[v.Name] = v.Str
		}
	}
	got := fromValues(acme.ID, true, func(n string) string { return strs[n] }, func(n string) uint32 { return dwords[n] })
	want := acme
	want.AllUsers = true
	if got != want {
		t.Errorf("read back %+v\nwant %+v", got, want)
	}
}
