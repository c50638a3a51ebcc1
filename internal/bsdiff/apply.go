package bsdiff

import (
	"compress/bzip2"
	"context"
	"errors"
	"io"

	"github.com/aktual/aktual/internal/i18n"
)

// bsdiff 4 patches (the format of bsdiff and of minio/selfupdate's
// patcher): a 32-byte header, then three bzip2 streams. The control
// stream is triples (add, copy, seek): add bytes of the diff stream to
// the old file's bytes at the old position, copy bytes of the extra
// stream, move the old position by seek.
const (
	bsdiffMagic      = "BSDIFF40"
	bsdiffHeaderSize = 32
)

// malformedPatch is the error of a patch that is not a bsdiff patch of
// the size asked for.
type malformedPatch struct{ error }

func (e malformedPatch) Unwrap() error { return e.error }

func malformed(err error) error { return malformedPatch{err} }

// IsMalformed reports whether err is Apply's refusal of a patch that is
// not a bsdiff patch of the size asked for (its message says how), as
// opposed to a failure to read or write.
func IsMalformed(err error) bool {
	var m malformedPatch
	return errors.As(err, &m)
}

// patchHeader is a bsdiff 4 header: the compressed lengths of the control
// and diff streams, and the size of the file the patch makes.
type patchHeader struct {
	ctrlLen, diffLen, newSize int64
}

// parsePatchHeader reads a header and checks it against the patch's size.
func parsePatchHeader(b []byte, patchSize int64) (patchHeader, error) {
	if len(b) < bsdiffHeaderSize || string(b[:8]) != bsdiffMagic {
		return patchHeader{}, malformed(i18n.Errorf("the patch is not a bsdiff patch"))
	}
	h := patchHeader{ctrlLen: offtin(b[8:16]), diffLen: offtin(b[16:24]), newSize: offtin(b[24:32])}
	rest := patchSize - bsdiffHeaderSize
	if h.ctrlLen < 0 || h.diffLen < 0 || h.newSize < 0 || rest < 0 || h.ctrlLen > rest || h.diffLen > rest-h.ctrlLen {
		return patchHeader{}, malformed(i18n.Errorf("the patch's header is inconsistent"))
	}
	return h, nil
}

// offtin decodes bsdiff's 8-byte sign-magnitude little-endian integer.
func offtin(b []byte) int64 {
	var y int64
	for i := 6; i >= 0; i-- {
		y = y<<8 | int64(b[i])
	}
	y |= int64(b[7]&0x7f) << 56
	if b[7]&0x80 != 0 {
		y = -y
	}
	return y
}

// patchChunk is how much of the diff stream is added to the old file at a
// time: memory stays this small whatever the file's size.
const patchChunk = 64 << 10

// Apply applies a bsdiff 4 patch, streaming: old is read where the
// control stream points, the output is written in order, and no more than
// a chunk of either is held. The output must be exactly newSize bytes
// (the signed release's); old bytes outside the old file count as zero,
// as in bspatch.
func Apply(ctx context.Context, old io.ReaderAt, oldSize int64, patch io.ReaderAt, patchSize int64, out io.Writer, newSize int64) error {
	var hb [bsdiffHeaderSize]byte
	if _, err := patch.ReadAt(hb[:], 0); err != nil {
		return malformed(i18n.Errorf("the patch is too short"))
	}
	h, err := parsePatchHeader(hb[:], patchSize)
	if err != nil {
		return err
	}
	if h.newSize != newSize {
		return malformed(i18n.Errorf("the patch makes a file of %d bytes, not the %d signed", h.newSize, newSize))
	}
	ctrl := bzip2.NewReader(io.NewSectionReader(patch, bsdiffHeaderSize, h.ctrlLen))
	diff := bzip2.NewReader(io.NewSectionReader(patch, bsdiffHeaderSize+h.ctrlLen, h.diffLen))
	extra := bzip2.NewReader(io.NewSectionReader(patch, bsdiffHeaderSize+h.ctrlLen+h.diffLen, patchSize-bsdiffHeaderSize-h.ctrlLen-h.diffLen))
	// A position further from the old file than this reads only zeros in
	// any patch bsdiff makes; it bounds the arithmetic below.
	limit := oldSize + newSize + 1
	buf := make([]byte, patchChunk)
	obuf := make([]byte, patchChunk)
	var oldPos, newPos int64
	var triple [24]byte
	for newPos < newSize {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := io.ReadFull(ctrl, triple[:]); err != nil {
			return corruptPatch(err)
		}
		add, cp, seek := offtin(triple[0:8]), offtin(triple[8:16]), offtin(triple[16:24])
		if add < 0 || cp < 0 || add > newSize-newPos || cp > newSize-newPos-add || seek < -limit || seek > limit {
			return malformed(i18n.Errorf("the patch's control data is out of range"))
		}
		for left := add; left > 0; {
			n := min(left, patchChunk)
			if _, err := io.ReadFull(diff, buf[:n]); err != nil {
				return corruptPatch(err)
			}
			if err := addOld(old, oldSize, oldPos, buf[:n], obuf[:n]); err != nil {
				return err
			}
			if _, err := out.Write(buf[:n]); err != nil {
				return err
			}
			oldPos += n
			left -= n
		}
		if n, err := io.CopyN(out, extra, cp); err != nil {
			if n < cp && (errors.Is(err, io.EOF) || isBzip2Error(err)) {
				return corruptPatch(err)
			}
			return err
		}
		newPos += add + cp
		oldPos += seek
		if oldPos < -limit || oldPos > limit {
			return malformed(i18n.Errorf("the patch's control data is out of range"))
		}
	}
	return nil
}

// addOld adds to b the old file's bytes from pos on (zero outside it).
func addOld(old io.ReaderAt, oldSize, pos int64, b, scratch []byte) error {
	lo, hi := max(pos, 0), min(pos+int64(len(b)), oldSize)
	if lo >= hi {
		return nil
	}
	o := scratch[:hi-lo]
	if _, err := old.ReadAt(o, lo); err != nil {
		return i18n.Errorf("reading the installed file: %w", err)
	}
	d := b[lo-pos:]
	for i := range o {
		d[i] += o[i]
	}
	return nil
}

func corruptPatch(err error) error {
	return malformed(i18n.Errorf("the patch's data is damaged (%v)", err))
}

func isBzip2Error(err error) bool {
	var se bzip2.StructuralError
	return errors.As(err, &se)
}
