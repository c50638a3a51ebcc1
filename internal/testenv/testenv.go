// Package testenv decides what a test does when the machine lacks a tool it
// needs: on a developer's machine it skips, naming what to install; in CI
// (CI=true) it fails, so a green run never hides an untested part. It also
// knows the Windows a test runs on: whether it is Wine (SkipUnderWine),
// and how another program holds a file there (Hold).
package testenv

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
)

// InCI reports whether the tests run in CI, where every tool must be there.
func InCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI")) // unset or not a boolean: a developer's machine
	return ci
}

// Missing stops the test because what it needs is not here: t.Fatalf in CI,
// t.Skipf elsewhere. why says what is missing and how to install it.
func Missing(t testing.TB, why string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s (CI=true: a missing tool fails the run instead of skipping)", why)
	}
	t.Skip(why)
}

// LookPath returns the path of the named program, or stops the test with
// Missing and the install hint.
func LookPath(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" is not on PATH: "+install)
	}
	return p
}

// NeedBzip2 is for a test whose in-process server makes bsdiff patches,
// which it compresses with the bzip2 program. Windows has none, and the
// server runs on Linux: there the test is skipped, saying so (its client
// half is the same code as on Linux, where it runs); elsewhere bzip2 must
// be on PATH.
func NeedBzip2(t testing.TB) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("on Windows: the test's server makes patches with the bzip2 program, which Windows lacks (aktuald runs on Linux, where this test runs)")
	}
	LookPath(t, "bzip2", "computing bsdiff patches needs the bzip2 program (apt-get install bzip2)")
}
