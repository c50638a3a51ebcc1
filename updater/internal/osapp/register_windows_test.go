//go:build windows

package osapp

import (
	"os"
	"strconv"
	"testing"
)

// An entry under HKCU is written, read back, replaced without the values
// the new one leaves out, and removed, twice without error.
func TestRegisterWindows(t *testing.T) {
	r := acme
	r.ID = "aktual-test-" + strconv.Itoa(os.Getpid())
	t.Cleanup(func() { Unregister(r.ID, false) })
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	got, ok, err := Registered(r.ID, false)
	if err != nil || !ok || got != r {
		t.Fatalf("Registered = %+v, %v, %v; want %+v", got, ok, err, r)
	}
	r.QuietUninstallString, r.DisplayVersion = "", "7.3"
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := Registered(r.ID, false); got != r {
		t.Errorf("after replacing: %+v, want %+v", got, r)
	}
	for range 2 {
		if err := Unregister(r.ID, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, err := Registered(r.ID, false); ok || err != nil {
		t.Errorf("after Unregister: %v, %v", ok, err)
	}
}

func TestStartMenuDir(t *testing.T) {
	for _, all := range []bool{false, true} {
		if d, err := StartMenuDir(all); err != nil || d == "" {
			t.Errorf("StartMenuDir(%v) = %q, %v", all, d, err)
		}
	}
}
