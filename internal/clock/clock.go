// Package clock is the one way aktual's packages are told the time: a
// Func field, nil in production (the wall clock), set by tests.
package clock

import "time"

// Func returns the current time. The zero value reads the wall clock, so a
// struct with a Func field is usable without setting it.
type Func func() time.Time

// Now returns f's time, or time.Now() (with its monotonic reading, for
// measuring durations) when f is nil.
func (f Func) Now() time.Time {
	if f == nil {
		return time.Now()
	}
	return f()
}

// UTC returns Now in UTC, as the server stores and signs times.
func (f Func) UTC() time.Time { return f.Now().UTC() }
