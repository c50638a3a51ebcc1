package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/aktual/aktual/internal/i18n"
)

// A trust file aktual cannot use is a trust problem (exit 2, "usage"),
// never a network one (exit 3), whatever its decoder said, and the result
// names the file and the remedy.
func TestTrustFileProblemsExitAsTrustProblems(t *testing.T) {
	t.Parallel()
	good := `{"version":2,"root_keys":[{"id":"k","ed25519":"AAAA"}]}`
	for _, tc := range []struct {
		name   string
		data   string
		mode   os.FileMode
		remedy string
	}{
		{"cut short", good[:20], 0o644, "get a fresh copy of trust.json from your vendor"},
		{"writable by everyone", good, 0o666, "chmod go-w"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.mode&0o022 != 0 && runtime.GOOS == "windows" {
				t.Skip("mode bits do not say who may write a file on Windows")
			}
			dir := t.TempDir()
			trust := filepath.Join(dir, "trust.json")
			if err := os.WriteFile(trust, []byte(tc.data), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(trust, tc.mode); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, P: i18n.NewPrinter(i18n.English)}
			code := run(t.Context(), ios, []string{"check", "--json", "--trust", trust, "--server", "http://127.0.0.1:1",
				"--product", "app", "--target", trust, "--state-dir", filepath.Join(dir, "state")})
			var res outcome
			if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &res); err != nil {
				t.Fatalf("exit %d, stdout %q: %v", code, out.String(), err)
			}
			if code != ExitUsage || res.ErrorCode != "usage" {
				t.Fatalf("exit %d (%s), want %d (usage): %s", code, res.ErrorCode, ExitUsage, res.Error)
			}
			if !strings.Contains(res.Error, trust) || !strings.Contains(res.Error, tc.remedy) || strings.Contains(res.Error, "connection") {
				t.Fatalf("error %q: want it to name %s and say %q, and not speak of a connection", res.Error, trust, tc.remedy)
			}
		})
	}
}
