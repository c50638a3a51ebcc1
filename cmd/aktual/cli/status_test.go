package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// aktual status says what is wrong with the state folder in the reader's
// language, on stderr and in the JSON.
func TestStatusProblemsInBulgarian(t *testing.T) {
	dir := t.TempDir()
	record := filepath.Join(dir, "installs", "bad.json")
	if err := os.MkdirAll(filepath.Dir(record), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(record, []byte("xx"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"en": "the install record " + record + " is damaged",
		"bg": "записът за инсталация " + record + " е повреден",
	}
	for lang, want := range want {
		t.Run(lang, func(t *testing.T) {
			s, _, errOut := streams("", false)
			if code := run(t.Context(), s, []string{"--lang", lang, "status", "--state-dir", dir}); code != ExitOK {
				t.Fatalf("exit %d; stderr: %s", code, errOut)
			}
			if !strings.Contains(errOut.String(), want) {
				t.Errorf("stderr %q does not say %q", errOut, want)
			}
			s, out, errOut := streams("", false)
			if code := run(t.Context(), s, []string{"--lang", lang, "status", "--state-dir", dir, "--json"}); code != ExitOK {
				t.Fatalf("--json: exit %d; stderr: %s", code, errOut)
			}
			var got struct{ Problems []string }
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("--json: %v: %s", err, out)
			}
			if len(got.Problems) != 1 || !strings.HasPrefix(got.Problems[0], want) {
				t.Errorf("--json problems %q, want one beginning %q", got.Problems, want)
			}
		})
	}
}
