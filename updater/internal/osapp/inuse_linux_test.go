//go:build linux

package osapp

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// find is the process of pid among ps.
func find(ps []Process, pid int) (Process, bool) {
	i := slices.IndexFunc(ps, func(p Process) bool { return p.PID == pid })
	if i < 0 {
		return Process{}, false
	}
	return ps[i], true
}

// A file another process holds open is in use, by that process, named
// by its command; once it exits, by no one.
func TestInUseOpenFile(t *testing.T) {
	dir := t.TempDir()
	held := filepath.Join(dir, "data.db")
	other := filepath.Join(dir, "help.chm")
	for _, f := range []string{held, other} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd, stop := holdOpen(t, held)
	ps, err := InUse([]string{other, held})
	if err != nil {
		t.Fatal(err)
	}
	p, ok := find(ps, cmd.Process.Pid)
	if !ok {
		t.Fatalf("InUse = %+v, want the helper %d", ps, cmd.Process.Pid)
	}
	want := filepath.Base(os.Args[0])
	want = want[:min(15, len(want))] // comm is cut at 15 bytes
	if p.Name != want {
		t.Errorf("Name %q, want %q", p.Name, want)
	}
	if exe, _ := os.Executable(); p.Path != exe {
		t.Errorf("Path %q, want %q", p.Path, exe)
	}
	if ps, err := InUse([]string{other}); err != nil || len(ps) != 0 {
		t.Errorf("the file no one holds: %+v, %v", ps, err)
	}
	stop()
	if ps, err := InUse([]string{held}); err != nil || len(ps) != 0 {
		t.Errorf("after the helper exited: %+v, %v", ps, err)
	}
}

// A program run from the folder is in use, by its executable, also when
// asked by a path through a symbolic link.
func TestInUseRunningProgram(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep:", err)
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "acme")
	copyFile(t, sleep, exe)
	link := filepath.Join(t.TempDir(), "linked")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		_ = cmd.Wait() // killed: its status is known
	})
	for _, asked := range []string{exe, filepath.Join(link, "acme")} {
		ps, err := InUse([]string{asked})
		if err != nil {
			t.Fatal(err)
		}
		p, ok := find(ps, cmd.Process.Pid)
		if !ok || p.Name != "acme" || p.Path != exe {
			t.Errorf("asked %s: %+v, want acme (%d) at %s", asked, ps, cmd.Process.Pid, exe)
		}
	}
	cmd.Process.Kill()
	_ = cmd.Wait() // killed: its status is known
	if ps, err := InUse([]string{exe}); err != nil || len(ps) != 0 {
		t.Errorf("after it exited: %+v, %v", ps, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// Our own process holding a file does not count: aktual reads the files
// it is about to replace.
func TestInUseSkipsSelf(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "mine"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if ps, err := InUse([]string{f.Name()}); err != nil || len(ps) != 0 {
		t.Errorf("%+v, %v", ps, err)
	}
}

func TestInUseBounds(t *testing.T) {
	if ps, err := InUse(nil); err != nil || ps != nil {
		t.Errorf("no files: %+v, %v", ps, err)
	}
	if _, err := InUse(make([]string, MaxFiles+1)); err == nil {
		t.Error("more than MaxFiles were taken")
	}
}

func TestMapsPath(t *testing.T) {
	for line, want := range map[string]string{
		"7f2c4a000000-7f2c4a022000 r--p 00000000 08:01 1311 /usr/lib/x86_64-linux-gnu/libc.so.6":   "/usr/lib/x86_64-linux-gnu/libc.so.6",
		"55d0c0a00000-55d0c0a01000 r-xp 00001000 fd:00 42   /opt/Acme Books/lib acme.so (deleted)": "/opt/Acme Books/lib acme.so",
		"7ffd1e5d0000-7ffd1e5f1000 rw-p 00000000 00:00 0                          [stack]":         "",
		"7f2c4a022000-7f2c4a023000 rw-p 00000000 00:00 0 ":                                         "",
		"short line": "",
	} {
		if got := mapsPath(line); got != want {
			t.Errorf("mapsPath(%q) = %q, want %q", line, got, want)
		}
	}
}
