package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/hwkey"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/updater"
)

// fixture is a real reference server on loopback with a classic product,
// a hardware key, and an updater with a target at 1.0.0.
type fixture struct {
	inst   *datadir.Instance
	admin  *admin.Admin
	url    string
	key    hwkey.Key
	u      *updater.Updater
	target string
	v2     []byte
}

// releaseNotes are 2.0.0's notes, with markup that must stay text.
var releaseNotes = map[string]string{
	"bg": "# Какво ново\n\n- Складът се зарежда **двойно** по-бързо\n- <script>alert(1)</script> остава текст\n",
	"en": "# What is new\n\n- The warehouse loads **twice** as fast\n- <script>alert(1)</script> stays text\n",
}

func newFixture(t *testing.T, updates int64) *fixture {
	t.Helper()
	inst, err := datadir.Open(datadir.DataDir(t.TempDir()), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close() })
	f := &fixture{inst: inst, admin: admin.New(inst), v2: []byte("abacus 2.0.0\n")}
	v1 := []byte("abacus 1.0.0\n")
	for v, data := range map[string][]byte{"1.0.0": v1, "2.0.0": f.v2} {
		p := admin.PublishParams{Product: "abacus", Series: api.SeriesClassic,
			Version: v, OS: "linux", Arch: "amd64", File: bytes.NewReader(data)}
		if v == "2.0.0" {
			p.Control.Notes = releaseNotes
		}
		if _, err := f.admin.Publish(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	lic, err := hwkey.Issue(inst.Keys.Release, "HK-42", "Acme", nil, time.Now(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if f.key, err = hwkey.ParseFile(lic); err != nil {
		t.Fatal(err)
	}
	if updates > 0 {
		if _, err := f.admin.ActivateClassic(t.Context(), "Acme", "HK-42", updates); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(server.New(inst, "test", nil).Handler())
	t.Cleanup(ts.Close)
	f.url = ts.URL
	f.target = filepath.Join(t.TempDir(), "abacus")
	if err := os.WriteFile(f.target, v1, 0o755); err != nil {
		t.Fatal(err)
	}
	f.u = &updater.Updater{Server: ts.URL, Trust: inst.Keys.Trust(), StateDir: t.TempDir(), OS: "linux", Arch: "amd64",
		MachineID: func() (string, error) { return "m_browser", nil }}
	return f
}

func (f *fixture) plan(t *testing.T) *updater.Plan {
	t.Helper()
	p, err := f.u.Check(t.Context(), updater.CheckRequest{Product: "abacus", Target: f.target})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) counts(t *testing.T) admin.Standing {
	t.Helper()
	st, err := f.admin.ShowHWKey(context.Background(), "HK-42")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// openSession opens a classic session over the HTTP API as the installer
// does, and returns it whatever its problem.
func (f *fixture) openSession(t *testing.T) api.ClassicSession {
	t.Helper()
	var ch api.ChallengeResponse
	post(t, f.url+"/v1/classic/challenges", struct{}{}, &ch)
	sig, err := f.key.Sign(t.Context(), ch.Challenge)
	if err != nil {
		t.Fatal(err)
	}
	var sess api.ClassicSession
	post(t, f.url+"/v1/classic/sessions", api.ClassicSessionRequest{
		Licence: f.key.Envelope(), Challenge: ch.Challenge, Signature: sig,
		Product: "abacus", FromVersion: "1.0.0", ToVersion: "2.0.0", MachineID: "m_browser",
	}, &sess)
	return sess
}

func post(t *testing.T, url string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}
