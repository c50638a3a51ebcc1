//go:build !windows

package osapp

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/kind"
)

func TestIsAdmin(t *testing.T) {
	if got, want := IsAdmin(), os.Geteuid() == 0; got != want {
		t.Errorf("IsAdmin() = %v with euid %d", got, os.Geteuid())
	}
}

// What counts is whether the nearest existing folder can be written, not
// who runs aktual.
func TestCheckAllUsers(t *testing.T) {
	open := t.TempDir()
	if err := CheckAllUsers(filepath.Join(open, "vendor", "Acme Books")); err != nil {
		t.Errorf("a folder to be made in a writable one: %v", err)
	}
	if err := CheckAllUsers(open); err != nil {
		t.Errorf("a writable folder: %v", err)
	}

	closed := filepath.Join(t.TempDir(), "opt")
	if err := os.Mkdir(closed, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(closed, 0o755) })
	dir := filepath.Join(closed, "Acme Books")
	err := CheckAllUsers(dir)
	if IsAdmin() {
		if err != nil {
			t.Errorf("root, a folder of mode 0555: %v", err)
		}
		return
	}
	if !errors.Is(err, ErrNeedsAdmin) || !errors.Is(err, kind.ErrUsage) {
		t.Fatalf("a read-only folder: %v, want ErrNeedsAdmin, a usage error", err)
	}
	want := "installing for all users in " + dir + " needs administrator rights (you cannot write " + closed +
		"): run aktual with sudo, or install for this user only without --all-users"
	if err.Error() != want {
		t.Errorf("English:\n%s\nwant\n%s", err, want)
	}
	bul := "инсталирането за всички потребители в " + dir + " изисква права на администратор (нямате право на запис в " + closed +
		"): стартирайте aktual със sudo или инсталирайте само за този потребител, без --all-users"
	if got := i18n.NewPrinter(i18n.Bulgarian).Sprint(err); got != bul {
		t.Errorf("Bulgarian:\n%s\nwant\n%s", got, bul)
	}
}
