package hwkey

import "context"

// Driver finds keys of one kind (the reference licence file, a vendor's
// USB dongle).
type Driver interface {
	// Name says what kind of key the driver finds, for messages.
	Name() string
	// Find returns the keys present and, for the message shown when none
	// is, the places it looked. A place where something was found but
	// could not be used says why. err is for failures that stop the
	// search (a cancelled ctx); a place that cannot be read is not one.
	Find(ctx context.Context, hint Hint) (keys []Key, looked []string, err error)
}

// Hint tells drivers where the customer is likely to keep a key.
type Hint struct {
	// TargetDir is the folder of the program being updated.
	TargetDir string
}
