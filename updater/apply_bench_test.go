package updater

import (
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/aktual/aktual/internal/fileutil"
	"github.com/aktual/aktual/updater/internal/durable"
	"github.com/aktual/aktual/updater/internal/fetch"
	"github.com/aktual/aktual/updater/internal/swap"
	"github.com/minio/selfupdate"
)

// benchApplySize is the release BenchmarkApply installs: large enough
// that a copy of it in memory or on disk shows in the figures.
const benchApplySize = 64 << 20

// BenchmarkApply installs a verified download of benchApplySize over a
// target: stage (put it in place as .target.new, durable, with the
// target's mode) and commit (selfupdate's swap). MB/s counts the
// release's bytes; allocations per op show whether memory grows with
// the release. The streaming apply is measured three ways, beside the
// old way for comparison:
//
//   - rename/known-verified: the download this process verified, renamed
//     into place (what aktual update does);
//   - rename/hashed-again: the same, with the download's sha256 read
//     again first (a download verified by an earlier run);
//   - copy/other-folder: a verified file from another folder, copied
//     and hashed through one buffer;
//   - selfupdate/read-all: minio/selfupdate's PrepareAndCheckBinary, which
//     reads the release into memory and writes it out again.
func BenchmarkApply(b *testing.B) {
	src := filepath.Join(b.TempDir(), "release")
	f, err := os.Create(src)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(f, io.LimitReader(newPseudoRandom(7), benchApplySize)); err != nil {
		b.Fatal(err)
	}
	f.Close()
	sum, err := fileutil.SHA256(src)
	if err != nil {
		b.Fatal(err)
	}

	for _, mode := range []string{"rename/known-verified", "rename/hashed-again", "copy/other-folder", "selfupdate/read-all"} {
		b.Run(mode, func(b *testing.B) {
			target := filepath.Join(b.TempDir(), "ledger")
			verified := fetch.DownloadPath(target)
			if mode == "copy/other-folder" {
				verified = filepath.Join(b.TempDir(), "release")
			}
			b.SetBytes(benchApplySize)
			b.ReportAllocs()
			b.StopTimer()
			for range b.N {
				// A target, and the verified release beside it, on disk:
				// what the download leaves (synced), outside the timer.
				if err := os.WriteFile(target, []byte("ledger 1.0.0\n"), 0o755); err != nil {
					b.Fatal(err)
				}
				copyFileSynced(b, src, verified)
				os.Remove(swap.OldPath(target))
				if mode == "rename/known-verified" {
					swap.MarkVerified(verified, sum)
				}

				b.StartTimer()
				if mode == "selfupdate/read-all" {
					err = stageReadAll(target, verified, sum)
				} else {
					err = swap.Stage(target, verified, sum)
				}
				if err != nil {
					b.Fatal(err)
				}
				if _, err := swap.Commit(target, sum); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
			}
			if got, err := fileutil.SHA256(target); err != nil || got != sum {
				b.Fatalf("target sha256 %s, %v; want %s", got, err, sum)
			}
		})
	}
}

// stageReadAll is the staging this package did before the streaming
// apply, for comparison: minio/selfupdate reads the release into memory,
// checks it and writes .target.new, which is then synced.
func stageReadAll(target, verified, sum string) error {
	opts := selfupdate.Options{TargetPath: target, OldSavePath: swap.OldPath(target), TargetMode: 0o755} // as swap stages it
	opts.Checksum, _ = hex.DecodeString(sum)
	f, err := os.Open(verified)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := selfupdate.PrepareAndCheckBinary(f, opts); err != nil {
		return err
	}
	staged, err := os.OpenFile(swap.StagedPath(target), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer staged.Close()
	if err := staged.Sync(); err != nil {
		return err
	}
	return durable.SyncDir(filepath.Dir(target))
}

// copyFileSynced copies src to dst, durably.
func copyFileSynced(b *testing.B, src, dst string) {
	b.Helper()
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// pseudoRandom is an endless stream of incompressible bytes from a seed:
// a large artifact generated on the fly, never stored in the repository.
type pseudoRandom struct{ r *rand.ChaCha8 }

func newPseudoRandom(seed byte) *pseudoRandom {
	var s [32]byte
	s[0] = seed
	return &pseudoRandom{rand.NewChaCha8(s)}
}

func (p *pseudoRandom) Read(b []byte) (int, error) { return p.r.Read(b) }
