package updater

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/bsdiff"
	"github.com/aktual/aktual/internal/testenv"
)

// BenchmarkApplyBSDiff applies the patch between AKTUAL_DELTA_OLD and
// AKTUAL_DELTA_NEW (two builds of aktual, say; by default 8 MiB of random
// bytes and a mutation of them) from files, as an update does: B/op shows
// that memory does not grow with the file.
func BenchmarkApplyBSDiff(b *testing.B) {
	testenv.LookPath(b, "bzip2", "making bsdiff patches needs the bzip2 program (apt-get install bzip2)")
	var old, new []byte
	if o, n := os.Getenv("AKTUAL_DELTA_OLD"), os.Getenv("AKTUAL_DELTA_NEW"); o != "" && n != "" {
		var err error
		if old, err = os.ReadFile(o); err != nil {
			b.Fatal(err)
		}
		if new, err = os.ReadFile(n); err != nil {
			b.Fatal(err)
		}
	} else {
		r := rand.New(rand.NewPCG(3, 4))
		old = make([]byte, 8<<20)
		for i := range old {
			old[i] = byte(r.Uint32())
		}
		// A new build: the same bytes, some changed.
		new = bytes.Clone(old)
		for range 64 {
			new[r.IntN(len(new))] ^= 0x5a
		}
	}
	dir := b.TempDir()
	target, patchFile, out := filepath.Join(dir, "target"), filepath.Join(dir, "patch"), filepath.Join(dir, "out")
	var pb bytes.Buffer
	if err := bsdiff.Diff(bytes.NewReader(old), bytes.NewReader(new), &pb); err != nil {
		b.Fatal(err)
	}
	patch := pb.Bytes()
	if err := os.WriteFile(target, old, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(patchFile, patch, 0o644); err != nil {
		b.Fatal(err)
	}
	rel := api.ReleaseStatement{SHA256: sha256Hex(new), Size: int64(len(new))}
	b.SetBytes(rel.Size)
	b.ReportAllocs()
	b.ReportMetric(float64(len(patch)), "patch-bytes")
	for b.Loop() {
		if err := applyPatchFile(b.Context(), target, patchFile, int64(len(patch)), out, rel); err != nil {
			b.Fatal(err)
		}
	}
}
