package keyring

import (
	"fmt"
	"os"
)

// lockKeys serialises changes of the key set between processes (a
// rotation, a revocation, a server start renewing it): without it, two
// could each write version n+1 from version n, and one change — a
// revocation, say — would be silently lost.
func (d Dir) lockKeys() (unlock func(), err error) {
	f, err := os.OpenFile(d.path(".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the keys lock: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking the keys: %w", err)
	}
	return func() { f.Close() }, nil
}
