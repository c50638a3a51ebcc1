package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	raw := filepath.Join(t.TempDir(), "raw.txt")
	if err := os.WriteFile(raw, []byte("startup.mean_ms 12\nstartup.min_ms 9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if code := run([]string{raw}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "| # | measure |") || !strings.Contains(out.String(), "| 12.0 ms (9.00 ms) |") {
		t.Errorf("table:\n%s", out.String())
	}
}

func TestRunRefuses(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.txt")
	if err := os.WriteFile(bad, []byte("startup.mean_ms quick\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		args []string
		code int
	}{
		"no file":      {nil, 2},
		"missing file": {[]string{filepath.Join(t.TempDir(), "none")}, 1},
		"not a number": {[]string{bad}, 1},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut strings.Builder
			if code := run(c.args, &out, &errOut); code != c.code || errOut.Len() == 0 {
				t.Errorf("exit %d (want %d), stderr %q", code, c.code, errOut.String())
			}
		})
	}
}

// TestRunOnlyPG: --only pg prints rows 3a–3c and nothing else.
func TestRunOnlyPG(t *testing.T) {
	raw := filepath.Join(t.TempDir(), "raw.txt")
	figures := "rc.clients 32\nrc.duration_s 10\nrc.sqlite.tps 3000\nrc.postgres.tps 2000\nrc.postgres_hot.tps 1000\npgbench.tps 8000\nstartup.mean_ms 12\n"
	if err := os.WriteFile(raw, []byte(figures), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if code := run([]string{"--only", "pg", raw}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"| 3a |", "| 3b |", "| 3c |", "0.25×"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in the table:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "start-up") {
		t.Errorf("rows other than 3a–3c:\n%s", out.String())
	}
}
