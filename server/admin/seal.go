package admin

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// A new update code is shown once and stored only as a hash. A payment
// system that retries an activation (it never saw the answer) needs the
// code again, so the activation's idempotency record keeps the code
// sealed: encrypted with a key derived from the code secret, which lives
// in the data folder beside the keys and never in the database. A copy of
// the database alone reads no code.

func (a *Admin) sealKey() ([]byte, error) {
	if len(a.Keys.CodeSecret) == 0 {
		return nil, errors.New("no code secret: the data folder's keys are not loaded")
	}
	m := hmac.New(sha256.New, a.Keys.CodeSecret)
	m.Write([]byte("aktual: sealed codes of idempotent activations, v1"))
	return m.Sum(nil), nil
}

func (a *Admin) gcm() (cipher.AEAD, error) {
	key, err := a.sealKey()
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealCode encrypts a new code for its activation's idempotency record.
func (a *Admin) sealCode(code string) ([]byte, error) {
	g, err := a.gcm()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.Seal(nonce, nonce, []byte(code), nil), nil
}

// openCode reads back a sealed code.
func (a *Admin) openCode(sealed []byte) (string, error) {
	g, err := a.gcm()
	if err != nil {
		return "", err
	}
	if len(sealed) < g.NonceSize() {
		return "", errors.New("the sealed code is too short")
	}
	plain, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], nil)
	if err != nil {
		return "", fmt.Errorf("opening the sealed code (was the code secret replaced?): %w", err)
	}
	return string(plain), nil
}
