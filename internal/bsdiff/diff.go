package bsdiff

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
)

// Diff writes to patch a bsdiff 4 patch that turns old into new: it reads
// both whole, then does what DiffBytes does.
func Diff(old, new io.Reader, patch io.Writer) error {
	ob, err := io.ReadAll(old)
	if err != nil {
		return err
	}
	nb, err := io.ReadAll(new)
	if err != nil {
		return err
	}
	return DiffBytes(context.Background(), ob, nb, patch)
}

// DiffBytes writes to patch a bsdiff 4 patch that turns old into new,
// the patch bsdiff 4.3 would make but for where a match may start (see
// sparseIndex). Besides the two files it holds about the old file's size
// (the index); it runs the bzip2 program, which must be on PATH, three
// times at once to compress the patch's streams into temporary files,
// then copies them to patch.
func DiffBytes(ctx context.Context, old, new []byte, patch io.Writer) error {
	if len(old) > maxOldSize {
		return fmt.Errorf("the old file is larger than %d bytes, the most a patch is made from", int64(maxOldSize))
	}
	s, err := startStreams(ctx)
	if err != nil {
		return err
	}
	defer s.remove()
	err = scan(ctx, newSparseIndex(old), new, s)
	lens, ferr := s.finish()
	if err = errors.Join(err, ferr); err != nil {
		return err
	}
	var hdr [bsdiffHeaderSize]byte
	copy(hdr[:], bsdiffMagic)
	offtout(lens[0], hdr[8:16])
	offtout(lens[1], hdr[16:24])
	offtout(int64(len(new)), hdr[24:32])
	// The index is garbage now: collected, its memory takes the patch as
	// the caller buffers it (a large one, as with compressed debug
	// information, would otherwise add to the peak).
	runtime.GC()
	if _, err := patch.Write(hdr[:]); err != nil {
		return err
	}
	return s.writeTo(patch)
}

// offtout encodes bsdiff's 8-byte sign-magnitude little-endian integer.
func offtout(v int64, b []byte) {
	u := uint64(v)
	if v < 0 {
		u = uint64(-v)
	}
	for i := range 8 {
		b[i] = byte(u >> (8 * i))
	}
	if v < 0 {
		b[7] |= 0x80
	}
}

// match is bsdiff's scan state: the new file's position, the match found
// there (the old file's position, its length), and where the last
// control entry left both files.
type match struct {
	scan, pos, length    int
	lastScan, lastPos    int
	lastOffset, oldScore int
}

// scan is bsdiff's main loop: it looks for the next place in new where a
// match in old is clearly better (by more than 8 bytes) than going on with
// the old file where the last match left it, and writes the control entry,
// diff and extra bytes that get new up to there.
func scan(ctx context.Context, idx *sparseIndex, new []byte, s *streams) error {
	old := idx.old
	var m match
	for m.scan < len(new) {
		if err := ctx.Err(); err != nil {
			return err
		}
		m.oldScore = 0
		m.scan += m.length
		for scsc := m.scan; m.scan < len(new); m.scan++ {
			m.pos, m.length = idx.search(new[m.scan:])
			for ; scsc < m.scan+m.length; scsc++ {
				if o := scsc + m.lastOffset; o >= 0 && o < len(old) && old[o] == new[scsc] {
					m.oldScore++
				}
			}
			if (m.length == m.oldScore && m.length != 0) || m.length > m.oldScore+8 {
				break
			}
			if o := m.scan + m.lastOffset; o >= 0 && o < len(old) && old[o] == new[m.scan] {
				m.oldScore--
			}
		}
		if m.length != m.oldScore || m.scan == len(new) {
			if err := m.emit(old, new, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// emit writes the control entry from the last match to the one at m.scan:
// the last match extended forwards and this one backwards as far as they
// match more than they differ (the diff bytes), the bytes between them
// (extra), and the seek from the one to the other.
func (m *match) emit(old, new []byte, s *streams) error {
	lenf := extendForward(old[m.lastPos:], new[m.lastScan:m.scan])
	lenb := 0
	if m.scan < len(new) {
		lenb = extendBackward(old[:m.pos], new[m.lastScan:m.scan])
	}
	if overlap := m.lastScan + lenf - (m.scan - lenb); overlap > 0 {
		// Split the overlap where the forward match stops paying.
		sc, best, lens := 0, 0, 0
		for i := range overlap {
			if new[m.lastScan+lenf-overlap+i] == old[m.lastPos+lenf-overlap+i] {
				sc++
			}
			if new[m.scan-lenb+i] == old[m.pos-lenb+i] {
				sc--
			}
			if sc > best {
				best, lens = sc, i+1
			}
		}
		lenf += lens - overlap
		lenb -= lens
	}
	extraLen := (m.scan - lenb) - (m.lastScan + lenf)
	if err := s.control(lenf, extraLen, (m.pos-lenb)-(m.lastPos+lenf)); err != nil {
		return err
	}
	if err := s.diff(new[m.lastScan:m.lastScan+lenf], old[m.lastPos:m.lastPos+lenf]); err != nil {
		return err
	}
	if err := s.extra(new[m.lastScan+lenf : m.scan-lenb]); err != nil {
		return err
	}
	m.lastScan, m.lastPos = m.scan-lenb, m.pos-lenb
	m.lastOffset = m.pos - m.scan
	return nil
}

// extendForward is how far from their starts old and new are best taken
// as one match with differences: where matching bytes, counted twice,
// most outnumber all bytes.
func extendForward(old, new []byte) int {
	s, best, n := 0, 0, 0
	for i := 0; i < len(new) && i < len(old); {
		if old[i] == new[i] {
			s++
		}
		i++
		if s*2-i > best*2-n {
			best, n = s, i
		}
	}
	return n
}

// extendBackward is extendForward from the ends of old and new.
func extendBackward(old, new []byte) int {
	s, best, n := 0, 0, 0
	for i := 1; i <= len(new) && i <= len(old); i++ {
		if old[len(old)-i] == new[len(new)-i] {
			s++
		}
		if s*2-i > best*2-n {
			best, n = s, i
		}
	}
	return n
}
