package hwkey

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noEnv is a Getenv for a machine where AKTUAL_HWKEY is not set.
func noEnv(string) string { return "" }

func envWith(path string) func(string) string {
	return func(k string) string {
		if k == EnvHWKey {
			return path
		}
		return ""
	}
}

// onlyTarget scans the target folder and no removable media, so tests do
// not depend on what is mounted on the machine running them.
var onlyTarget = FileDriver{Roots: []string{}}

func serialOf(t *testing.T, k Key, err error) string {
	t.Helper()
	if err != nil {
		t.Fatalf("Locate: %v", err)
	}
	return k.Licence().Serial
}

func TestLocateExplicitPathWins(t *testing.T) {
	vendor := fixedKey(1)
	target, other := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(target, "aktual.licence"), licenceFileBytes(t, vendor, "HK-TARGET", 7))
	envPath := writeFile(t, filepath.Join(other, "env.aktual-licence"), licenceFileBytes(t, vendor, "HK-ENV", 8))
	explicit := writeFile(t, filepath.Join(other, "chosen.txt"), licenceFileBytes(t, vendor, "HK-CHOSEN", 9))

	l := Locator{Drivers: []Driver{onlyTarget}, Getenv: envWith(envPath)}
	k, err := l.Locate(t.Context(), explicit, Hint{TargetDir: target})
	if got := serialOf(t, k, err); got != "HK-CHOSEN" {
		t.Fatalf("found %s, want the --hwkey file's key", got)
	}
	if k.Source() != explicit {
		t.Errorf("Source = %q, want %q", k.Source(), explicit)
	}
}

func TestLocateEnv(t *testing.T) {
	vendor := fixedKey(1)
	target := t.TempDir()
	writeFile(t, filepath.Join(target, "aktual.licence"), licenceFileBytes(t, vendor, "HK-TARGET", 7))
	envPath := writeFile(t, filepath.Join(t.TempDir(), "k"), licenceFileBytes(t, vendor, "HK-ENV", 8))

	l := Locator{Drivers: []Driver{onlyTarget}, Getenv: envWith(envPath)}
	k, err := l.Locate(t.Context(), "", Hint{TargetDir: target})
	if got := serialOf(t, k, err); got != "HK-ENV" {
		t.Fatalf("found %s, want the $AKTUAL_HWKEY file's key", got)
	}

	// Locate itself reads the real environment.
	t.Setenv(EnvHWKey, envPath)
	k, err = Locate(t.Context(), "", Hint{TargetDir: target}, onlyTarget)
	if got := serialOf(t, k, err); got != "HK-ENV" {
		t.Fatalf("Locate found %s, want the $AKTUAL_HWKEY file's key", got)
	}
}

func TestLocateInTargetDir(t *testing.T) {
	target := t.TempDir()
	path := writeFile(t, filepath.Join(target, "Acme.AKTUAL-LICENCE"), licenceFileBytes(t, fixedKey(1), "HK-1", 7))
	// Not licence files: other names, and a folder with a licence's name.
	writeFile(t, filepath.Join(target, "aktual.licence.bak"), licenceFileBytes(t, fixedKey(1), "HK-BAK", 8))
	writeFile(t, filepath.Join(target, ".aktual-licence"), licenceFileBytes(t, fixedKey(1), "HK-DOT", 8))
	writeFile(t, filepath.Join(target, "sub.aktual-licence", "aktual.licence"), licenceFileBytes(t, fixedKey(1), "HK-SUB", 8))

	k, err := Locator{Drivers: []Driver{onlyTarget}, Getenv: noEnv}.Locate(t.Context(), "", Hint{TargetDir: target})
	if got := serialOf(t, k, err); got != "HK-1" {
		t.Fatalf("found %s", got)
	}
	if k.Source() != path {
		t.Errorf("Source = %q, want %q", k.Source(), path)
	}
}

func TestLocateOnRemovableRoot(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "aktual.licence"), licenceFileBytes(t, fixedKey(1), "HK-USB", 7))
	// Not recursive: a licence in a subfolder of the stick is not looked at.
	writeFile(t, filepath.Join(root, "backup", "aktual.licence"), licenceFileBytes(t, fixedKey(1), "HK-DEEP", 8))

	l := Locator{Drivers: []Driver{FileDriver{Roots: []string{root}}}, Getenv: noEnv}
	k, err := l.Locate(t.Context(), "", Hint{TargetDir: t.TempDir()})
	if got := serialOf(t, k, err); got != "HK-USB" {
		t.Fatalf("found %s", got)
	}
}

func TestLocateSameKeyTwiceIsOneKey(t *testing.T) {
	target, root := t.TempDir(), t.TempDir()
	data := licenceFileBytes(t, fixedKey(1), "HK-1", 7)
	writeFile(t, filepath.Join(target, "aktual.licence"), data)
	writeFile(t, filepath.Join(root, "copy.aktual-licence"), data)

	l := Locator{Drivers: []Driver{FileDriver{Roots: []string{root, target}}}, Getenv: noEnv}
	k, err := l.Locate(t.Context(), "", Hint{TargetDir: target})
	if got := serialOf(t, k, err); got != "HK-1" {
		t.Fatalf("found %s", got)
	}
	if !strings.HasPrefix(k.Source(), target) {
		t.Errorf("Source = %q: the target's folder comes first", k.Source())
	}
}

func TestLocateNoneFound(t *testing.T) {
	target, root := t.TempDir(), t.TempDir()
	missingRoot := filepath.Join(root, "unplugged")
	damaged := writeFile(t, filepath.Join(root, "aktual.licence"), []byte(`{"version":1,`))

	l := Locator{Drivers: []Driver{FileDriver{Roots: []string{root, missingRoot}}}, Getenv: noEnv}
	_, err := l.Locate(t.Context(), "", Hint{TargetDir: target})
	if !errors.Is(err, ErrNoKey) {
		t.Fatalf("Locate = %v, want ErrNoKey", err)
	}
	msg := err.Error()
	for _, want := range []string{target, root, missingRoot, damaged, "not a usable licence file", EnvHWKey,
		"connect the hardware key", "--hwkey FILE"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message does not mention %q:\n%s", want, msg)
		}
	}
}

func TestLocateTwoKeysAsksToChoose(t *testing.T) {
	target, root := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(target, "aktual.licence"), licenceFileBytes(t, fixedKey(1), "HK-1", 7))
	writeFile(t, filepath.Join(root, "aktual.licence"), licenceFileBytes(t, fixedKey(1), "HK-2", 8))

	l := Locator{Drivers: []Driver{FileDriver{Roots: []string{root}}}, Getenv: noEnv}
	k, err := l.Locate(t.Context(), "", Hint{TargetDir: target})
	if !errors.Is(err, ErrSeveralKeys) || errors.Is(err, ErrNoKey) || k != nil {
		t.Fatalf("Locate = %v, %v; want ErrSeveralKeys", k, err)
	}
	for _, want := range []string{"HK-1", "HK-2", target, root, "--hwkey"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message does not mention %q: %s", want, err)
		}
	}
}

func TestLocateChosenPathProblems(t *testing.T) {
	target := t.TempDir()
	// A usable key in the target's folder must never be taken instead of
	// the one the customer named.
	writeFile(t, filepath.Join(target, "aktual.licence"), licenceFileBytes(t, fixedKey(1), "HK-TARGET", 7))
	missing := filepath.Join(t.TempDir(), "nope.aktual-licence")
	broken := writeFile(t, filepath.Join(t.TempDir(), "broken.aktual-licence"), []byte("not a licence"))

	tests := []struct {
		name      string
		explicit  string
		env       string
		want      error
		mentioned []string
	}{
		{"--hwkey missing", missing, "", ErrNoKey, []string{"--hwkey", missing, "does not exist"}},
		{"--hwkey not a licence", broken, "", ErrMalformed, []string{"--hwkey", broken, "not a usable licence file"}},
		{"--hwkey a folder", target, "", ErrMalformed, []string{"--hwkey", target}},
		{"AKTUAL_HWKEY missing", "", missing, ErrNoKey, []string{EnvHWKey, missing, "does not exist"}},
		{"AKTUAL_HWKEY not a licence", "", broken, ErrMalformed, []string{EnvHWKey, broken}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := Locator{Drivers: []Driver{onlyTarget}, Getenv: envWith(tt.env)}
			k, err := l.Locate(t.Context(), tt.explicit, Hint{TargetDir: target})
			if !errors.Is(err, tt.want) || k != nil {
				t.Fatalf("Locate = %v, %v; want an error wrapping %v", k, err, tt.want)
			}
			for _, want := range tt.mentioned {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message does not mention %q: %s", want, err)
				}
			}
		})
	}
}

// failingDriver stands for a dongle driver whose service is down.
type failingDriver struct{}

func (failingDriver) Name() string { return "USB dongle" }
func (failingDriver) Find(context.Context, Hint) ([]Key, []string, error) {
	return nil, []string{"USB bus"}, errors.New("dongle service not running")
}

func TestLocateDriverFailure(t *testing.T) {
	target := t.TempDir()
	l := Locator{Drivers: []Driver{failingDriver{}, onlyTarget}, Getenv: noEnv}

	_, err := l.Locate(t.Context(), "", Hint{TargetDir: target})
	if !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), "dongle service not running") {
		t.Fatalf("Locate = %v; want ErrNoKey naming the driver's failure", err)
	}

	writeFile(t, filepath.Join(target, "aktual.licence"), licenceFileBytes(t, fixedKey(1), "HK-1", 7))
	k, err := l.Locate(t.Context(), "", Hint{TargetDir: target})
	if got := serialOf(t, k, err); got != "HK-1" {
		t.Fatalf("found %s", got)
	}
}

func TestLocateCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	l := Locator{Drivers: []Driver{onlyTarget}, Getenv: noEnv}
	if _, err := l.Locate(ctx, "", Hint{TargetDir: t.TempDir()}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Locate = %v, want context.Canceled", err)
	}
}

// A root that cannot be listed (here a plain file where a folder should
// be, which fails for every user, root included) is named in the message.
func TestLocateUnreadableRootIsNoted(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "not-a-folder")
	if err := os.WriteFile(notDir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Locator{Drivers: []Driver{FileDriver{Roots: []string{notDir}}}, Getenv: noEnv}.Locate(t.Context(), "", Hint{})
	if !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), notDir+" (cannot be read") {
		t.Fatalf("Locate = %v; want ErrNoKey saying %s cannot be read", err, notDir)
	}
}

// The platform's default roots are folders that exist; on a test machine
// there may be none.
func TestDefaultRoots(t *testing.T) {
	roots, where := defaultRoots()
	if where == "" {
		t.Error("defaultRoots does not say where it looked")
	}
	for _, r := range roots {
		if !isDir(r) {
			t.Errorf("default root %s is not a folder", r)
		}
	}
	if _, looked, err := (FileDriver{}).Find(t.Context(), Hint{}); err != nil || len(looked) == 0 {
		t.Errorf("FileDriver{}.Find = %v, %v; want the places it looked", looked, err)
	}
}

func TestIsLicenceFileName(t *testing.T) {
	for name, want := range map[string]bool{
		"aktual.licence": true, "AKTUAL.LICENCE": true, "acme.aktual-licence": true, "HK-1.Aktual-Licence": true,
		".aktual-licence": false, "aktual.licence.bak": false, "aktual.license": false, "acme.aktual-license": false, "": false,
	} {
		if got := IsLicenceFileName(name); got != want {
			t.Errorf("IsLicenceFileName(%q) = %v, want %v", name, got, want)
		}
	}
}
