package updater

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
)

func TestLoadTrust(t *testing.T) {
	root := pub(newKey(t))
	builtin := base64.StdEncoding.EncodeToString(root.Ed25519)
	state := t.TempDir()
	fileRoot := pub(newKey(t))
	data, _ := (&api.Trust{Version: api.TrustVersion, RootKeys: []api.PublicKey{fileRoot}}).Marshal()
	os.WriteFile(filepath.Join(state, TrustFileName), data, 0o644)
	named := filepath.Join(t.TempDir(), "named.json")
	os.WriteFile(named, data, 0o644)

	for _, tc := range []struct {
		name, named, builtin string
		want                 string // root key ID; "" for an error
	}{
		{"state directory", "", "", fileRoot.ID},
		{"built in wins over files found", "", builtin, root.ID},
		{"named wins over built in", named, builtin, fileRoot.ID},
		{"malformed built in", "", "not base64!", ""},
		{"built-in key too short", "", base64.StdEncoding.EncodeToString([]byte("short")), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := LoadTrust(tc.named, state, tc.builtin)
			if tc.want == "" {
				if !errors.Is(err, ErrUsage) {
					t.Fatalf("error %v, want a usage error", err)
				}
				return
			}
			if err != nil || tr.RootKeys[0].ID != tc.want {
				t.Fatalf("LoadTrust = %+v, %v; want root %s", tr, err, tc.want)
			}
		})
	}
}

// A trust file cut short (a copy that stopped, a full disk) is said to be
// damaged, naming it and what to do: not taken for a network failure,
// which its JSON decoder's "unexpected EOF" would otherwise read as.
func TestTruncatedTrustFileIsDamaged(t *testing.T) {
	t.Parallel()
	data, _ := (&api.Trust{Version: api.TrustVersion, RootKeys: []api.PublicKey{pub(newKey(t))}}).Marshal()
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"cut in the middle", data[:len(data)/2]},
		{"empty", nil},
		{"not JSON", []byte("<html>")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			named := filepath.Join(t.TempDir(), TrustFileName)
			if err := os.WriteFile(named, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadTrust(named, t.TempDir(), "")
			if !errors.Is(err, ErrUsage) || errors.Is(err, ErrNoConnection) {
				t.Fatalf("error %v, want a trust problem (ErrUsage)", err)
			}
			for _, lang := range i18n.Supported {
				msg := i18n.NewPrinter(lang).Sprint(err)
				if strings.Contains(msg, "connection") || strings.Contains(msg, "връзката") || !strings.Contains(msg, named) {
					t.Errorf("%v: %q reads as a network failure or does not name the file", lang, msg)
				}
			}
			if msg := err.Error(); !strings.Contains(msg, "damaged") || !strings.Contains(msg, "fresh copy of trust.json from your vendor") {
				t.Errorf("%q does not say the file is damaged and to get a fresh copy", msg)
			}
		})
	}
}
