package swap

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// downloadPath is where the verified download waits beside the target
// (the fetch package's name for it; any file in the target's folder is
// staged the same way).
func downloadPath(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".aktual-download")
}

func sum256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// stageFixture is a target at 1.0.0 with mode 0751 and the verified
// download of 2.0.0 beside it.
func stageFixture(t *testing.T) (target string, v2 []byte, sum string) {
	t.Helper()
	target = filepath.Join(t.TempDir(), "ledger")
	if err := os.WriteFile(target, []byte("ledger 1.0.0\n"), 0o751); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(target, 0o751); err != nil { // past the umask
		t.Fatal(err)
	}
	v2 = []byte("ledger 2.0.0\n")
	if err := os.WriteFile(downloadPath(target), v2, 0o600); err != nil {
		t.Fatal(err)
	}
	return target, v2, sum256(v2)
}

// wantStaged checks the staged file: the new version's bytes, with the
// target's mode.
func wantStaged(t *testing.T, target string, v2 []byte) {
	t.Helper()
	b, err := os.ReadFile(StagedPath(target))
	if err != nil || !bytes.Equal(b, v2) {
		t.Fatalf("staged file: %d bytes, %v; want the new version's %d", len(b), err, len(v2))
	}
	// Windows keeps no Unix mode (only read-only): nothing to carry over.
	if fi, err := os.Stat(StagedPath(target)); runtime.GOOS != "windows" && (err != nil || fi.Mode().Perm() != 0o751) {
		t.Errorf("staged mode = %v, %v; want the target's 0751", fi.Mode(), err)
	}
}

// The verified download beside the target is staged by a rename: the very
// file, no copy, whether this process knows it verified (no second read)
// or not (hashed again through one buffer).
func TestStageRenamesTheDownload(t *testing.T) {
	for _, known := range []bool{true, false} {
		t.Run(map[bool]string{true: "known-verified", false: "hashed-again"}[known], func(t *testing.T) {
			target, v2, sum := stageFixture(t)
			id, err := FileID(downloadPath(target))
			if err != nil {
				t.Fatal(err)
			}
			if known {
				MarkVerified(downloadPath(target), sum)
			}
			if err := Stage(target, downloadPath(target), sum); err != nil {
				t.Fatalf("stage: %v", err)
			}
			wantStaged(t, target, v2)
			if got, _ := FileID(StagedPath(target)); got != id {
				t.Error("the download was copied, not renamed into place")
			}
			if exists(downloadPath(target)) {
				t.Error("the download is still beside the target")
			}
			if _, ok := verifiedFiles.Load(downloadPath(target)); ok {
				t.Error("the verified stamp outlives the staging")
			}
		})
	}
}

// A verified file that changed on disk before it is staged is refused,
// and nothing is staged.
func TestStageRefusesAChangedFile(t *testing.T) {
	for name, change := range map[string]func(t *testing.T, path, sum string){
		"rewritten after it was verified": func(t *testing.T, path, sum string) {
			MarkVerified(path, sum)
			b, _ := os.ReadFile(path)
			b[len(b)/2] ^= 1
			os.WriteFile(path, b, 0o600)
			// The write moves the modification time; made sure of
			// here, for a file system with a coarse clock.
			os.Chtimes(path, time.Now(), time.Now().Add(time.Hour))
		},
		"never verified by this process": func(t *testing.T, path, sum string) {
			b, _ := os.ReadFile(path)
			b[0] ^= 1
			os.WriteFile(path, b, 0o600)
		},
		"verified for another release": func(t *testing.T, path, sum string) {
			b, _ := os.ReadFile(path)
			b[0] ^= 1
			os.WriteFile(path, b, 0o600)
			MarkVerified(path, sum256(b)) // its own hash, not the signed one
		},
		"replaced by another file": func(t *testing.T, path, sum string) {
			MarkVerified(path, sum)
			b, _ := os.ReadFile(path)
			b[0] ^= 1
			os.Remove(path)
			os.WriteFile(path, b, 0o600)
		},
	} {
		t.Run(name, func(t *testing.T) {
			target, _, sum := stageFixture(t)
			change(t, downloadPath(target), sum)
			err := Stage(target, downloadPath(target), sum)
			if err == nil || !strings.Contains(err.Error(), "changed on disk") {
				t.Fatalf("stage = %v; want the file refused as changed on disk", err)
			}
			if exists(StagedPath(target)) {
				t.Error("a changed file was staged")
			}
		})
	}
}

// A verified file in another folder (a rename there could cross devices)
// is copied into a new staged file, hashed as it is copied.
func TestStageCopiesFromAnotherFolder(t *testing.T) {
	target, v2, sum := stageFixture(t)
	elsewhere := filepath.Join(t.TempDir(), "release")
	if err := os.WriteFile(elsewhere, v2, 0o600); err != nil {
		t.Fatal(err)
	}
	// A staged file left by another run is replaced by a new one, never
	// written over: the journal knows the staged file by its identity.
	if err := os.WriteFile(StagedPath(target), []byte("left by another run"), 0o600); err != nil {
		t.Fatal(err)
	}
	stale, _ := FileID(StagedPath(target))
	if err := Stage(target, elsewhere, sum); err != nil {
		t.Fatalf("stage: %v", err)
	}
	wantStaged(t, target, v2)
	if id, _ := FileID(StagedPath(target)); id == stale {
		t.Error("the stale staged file was written over, not replaced")
	}
	if !exists(elsewhere) {
		t.Error("the file in the other folder was moved")
	}

	bad := append([]byte(nil), v2...)
	bad[0] ^= 1
	os.WriteFile(elsewhere, bad, 0o600)
	os.Remove(StagedPath(target))
	if err := Stage(target, elsewhere, sum); err == nil || !strings.Contains(err.Error(), "changed on disk") {
		t.Fatalf("stage of a changed file = %v; want it refused", err)
	}
	if exists(StagedPath(target)) {
		t.Error("a changed file was staged")
	}
}
