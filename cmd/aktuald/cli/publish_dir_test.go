package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// release publish --dir: every refusal is a usage error (exit 2) that
// records nothing, so the good folder then publishes as version 1.0.0.
func TestPublishDirExitCodes(t *testing.T) {
	data, dir := t.TempDir(), t.TempDir()
	for name, body := range map[string]string{"good/bin/app": "#!/bin/sh\n", "bad/aux.txt": "x", "bad/bin/app": "#!/bin/sh\n"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	publish := func(args ...string) []string {
		return append([]string{"--data", data, "release", "publish", "--product", "app", "--series", "pro", "--version", "1.0.0"}, args...)
	}
	good := filepath.Join(dir, "good")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{publish("--dir", good, "--file", filepath.Join(good, "bin", "app")), "give one of them"},
		{publish("--dir", good, "--url", "https://cdn.example.com/app"), "give one of them"},
		{publish("--file", filepath.Join(good, "bin", "app"), "--preserve", "*.ini"), "give --dir with them"},
		{publish("--dir", filepath.Join(dir, "bad"), "--main", "bin/app"), "device name Windows reserves"},
		{publish("--dir", good, "--main", "bin/other"), "is not a file of the folder"},
		{publish("--dir", filepath.Join(dir, "nosuch")), "give the program's folder"},
		{publish("--dir", good, "--version", "1.0"), "MAJOR.MINOR.PATCH"},
	} {
		code, _, stderr := run(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want %d saying %q", tc.args[4:], code, stderr, exitUsage, tc.want)
		}
	}
	if code, stdout, stderr := run(t, publish("--dir", good, "--main", "bin/app", "--preserve", "data/**")...); code != exitOK || !strings.Contains(stdout, "A folder: 1 files") {
		t.Errorf("good folder: exit %d\n%s%s", code, stdout, stderr)
	}
}
