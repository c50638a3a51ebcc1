package hwkey

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/aktual/aktual/internal/i18n"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/aktual/aktual/api"
)

// MaxLicenceFile bounds the size of a licence file read from disk.
const MaxLicenceFile = 64 << 10

// fileVersion is the licence file format this package reads and writes.
const fileVersion = 1

// licenceFile is the reference key on disk: the signed licence and the key
// pair (as its 32-byte seed; the public half is in the licence).
type licenceFile struct {
	Version    int          `json:"version"`
	Licence    api.Envelope `json:"licence"`
	PrivateKey []byte       `json:"private_key"`
}

// FileKey is the reference hardware key: a licence file.
type FileKey struct {
	licence LicenceStatement
	env     api.Envelope
	priv    ed25519.PrivateKey
	source  string
}

var _ Key = (*FileKey)(nil)

// Issue makes a new reference key: a fresh key pair and a licence for it
// signed by vendorKey. It returns the licence file's bytes. expires zero
// means the licence never expires.
func Issue(vendorKey ed25519.PrivateKey, serial, customer string, products []string, now, expires time.Time) ([]byte, error) {
	if len(vendorKey) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("issuing a hardware key: the vendor key is %d bytes, not an Ed25519 private key", len(vendorKey))
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("issuing a hardware key: generating its key pair: %w", err)
	}
	l := LicenceStatement{
		Serial:    serial,
		Customer:  customer,
		Products:  append([]string{}, products...), // [] rather than null: "every product"
		PublicKey: pub,
		IssuedAt:  now.UTC().Truncate(time.Second),
	}
	if !expires.IsZero() {
		l.ExpiresAt = expires.UTC()
	}
	if err := l.validate(); err != nil {
		return nil, fmt.Errorf("issuing hardware key %q: %v", serial, err)
	}
	payload, err := json.Marshal(l)
	if err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(licenceFile{
		Version:    fileVersion,
		Licence:    api.Sign(PayloadLicence, payload, vendorKey),
		PrivateKey: priv.Seed(),
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// ParseFile reads a licence file strictly and checks that its private key
// belongs to its licence. It does not verify the vendor's signature (the
// installer may not know the vendor's keys yet): the server does, and so
// can the caller, with VerifyLicence(key.Envelope(), keys).
func ParseFile(data []byte) (*FileKey, error) {
	if len(data) > MaxLicenceFile {
		return nil, i18n.Errorf("%w: the file is larger than %d bytes, so it is not a licence file", ErrMalformed, MaxLicenceFile)
	}
	var f licenceFile
	if err := api.DecodeStrict(data, &f); errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, i18n.Errorf("%w: the file is empty or cut short (an incomplete copy?); copy it again, or ask your vendor for a new one", ErrMalformed)
	} else if err != nil {
		return nil, i18n.Errorf("%w: not a licence file (%v)", ErrMalformed, err)
	}
	if f.Version != fileVersion {
		return nil, i18n.Errorf("%w: licence file version %d is not supported (this aktual reads version %d); update aktual, or ask your vendor for a version %d file",
			ErrMalformed, f.Version, fileVersion, fileVersion)
	}
	if f.Licence.PayloadType != PayloadLicence {
		return nil, i18n.Errorf("%w: the file holds a %q, not a licence", ErrMalformed, f.Licence.PayloadType)
	}
	if len(f.Licence.Payload) > api.MaxEnvelopeSize {
		return nil, i18n.Errorf("%w: the licence is too large", ErrMalformed)
	}
	l, err := parseStatement(f.Licence.Payload)
	if err != nil {
		return nil, err
	}
	if len(f.PrivateKey) != ed25519.SeedSize {
		return nil, i18n.Errorf("%w: the private key is %d bytes, not %d", ErrMalformed, len(f.PrivateKey), ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(f.PrivateKey)
	if !bytes.Equal(priv.Public().(ed25519.PublicKey), l.PublicKey) {
		return nil, i18n.Errorf("%w: the file's private key does not belong to its licence (key %s); the file is damaged, ask your vendor for a new one",
			ErrMalformed, l.Serial)
	}
	return &FileKey{licence: l, env: f.Licence, priv: priv}, nil
}

// ReadFile reads the licence file at path (at most MaxLicenceFile bytes).
// The key's Source is path.
func ReadFile(path string) (*FileKey, error) {
	k, err := readFile(path)
	var pe *fs.PathError
	if err != nil && !errors.As(err, &pe) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, err
}

// readFile is ReadFile whose errors other than *fs.PathError do not repeat
// the path.
func readFile(path string) (*FileKey, error) {
	// Only regular files: opening a FIFO or a device could block for ever.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, i18n.Errorf("%w: it is not a file", ErrMalformed)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxLicenceFile+1))
	if err != nil {
		return nil, err
	}
	k, err := ParseFile(data)
	if err != nil {
		return nil, err
	}
	k.source = path
	return k, nil
}

// Licence returns a copy of the key's (unverified) licence.
func (k *FileKey) Licence() LicenceStatement { return k.licence.clone() }

// Envelope returns a copy of the signed licence.
func (k *FileKey) Envelope() api.Envelope {
	e := k.env
	e.Payload = bytes.Clone(e.Payload)
	e.Signatures = make([]api.Signature, len(k.env.Signatures))
	for i, s := range k.env.Signatures {
		e.Signatures[i] = api.Signature{KeyID: s.KeyID, Sig: bytes.Clone(s.Sig)}
	}
	return e
}

// Sign signs ChallengeMessage(challenge) with the key's private key.
func (k *FileKey) Sign(ctx context.Context, challenge []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(challenge) == 0 || len(challenge) > MaxChallenge {
		return nil, errors.New("the challenge to sign is empty or too long")
	}
	return ed25519.Sign(k.priv, ChallengeMessage(challenge)), nil
}

// Source is the licence file's path ("licence file" when it was parsed
// from bytes).
func (k *FileKey) Source() string {
	if k.source == "" {
		return "licence file"
	}
	return k.source
}
