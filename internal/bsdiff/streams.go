package bsdiff

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
)

// streams compresses a patch's three streams as the diff makes them, each
// through a bzip2 process of its own into a temporary file: nothing of the
// patch is held in memory but a buffer's worth, however large it grows
// (on unrelated files, about the new file's size).
type streams struct {
	ctrl, diffs, extras *bzip2Stream
	scratch             []byte
}

// bzip2Stream is one bzip2 process: written through a buffer, its output
// in a temporary file.
type bzip2Stream struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	buf *bufio.Writer
	out *os.File
	err bytes.Buffer
}

func startStreams(ctx context.Context) (*streams, error) {
	s := &streams{scratch: make([]byte, 32<<10)}
	for _, p := range []**bzip2Stream{&s.ctrl, &s.diffs, &s.extras} {
		b, err := startBzip2(ctx)
		if err != nil {
			s.finish()
			s.remove()
			return nil, err
		}
		*p = b
	}
	return s, nil
}

func startBzip2(ctx context.Context) (*bzip2Stream, error) {
	out, err := os.CreateTemp("", "aktual-bsdiff-*")
	if err != nil {
		return nil, err
	}
	b := &bzip2Stream{cmd: exec.CommandContext(ctx, "bzip2", "-c"), out: out}
	b.cmd.Stdout, b.cmd.Stderr = out, &b.err
	in, err := b.cmd.StdinPipe()
	if err != nil {
		b.remove()
		return nil, err
	}
	if err := b.cmd.Start(); err != nil {
		b.remove()
		return nil, fmt.Errorf("compressing the patch needs the bzip2 program: %w", err)
	}
	b.in, b.buf = in, bufio.NewWriterSize(in, 64<<10)
	return b, nil
}

// finish ends the input, waits for the compressed stream and returns its
// length.
func (b *bzip2Stream) finish() (int64, error) {
	if b == nil {
		return 0, nil
	}
	err := b.buf.Flush()
	err = errors.Join(err, b.in.Close())
	if werr := b.cmd.Wait(); werr != nil {
		err = errors.Join(err, fmt.Errorf("bzip2: %w %s", werr, bytes.TrimSpace(b.err.Bytes())))
	}
	n, serr := b.out.Seek(0, io.SeekCurrent)
	return n, errors.Join(err, serr)
}

func (b *bzip2Stream) remove() {
	if b != nil {
		b.out.Close()
		os.Remove(b.out.Name())
	}
}

// finish finishes all three streams (also after a failure: no process is
// left behind) and returns the lengths of the compressed control, diff and
// extra streams.
func (s *streams) finish() (lens [3]int64, err error) {
	var errs [3]error
	for i, b := range []*bzip2Stream{s.ctrl, s.diffs, s.extras} {
		lens[i], errs[i] = b.finish()
	}
	return lens, errors.Join(errs[:]...)
}

// remove deletes the temporary files.
func (s *streams) remove() {
	for _, b := range []*bzip2Stream{s.ctrl, s.diffs, s.extras} {
		b.remove()
	}
}

// writeTo writes the three compressed streams, in order, to w.
func (s *streams) writeTo(w io.Writer) error {
	for _, b := range []*bzip2Stream{s.ctrl, s.diffs, s.extras} {
		if _, err := b.out.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if _, err := io.Copy(w, b.out); err != nil {
			return err
		}
	}
	return nil
}

// control writes one control entry: add, copy, seek.
func (s *streams) control(add, cp, seek int) error {
	var t [24]byte
	offtout(int64(add), t[0:8])
	offtout(int64(cp), t[8:16])
	offtout(int64(seek), t[16:24])
	_, err := s.ctrl.buf.Write(t[:])
	return err
}

// diff writes the bytewise difference new - old (of equal lengths).
func (s *streams) diff(new, old []byte) error {
	for len(new) > 0 {
		n := min(len(new), len(s.scratch))
		d := s.scratch[:n]
		for i := range d {
			d[i] = new[i] - old[i]
		}
		if _, err := s.diffs.buf.Write(d); err != nil {
			return err
		}
		new, old = new[n:], old[n:]
	}
	return nil
}

// extra writes bytes of new that no match covers.
func (s *streams) extra(b []byte) error {
	_, err := s.extras.buf.Write(b)
	return err
}
