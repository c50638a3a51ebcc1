package osapp

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestDesktopEntry(t *testing.T) {
	got := string(DesktopEntry("Acme Books\nv7", "/opt/Acme Books/100% $acme", "/opt/Acme Books", "Счетоводство"))
	want := `[Desktop Entry]
Type=Application
Version=1.5
Name=Acme Books\nv7
Comment=Счетоводство
Exec="/opt/Acme Books/100%% \\$acme"
Path=/opt/Acme Books
Terminal=false
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := string(DesktopEntry("Acme", "/opt/acme/acme", "", "")); got != "[Desktop Entry]\nType=Application\nVersion=1.5\nName=Acme\nExec=/opt/acme/acme\nTerminal=false\n" {
		t.Errorf("plain: %q", got)
	}
}

func TestCreateDesktopEntry(t *testing.T) {
	p := filepath.Join(t.TempDir(), "applications", "aktual-acme.desktop")
	if err := CreateDesktopEntry(p, "Acme", "/opt/acme/acme", "", ""); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o644 { // Windows keeps no Unix mode
		t.Errorf("mode %v, want readable by all", fi.Mode())
	}
}
