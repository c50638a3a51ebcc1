package bsdiff

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
)

// The diff: whatever the inputs, Apply of its patch gives the new file
// back; on inputs like executables' the patch is small.

// program makes bytes shaped like an executable's: code-like runs of a
// small alphabet, tables of 32-bit addresses, zero padding, strings.
func program(r *rand.Rand, n int) []byte {
	var b bytes.Buffer
	for b.Len() < n {
		switch r.IntN(4) {
		case 0:
			for range 64 + r.IntN(512) {
				b.WriteByte("\x48\x89\xe5\x8b\x45\xfc\x0f\x1f\xc3\x90"[r.IntN(10)])
			}
		case 1:
			base := r.Uint32() &^ 0xfff
			for range 16 + r.IntN(128) {
				b.Write(binary.LittleEndian.AppendUint32(nil, base+r.Uint32N(1<<16)))
			}
		case 2:
			b.Write(make([]byte, r.IntN(2048)))
		case 3:
			b.WriteString("aktual: the update code is not valid; check it against your receipt\x00")
		}
	}
	return b.Bytes()[:n]
}

// shiftAddresses is what a small code change does to an executable: a few
// bytes inserted, and every 32-bit word of address tables after them moved
// by as much.
func shiftAddresses(old []byte, at, by int) []byte {
	out := append(bytes.Clone(old[:at]), bytes.Repeat([]byte{0xcc}, by)...)
	rest := bytes.Clone(old[at:])
	for i := 0; i+4 <= len(rest); i += 64 {
		v := binary.LittleEndian.Uint32(rest[i:])
		binary.LittleEndian.PutUint32(rest[i:], v+uint32(by))
	}
	return append(out, rest...)
}

// roundTrip diffs and applies, failing the test unless new comes back.
func roundTrip(t testing.TB, old, new []byte) []byte {
	t.Helper()
	var p bytes.Buffer
	if err := DiffBytes(t.Context(), old, new, &p); err != nil {
		t.Fatalf("diff of %d → %d bytes: %v", len(old), len(new), err)
	}
	got, err := patchStream(old, p.Bytes(), int64(len(new)))
	if err != nil || !bytes.Equal(got, new) {
		t.Fatalf("apply of the patch of %d → %d bytes: %d bytes, %v; want the new file", len(old), len(new), len(got), err)
	}
	return p.Bytes()
}

func TestDiffRoundTrip(t *testing.T) {
	needBzip2(t)
	r := rand.New(rand.NewPCG(21, 21))
	prog := program(r, 32<<10)
	text := bytes.Repeat([]byte("aktual ledger 1.0.0 "), 1000)
	for _, c := range []struct {
		name     string
		old, new []byte
	}{
		{"both empty", nil, nil},
		{"empty old", nil, program(r, 5000)},
		{"empty new", program(r, 5000), nil},
		{"identical", prog, prog},
		{"one byte each", []byte{1}, []byte{2}},
		{"shorter than an index step", []byte("abc"), []byte("abcd")},
		{"old larger than new", prog, prog[1000 : 24<<10]},
		{"unrelated", randomBytes(r, 20<<10), randomBytes(r, 10<<10)},
		{"mutated", prog, mutate(r, prog)},
		{"addresses shifted", prog, shiftAddresses(prog, 1000, 12)},
		{"repetitive text", text, bytes.ReplaceAll(text, []byte("1.0.0"), []byte("1.0.1"))},
		{"runs of zeros", make([]byte, 16<<10), append(make([]byte, 8<<10), 1)},
	} {
		t.Run(c.name, func(t *testing.T) { roundTrip(t, c.old, c.new) })
	}
}

// A small change to an executable-like file makes a small patch: the
// sparse index must not lose bsdiff's approximate matches.
func TestDiffSmallChangeSmallPatch(t *testing.T) {
	needBzip2(t)
	r := rand.New(rand.NewPCG(4, 21))
	old := program(r, 32<<10)
	for _, c := range []struct {
		name string
		new  []byte
		max  int // bytes
	}{
		{"identical", old, 200},
		{"one byte changed", append(bytes.Clone(old[:9999]), append([]byte{old[9999] + 1}, old[10000:]...)...), 300},
		{"addresses shifted", shiftAddresses(old, 5000, 24), 8 << 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			if p := roundTrip(t, old, c.new); len(p) > c.max {
				t.Errorf("patch of %d bytes, want at most %d", len(p), c.max)
			}
		})
	}
}

// search returns a true match, at an indexed position, as long as the
// longest there is there (up to sortDepth, past which ties are arbitrary).
func TestSparseIndexSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	old := program(r, 8<<10)
	idx := newSparseIndex(old)
	for range 100 {
		at := r.IntN(len(old))
		nb := append(bytes.Clone(old[at:min(len(old), at+r.IntN(600))]), randomBytes(r, 8)...)
		pos, n := idx.search(nb)
		if pos%indexStep != 0 || !bytes.Equal(old[pos:pos+n], nb[:n]) {
			t.Fatalf("search gave %d bytes at %d, not a match at an indexed position", n, pos)
		}
		best := 0
		for p := 0; p < len(old); p += indexStep {
			best = max(best, matchLen(old[p:], nb))
		}
		if n < min(best, sortDepth) {
			t.Fatalf("search gave a match of %d bytes; one of %d is indexed", n, best)
		}
	}
}

func TestDiffCancelled(t *testing.T) {
	needBzip2(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := rand.New(rand.NewPCG(1, 2))
	old := program(r, 16<<10)
	var p bytes.Buffer
	if err := DiffBytes(ctx, old, mutate(r, old), &p); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled diff: %v", err)
	}
}

// Apply(Diff(old, new)) == new for any old and new.
func FuzzDiff(f *testing.F) {
	needBzip2(f)
	r := rand.New(rand.NewPCG(5, 5))
	prog := program(r, 4<<10)
	f.Add([]byte{}, []byte{})
	f.Add(prog, shiftAddresses(prog, 100, 4))
	f.Add(prog, mutate(r, prog))
	f.Add([]byte("abcabcabc"), []byte("abcXabcabcY"))
	f.Fuzz(func(t *testing.T, old, new []byte) {
		roundTrip(t, old, new)
	})
}

// BenchmarkDiff reports the patch's share of the new file (patch-%) and
// the bytes allocated for a diff of 4 MiB (B/op, with -benchmem).
func BenchmarkDiff(b *testing.B) {
	needBzip2(b)
	r := rand.New(rand.NewPCG(9, 9))
	old := program(r, 4<<20)
	new := shiftAddresses(mutate(r, old), 1<<20, 40)
	b.SetBytes(int64(len(new)))
	b.ReportAllocs()
	var size int
	for b.Loop() {
		var p bytes.Buffer
		if err := DiffBytes(b.Context(), old, new, &p); err != nil {
			b.Fatal(err)
		}
		size = p.Len()
	}
	b.ReportMetric(100*float64(size)/float64(len(new)), "patch-%")
}
