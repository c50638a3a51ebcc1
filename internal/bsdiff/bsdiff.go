// Package bsdiff owns the bsdiff 4 patch format, both halves: Diff makes a
// patch (the server, at publish) and Apply applies one, streaming (the
// client). A program that calls only Apply links no Diff.
package bsdiff

import (
	"io"

	"github.com/kr/binarydist"
)

// Diff writes to patch a bsdiff 4 patch that turns old into new. It holds
// both files in memory (binarydist's suffix sort) and runs the bzip2
// program to compress the patch's streams, which must be on PATH.
func Diff(old, new io.Reader, patch io.Writer) error {
	return binarydist.Diff(old, new, patch)
}
