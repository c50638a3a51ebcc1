//go:build !windows

package osapp

import "time"

// Register writes r as an Apps & features entry, replacing one of the
// same ID. Only Windows has them: elsewhere it checks r and returns.
func Register(r Registration) error {
	_, err := registryValues(r, time.Now())
	return err
}

// Unregister removes the entry id, if there is one. Elsewhere: nothing.
func Unregister(id string, allUsers bool) error { return checkID(id) }

// Registered reads back the entry id. Elsewhere there is none.
func Registered(id string, allUsers bool) (Registration, bool, error) {
	return Registration{}, false, checkID(id)
}
