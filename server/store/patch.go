package store

import (
	"errors"
	"fmt"
)

// Patch is a binary patch (bsdiff) from one release's artifact to another
// of the same product and platform. Its bytes are a blob named by their
// own sha256, served like an artifact. It is derived data: nothing signs
// it at rest, the latest answer signs its hash and size when it offers it,
// and the client checks the patch's output against the signed release.
type Patch struct {
	Product    string
	OS         string
	Arch       string
	FromSHA256 string // the installed release's artifact
	ToSHA256   string // the new release's artifact
	SHA256     string // the patch's own bytes
	Size       int64
}

// Validate checks what every store refuses in a patch.
func (p Patch) Validate() error {
	switch {
	case p.Product == "" || p.OS == "" || p.Arch == "":
		return errors.New("product, os and arch are required")
	case !isLowerHex(p.FromSHA256, 64) || !isLowerHex(p.ToSHA256, 64) || !isLowerHex(p.SHA256, 64):
		return errors.New("from, to and patch sha256 must be 64 lowercase hex digits")
	case p.FromSHA256 == p.ToSHA256:
		return errors.New("a patch from a release to itself")
	case p.Size <= 0:
		return fmt.Errorf("patch size %d is not positive", p.Size)
	}
	return nil
}

// MissingRelease is the error of a patch between releases that are not
// both published for its product and platform: ErrNotFound.
func (p Patch) MissingRelease() error {
	return fmt.Errorf("patch of %s for %s/%s: no published release for both %.12s… and %.12s…: %w",
		p.Product, p.OS, p.Arch, p.FromSHA256, p.ToSHA256, ErrNotFound)
}
