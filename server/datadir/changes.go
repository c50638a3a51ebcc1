package datadir

import "sync/atomic"

// Changes counts changes to what "latest" answers say (a publish, a
// re-signing, new patches), made through an Admin that shares it with the
// Server of the same Instance: a cached statement read before the last
// change is read again. A nil *Changes counts nothing.
type Changes struct{ n atomic.Uint64 }

// Changed records a change.
func (c *Changes) Changed() {
	if c != nil {
		c.n.Add(1)
	}
}

// Count is the number of changes so far.
func (c *Changes) Count() uint64 {
	if c == nil {
		return 0
	}
	return c.n.Load()
}
