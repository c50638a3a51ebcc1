package admin

import (
	"bytes"
	"fmt"
	"io"
)

// DefaultHealthCheck is what a program is run with after it is installed,
// unless its release says otherwise.
var DefaultHealthCheck = []string{"--version"}

// maxHealthArgs bounds a release's health-check arguments.
const maxHealthArgs = 16

// executableMagic are the first bytes of programs: ELF, Mach-O (both
// widths, both byte orders, universal), Windows PE, and scripts.
var executableMagic = [][]byte{
	[]byte("\x7fELF"),
	{0xfe, 0xed, 0xfa, 0xce}, {0xce, 0xfa, 0xed, 0xfe},
	{0xfe, 0xed, 0xfa, 0xcf}, {0xcf, 0xfa, 0xed, 0xfe},
	{0xca, 0xfe, 0xba, 0xbe},
	[]byte("MZ"),
	[]byte("#!"),
}

// LooksExecutable reports whether a file that starts with head is a
// program (so the default health check can run it) rather than data.
func LooksExecutable(head []byte) bool {
	for _, m := range executableMagic {
		if bytes.HasPrefix(head, m) {
			return true
		}
	}
	return false
}

// peekHead reads the first bytes of r and returns a reader of all of it.
func peekHead(r io.Reader) ([]byte, io.Reader, error) {
	head := make([]byte, 8)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, nil, err
	}
	head = head[:n]
	return head, io.MultiReader(bytes.NewReader(head), r), nil
}

// readHead peeks at the release file for p: with AutoHealthCheck, p gets
// DefaultHealthCheck when the file looks like a program, none otherwise.
// It returns the whole file to read on.
func readHead(p *PublishParams, r io.Reader) (io.Reader, error) {
	head, rest, err := peekHead(r)
	if err != nil {
		return nil, fmt.Errorf("reading the release file: %w", err)
	}
	if p.AutoHealthCheck {
		p.HealthCheck = nil
		if LooksExecutable(head) {
			p.HealthCheck = DefaultHealthCheck
		}
	}
	return rest, nil
}
