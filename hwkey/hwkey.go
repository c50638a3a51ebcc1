// Package hwkey finds and reads classic-series hardware-key licences and
// signs challenges with the key. A real dongle signs in hardware; the
// reference key is a licence file holding an Ed25519 key pair. Drivers for
// real dongles plug in behind Driver without touching the updater.
package hwkey

import (
	"context"
	"errors"
)

// ErrNoKey is returned when no hardware key is found.
var ErrNoKey = errors.New("no hardware key found")

// Licence is what a hardware key says about its owner.
type Licence struct {
	Serial   string
	Customer string
	Products []string
}

// Key is a hardware key that can prove its presence.
type Key interface {
	Licence() Licence
	// Sign signs a server's challenge with the key's private key.
	Sign(ctx context.Context, challenge []byte) ([]byte, error)
}

// Driver finds keys of one kind (the reference licence file, a vendor's
// USB dongle).
type Driver interface {
	Name() string
	// Find returns the keys present, and the places it looked.
	Find(ctx context.Context) (keys []Key, looked []string, err error)
}
