package hwkey

import (
	"crypto/ed25519"
	"fmt"
	"github.com/aktual/aktual/internal/i18n"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aktual/aktual/api"
)

// MaxCustomerName bounds the customer's name in a licence: it is shown in
// messages and on the server's page.
const MaxCustomerName = 256

// MaxProducts bounds how many products one licence lists.
const MaxProducts = 1000

// ValidSerial reports whether s may be a hardware key's serial: the
// shape of every name in the protocol (api.ValidName), so printable and
// free of path tricks.
func ValidSerial(s string) bool { return api.ValidName(s) }

// LicenceStatement is what the vendor signs (with its release key) when it
// issues a key.
type LicenceStatement struct {
	Serial    string    `json:"serial"`
	Customer  string    `json:"customer"`
	Products  []string  `json:"products"`   // licensed products; empty = every classic product
	PublicKey []byte    `json:"public_key"` // the key's Ed25519 public key (32 bytes)
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"` // zero = never
}

// Covers reports whether the licence covers product.
func (l LicenceStatement) Covers(product string) bool {
	return len(l.Products) == 0 || slices.Contains(l.Products, product)
}

// Check returns an error saying what is wrong when the licence is expired at
// now, or does not cover product ("" skips the product check). The errors
// wrap ErrExpired or ErrNotLicensed.
func (l LicenceStatement) Check(now time.Time, product string) error {
	if !l.ExpiresAt.IsZero() && !now.Before(l.ExpiresAt) {
		return i18n.Errorf("%w: the licence of hardware key %s expired on %s; ask your vendor to renew it",
			ErrExpired, l.Serial, l.ExpiresAt.UTC().Format("2006-01-02 15:04 MST"))
	}
	if product != "" && !l.Covers(product) {
		return i18n.Errorf("%w: hardware key %s is licensed for %s, not for %s; use the key licensed for %s, or ask your vendor to add it to this licence",
			ErrNotLicensed, l.Serial, strings.Join(l.Products, ", "), product, product)
	}
	return nil
}

// validate checks what every licence must satisfy, signed or not.
func (l *LicenceStatement) validate() error {
	switch {
	case !ValidSerial(l.Serial):
		return i18n.Errorf("serial %q is not a key serial (letters, digits, '.', '_' or '-', at most 128)", l.Serial)
	case strings.TrimSpace(l.Customer) == "":
		return i18n.Errorf("the licence names no customer")
	case len(l.Customer) > MaxCustomerName:
		return i18n.Errorf("the customer's name is longer than %d bytes", MaxCustomerName)
	case !utf8.ValidString(l.Customer) || strings.ContainsFunc(l.Customer, unicode.IsControl):
		// The name is printed on terminals: no escape sequences.
		return i18n.Errorf("the customer's name contains control characters or invalid UTF-8")
	case len(l.PublicKey) != ed25519.PublicKeySize:
		return i18n.Errorf("the key's public key is %d bytes, not %d", len(l.PublicKey), ed25519.PublicKeySize)
	case l.IssuedAt.IsZero():
		return i18n.Errorf("the licence has no issue date")
	case !l.ExpiresAt.IsZero() && !l.ExpiresAt.After(l.IssuedAt):
		return i18n.Errorf("the licence expires (%s) before it is issued (%s)",
			l.ExpiresAt.Format(time.RFC3339), l.IssuedAt.Format(time.RFC3339))
	case len(l.Products) > MaxProducts:
		return i18n.Errorf("the licence lists more than %d products", MaxProducts)
	}
	for _, p := range l.Products {
		if !api.ValidName(p) {
			return i18n.Errorf("%q is not a product name", p)
		}
	}
	return nil
}

// parseStatement strictly decodes and validates a licence payload. It does
// not check any signature.
func parseStatement(payload []byte) (LicenceStatement, error) {
	var l LicenceStatement
	if err := api.DecodeStrict(payload, &l); err != nil {
		return LicenceStatement{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := l.validate(); err != nil {
		return LicenceStatement{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return l, nil
}

// VerifyLicence checks that env is a licence signed by one of vendorKeys,
// then decodes it strictly and checks that it is sane. It does not check
// expiry or products: see LicenceStatement.Check. Errors wrap ErrForged when
// the signature is missing or not by a trusted key, ErrMalformed otherwise.
func VerifyLicence(env api.Envelope, vendorKeys []api.PublicKey) (LicenceStatement, error) {
	if env.PayloadType != PayloadLicence {
		return LicenceStatement{}, i18n.Errorf("%w: the document is a %q, not a licence (%q)",
			ErrMalformed, env.PayloadType, PayloadLicence)
	}
	// Verify over the raw payload bytes first; only signed bytes are parsed.
	payload, err := env.Verify(PayloadLicence, vendorKeys)
	if err != nil {
		return LicenceStatement{}, fmt.Errorf("%w: %w", ErrForged, err)
	}
	l, err := parseStatement(payload)
	if err != nil {
		// Signed by the vendor yet unreadable: a vendor-side bug, not an attack.
		return LicenceStatement{}, fmt.Errorf("signed licence: %w", err)
	}
	return l, nil
}

// clone returns l with its slices copied, so a caller cannot change a key's
// licence through the value it was given.
func (l LicenceStatement) clone() LicenceStatement {
	l.Products = slices.Clone(l.Products)
	l.PublicKey = slices.Clone(l.PublicKey)
	return l
}
