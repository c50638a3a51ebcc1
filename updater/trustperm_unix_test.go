//go:build !windows

package updater

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aktual/aktual/api"
)

// A trust file other users may change is refused: whoever writes it
// chooses what aktual installs. Each case is where the file lives and who
// may write it; the refusal names the file and the chmod that fixes it.
func TestTrustFileWritableByOthersIsRefused(t *testing.T) {
	t.Parallel()
	data, err := (&api.Trust{Version: api.TrustVersion, RootKeys: []api.PublicKey{pub(newKey(t))}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name              string
		fileMode, dirMode os.FileMode
		viaLink           bool   // the name given is a symlink, in dirMode, to a file kept safe
		fix               string // what the message tells to chmod: "file", "dir", or "" when accepted
	}{
		{"owner only", 0o644, 0o700, false, ""},
		{"read-only for all", 0o444, 0o755, false, ""},
		{"everyone may write the file", 0o666, 0o700, false, "file"},
		{"the group may write the file", 0o664, 0o700, false, "file"},
		{"everyone may write the folder", 0o644, 0o777, false, "dir"},
		{"the group may write the folder", 0o644, 0o775, false, "dir"},
		{"a sticky shared folder, like /tmp", 0o644, os.ModeSticky | 0o777, false, ""},
		{"a symlink in a folder everyone may write", 0o644, 0o777, true, "dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "vendor")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, TrustFileName)
			named := file
			if tc.viaLink {
				file = filepath.Join(t.TempDir(), TrustFileName)
				if err := os.Symlink(file, named); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(file, data, 0o600); err != nil {
				t.Fatal(err)
			}
			// Chmod, not the umask, decides the modes.
			if err := os.Chmod(file, tc.fileMode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tc.dirMode); err != nil {
				t.Fatal(err)
			}
			_, err := LoadTrust(named, t.TempDir(), "")
			if tc.fix == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrUsage) {
				t.Fatalf("error %v, want a refusal of kind ErrUsage (the trust problems' exit code)", err)
			}
			msg := err.Error()
			want := "chmod go-w " + file
			if tc.fix == "dir" {
				want = "chmod go-w " + dir
			}
			if !strings.Contains(msg, named) || !strings.Contains(msg, want) || !strings.Contains(msg, "other users") {
				t.Fatalf("message %q\nwant it to name %s, say other users can change it, and say: %s", msg, named, want)
			}
		})
	}
}

// The trust file found in the state directory is checked as well as one
// named with --trust.
func TestTrustFileInStateDirWritableByOthersIsRefused(t *testing.T) {
	t.Parallel()
	data, _ := (&api.Trust{Version: api.TrustVersion, RootKeys: []api.PublicKey{pub(newKey(t))}}).Marshal()
	state := t.TempDir()
	file := filepath.Join(state, TrustFileName)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(file, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTrust("", state, ""); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "chmod go-w "+file) {
		t.Fatalf("LoadTrust = %v, want the refusal naming %s", err, file)
	}
}
