package bsdiff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"testing"

	"github.com/minio/selfupdate"

	"github.com/aktual/aktual/internal/testenv"
)

// The streaming bspatch against minio/selfupdate's patcher (bsdiff's own
// algorithm, in memory): the same output for patches bsdiff makes, and a
// refusal rather than a panic or a wrong size for anything else.

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// mutate changes old the ways a new build does: bytes changed, inserted
// and removed here and there.
func mutate(r *rand.Rand, old []byte) []byte {
	out := bytes.Clone(old)
	for range 1 + r.IntN(8) {
		if len(out) == 0 {
			out = append(out, randomBytes(r, 1+r.IntN(100))...)
			continue
		}
		i := r.IntN(len(out))
		switch r.IntN(3) {
		case 0:
			out[i] ^= byte(1 + r.IntN(255))
		case 1:
			out = append(out[:i], append(randomBytes(r, 1+r.IntN(300)), out[i:]...)...)
		case 2:
			out = append(out[:i], out[min(len(out), i+1+r.IntN(300)):]...)
		}
	}
	return out
}

// needBzip2 stops a test that makes patches where the bzip2 program,
// which Diff runs, is missing: a skip here, a failure in CI.
func needBzip2(t testing.TB) {
	t.Helper()
	testenv.NeedBzip2(t)
}

func diff(t testing.TB, old, new []byte) []byte {
	t.Helper()
	var p bytes.Buffer
	if err := Diff(bytes.NewReader(old), bytes.NewReader(new), &p); err != nil {
		t.Fatalf("bsdiff: %v", err)
	}
	return p.Bytes()
}

// patchStream runs applyBSDiff over in-memory files.
func patchStream(old, patch []byte, newSize int64) ([]byte, error) {
	var out bytes.Buffer
	err := Apply(context.Background(), bytes.NewReader(old), int64(len(old)), bytes.NewReader(patch), int64(len(patch)), &out, newSize)
	return out.Bytes(), err
}

// patchMinio runs minio/selfupdate's patcher; a panic is an error.
func patchMinio(old, patch []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	var b bytes.Buffer
	err = selfupdate.NewBSDiffPatcher().Patch(bytes.NewReader(old), &b, bytes.NewReader(patch))
	return b.Bytes(), err
}

func TestApplyMatchesSelfupdate(t *testing.T) {
	needBzip2(t)
	r := rand.New(rand.NewPCG(8, 8))
	cases := [][2][]byte{
		{nil, []byte("from nothing")},
		{[]byte("to nothing"), nil},
		{randomBytes(r, 1), randomBytes(r, 1)},
		{randomBytes(r, 200<<10), randomBytes(r, 100<<10)}, // unrelated
	}
	for range 12 {
		old := randomBytes(r, r.IntN(300<<10))
		cases = append(cases, [2][]byte{old, mutate(r, old)})
	}
	// Larger than a chunk, with long runs the diff stream adds over.
	big := bytes.Repeat([]byte("aktual ledger 1.0.0 "), 20000)
	cases = append(cases, [2][]byte{big, bytes.ReplaceAll(big, []byte("1.0.0"), []byte("1.0.1"))})
	for i, c := range cases {
		old, new := c[0], c[1]
		patch := diff(t, old, new)
		got, err := patchStream(old, patch, int64(len(new)))
		if err != nil || !bytes.Equal(got, new) {
			t.Errorf("case %d (%d → %d bytes): streaming patch = %d bytes, %v; want the new file", i, len(old), len(new), len(got), err)
		}
		ref, err := patchMinio(old, patch)
		if err != nil || !bytes.Equal(ref, new) {
			t.Errorf("case %d: selfupdate's patcher = %d bytes, %v", i, len(ref), err)
		}
	}
}

func TestApplyRefuses(t *testing.T) {
	needBzip2(t)
	r := rand.New(rand.NewPCG(1, 2))
	old := randomBytes(r, 50<<10)
	new := mutate(r, old)
	patch := diff(t, old, new)
	withHeader := func(field int, v int64) []byte {
		p := bytes.Clone(patch)
		offtout(v, p[8*field:])
		return p
	}
	tests := []struct {
		name    string
		patch   []byte
		newSize int64
	}{
		{"empty", nil, int64(len(new))},
		{"header only", patch[:32], int64(len(new))},
		{"truncated", patch[:len(patch)/2], int64(len(new))},
		{"not bsdiff", append([]byte("BSDIFF41"), patch[8:]...), int64(len(new))},
		{"another size than signed", patch, int64(len(new)) + 1},
		{"negative control length", withHeader(1, -1), int64(len(new))},
		{"control longer than the patch", withHeader(1, int64(len(patch))), int64(len(new))},
		{"diff longer than the patch", withHeader(2, int64(len(patch))), int64(len(new))},
		{"damaged stream", func() []byte { p := bytes.Clone(patch); p[40] ^= 0xff; return p }(), int64(len(new))},
	}
	for _, tc := range tests {
		got, err := patchStream(old, tc.patch, tc.newSize)
		if err == nil {
			t.Errorf("%s: applied (%d bytes)", tc.name, len(got))
			continue
		}
		if int64(len(got)) > tc.newSize {
			t.Errorf("%s: wrote %d bytes, more than %d", tc.name, len(got), tc.newSize)
		}
		if !IsMalformed(err) {
			t.Errorf("%s: error %v is not a malformed patch", tc.name, err)
		}
	}
}

func TestApplyStopsWhenCancelled(t *testing.T) {
	needBzip2(t)
	old := []byte("installed")
	patch := diff(t, old, []byte("newer version"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var out bytes.Buffer
	err := Apply(ctx, bytes.NewReader(old), int64(len(old)), bytes.NewReader(patch), int64(len(patch)), &out, 13)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled apply: %v", err)
	}
}

func FuzzParseHeader(f *testing.F) {
	hdr := func(ctrl, diff, size int64) []byte {
		b := append([]byte(bsdiffMagic), make([]byte, 24)...)
		offtout(ctrl, b[8:])
		offtout(diff, b[16:])
		offtout(size, b[24:])
		return b
	}
	f.Add(hdr(10, 20, 30), int64(100))
	f.Add(hdr(-1, 20, 30), int64(100))
	f.Add(hdr(1<<62, 1<<62, 30), int64(100))
	f.Add(hdr(0, 0, 0), int64(32))
	f.Add([]byte("BSDIFF40"), int64(8))
	f.Fuzz(func(t *testing.T, b []byte, size int64) {
		h, err := parsePatchHeader(b, size)
		if err != nil {
			return
		}
		if h.ctrlLen < 0 || h.diffLen < 0 || h.newSize < 0 || bsdiffHeaderSize+h.ctrlLen+h.diffLen > size {
			t.Fatalf("parsePatchHeader(%x, %d) = %+v: blocks outside the patch", b, size, h)
		}
		for i := range 3 {
			var want [8]byte
			offtout([]int64{h.ctrlLen, h.diffLen, h.newSize}[i], want[:])
			if got := b[8+8*i : 16+8*i]; !bytes.Equal(got, want[:]) && !(bytes.Equal(want[:], make([]byte, 8)) && bytes.Equal(got, []byte{0, 0, 0, 0, 0, 0, 0, 0x80})) {
				t.Fatalf("field %d: %x decodes to a number that encodes as %x", i, got, want)
			}
		}
	})
}

// Any patch bytes: no panic, never more than the signed size written, and
// where both patchers accept a patch, the same output.
func FuzzApply(f *testing.F) {
	old := bytes.Repeat([]byte("installed 1.0.0\n"), 64)
	f.Add([]byte("BSDIFF40"), int64(10))
	f.Add(append([]byte("BSDIFF40"), make([]byte, 24)...), int64(0))
	if _, err := exec.LookPath("bzip2"); err == nil {
		for _, new := range [][]byte{
			bytes.Repeat([]byte("installed 1.0.1\n"), 64),
			[]byte("short"),
			nil,
		} {
			f.Add(diff(f, old, new), int64(len(new)))
		}
	}
	f.Fuzz(func(t *testing.T, patch []byte, newSize int64) {
		if newSize < 0 || newSize > 1<<20 {
			return
		}
		got, err := patchStream(old, patch, newSize)
		if int64(len(got)) > newSize {
			t.Fatalf("wrote %d bytes, more than %d", len(got), newSize)
		}
		if err != nil {
			return
		}
		if int64(len(got)) != newSize {
			t.Fatalf("accepted with %d bytes written, not %d", len(got), newSize)
		}
		if ref, err := patchMinio(old, patch); err == nil && !bytes.Equal(ref, got) {
			t.Fatalf("streaming patch and selfupdate's differ: %q vs %q", got, ref)
		}
	})
}
