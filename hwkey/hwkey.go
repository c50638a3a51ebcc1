// Package hwkey finds and reads classic-series hardware-key licences and
// signs challenges with the key. A real dongle signs in hardware; the
// reference key is a licence file holding an Ed25519 key pair. Drivers for
// real dongles plug in behind Driver without touching the updater.
//
// A licence is a LicenceStatement signed by the vendor's release key. The
// key proves it is present by signing a server's challenge (see
// ChallengeMessage); the server checks that signature against the public
// key named in the vendor-signed licence, so a copied licence without the
// key's private half is worth nothing.
package hwkey

import (
	"context"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
)

// PayloadLicence is the api.Envelope payload type of a licence, so a
// vendor signature made for a release can never pass for a licence.
const PayloadLicence = "aktual.licence.v1"

// Sentinels for the conditions a caller acts on.
var (
	// ErrNoKey: no hardware key was found where it was looked for.
	ErrNoKey = i18n.Errorf("no hardware key found")
	// ErrSeveralKeys: more than one different key was found, and the
	// installer cannot guess which one the customer means.
	ErrSeveralKeys = i18n.Errorf("several hardware keys found")
	// ErrExpired: the licence's validity has ended.
	ErrExpired = i18n.Errorf("hardware-key licence expired")
	// ErrNotLicensed: the licence does not cover the product.
	ErrNotLicensed = i18n.Errorf("product not covered by the hardware-key licence")
	// ErrForged: the licence is not signed by a trusted vendor key.
	ErrForged = i18n.Errorf("hardware-key licence is not signed by the vendor")
	// ErrMalformed: the licence or licence file cannot be read.
	ErrMalformed = i18n.Errorf("hardware-key licence is malformed")
)

// Key is a hardware key that is present and can prove it.
type Key interface {
	// Licence is the key's licence as the key states it, not verified:
	// whoever relies on it verifies Envelope with the vendor's keys.
	Licence() LicenceStatement
	// Envelope is the vendor-signed licence, exactly as signed; it is sent
	// to the server.
	Envelope() api.Envelope
	// Sign proves possession of the key: it signs ChallengeMessage(challenge).
	Sign(ctx context.Context, challenge []byte) ([]byte, error)
	// Source says where the key was found, for messages.
	Source() string
}
