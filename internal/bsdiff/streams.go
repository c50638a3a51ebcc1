package bsdiff

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
)

// streams compresses a patch's three streams as the diff makes them, each
// through a bzip2 process of its own: nothing of the diff or extra bytes
// is held but a buffer's worth, only the compressed streams, which are
// the patch.
type streams struct {
	ctrl, diffs, extras *bzip2Stream
	scratch             []byte
}

// bzip2Stream is one bzip2 process: written through a buffer, its output
// gathered in out.
type bzip2Stream struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	buf *bufio.Writer
	out bytes.Buffer
	err bytes.Buffer
}

func startStreams(ctx context.Context) (*streams, error) {
	s := &streams{scratch: make([]byte, 32<<10)}
	for _, p := range []**bzip2Stream{&s.ctrl, &s.diffs, &s.extras} {
		b, err := startBzip2(ctx)
		if err != nil {
			s.close()
			return nil, err
		}
		*p = b
	}
	return s, nil
}

func startBzip2(ctx context.Context) (*bzip2Stream, error) {
	b := &bzip2Stream{cmd: exec.CommandContext(ctx, "bzip2", "-c")}
	b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.err
	in, err := b.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := b.cmd.Start(); err != nil {
		return nil, fmt.Errorf("compressing the patch needs the bzip2 program: %w", err)
	}
	b.in, b.buf = in, bufio.NewWriterSize(in, 64<<10)
	return b, nil
}

// finish ends the input and waits for the compressed stream.
func (b *bzip2Stream) finish() ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	err := b.buf.Flush()
	err = errors.Join(err, b.in.Close())
	if werr := b.cmd.Wait(); werr != nil {
		err = fmt.Errorf("bzip2: %w %s", werr, bytes.TrimSpace(b.err.Bytes()))
	}
	return b.out.Bytes(), err
}

// close finishes all three streams (also after a failure: no process is
// left behind) and returns the compressed control, diff and extra
// streams.
func (s *streams) close() (ctrl, diff, extra []byte, err error) {
	ctrl, e1 := s.ctrl.finish()
	diff, e2 := s.diffs.finish()
	extra, e3 := s.extras.finish()
	return ctrl, diff, extra, errors.Join(e1, e2, e3)
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
