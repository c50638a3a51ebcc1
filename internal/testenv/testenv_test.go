package testenv

import (
	"runtime"
	"strings"
	"testing"
)

// recorder catches what Missing asks of a test without ending this one.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Fatalf(format string, a ...any) { r.fatal = format }
func (r *recorder) Skip(a ...any)                  { r.skip = "skip" }

func TestMissingFailsInCI(t *testing.T) {
	for _, tc := range []struct {
		ci       string
		wantFail bool
	}{{"true", true}, {"1", true}, {"", false}, {"false", false}, {"junk", false}} {
		t.Setenv("CI", tc.ci)
		r := &recorder{TB: t}
		Missing(r, "bzip2 is not on PATH")
		if got := r.fatal != ""; got != tc.wantFail {
			t.Errorf("CI=%q: failed=%v skipped=%v, want failed=%v", tc.ci, got, r.skip != "", tc.wantFail)
		}
		if tc.wantFail && !strings.Contains(r.fatal, "CI=true") {
			t.Errorf("CI=%q: the failure does not say why it is not a skip: %q", tc.ci, r.fatal)
		}
	}
}

func TestLookPathFindsAProgram(t *testing.T) {
	t.Setenv("CI", "true")
	name := "sh"
	if runtime.GOOS == "windows" {
		name = "cmd" // every Windows has it
	}
	if p := LookPath(t, name, "install it"); p == "" {
		t.Fatal("no path for", name)
	}
}
