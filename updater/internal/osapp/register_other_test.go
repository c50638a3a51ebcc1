//go:build !windows

package osapp

import "testing"

// Outside Windows registering checks its input and writes nothing.
func TestRegisterElsewhere(t *testing.T) {
	if err := Register(acme); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := Registered(acme.ID, false); ok || err != nil {
		t.Errorf("Registered = %v, %v; want none", ok, err)
	}
	if err := Unregister(acme.ID, true); err != nil {
		t.Error(err)
	}
	if _, err := StartMenuDir(false); err == nil {
		t.Error("StartMenuDir found a Start menu")
	}
}
