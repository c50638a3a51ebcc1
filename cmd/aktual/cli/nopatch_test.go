package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/testenv"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/server/patches"
)

// patchServer is a real reference server that made a patch from 1.0.0 to
// 2.0.0 of product at publish, and notes what clients ask of it.
type patchServer struct {
	url, trust, code string
	v1, v2           []byte
	patch, whole     string // the sha256 of the patch and of 2.0.0

	mu        sync.Mutex
	asked     []string       // the patch= of each latest question
	artifacts map[string]int // GETs by sha256
}

func newPatchServer(t *testing.T, product string, v1, v2 []byte) *patchServer {
	t.Helper()
	testenv.NeedBzip2(t)
	inst, err := datadir.Open(datadir.DataDir(t.TempDir()), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close() })
	adm := admin.New(inst)
	adm.Patches = patches.Policy{MinSize: 1 << 10} // the files are small
	// In this order: publishing 2.0.0 makes the patch from 1.0.0.
	for _, r := range []struct {
		version string
		file    []byte
	}{{"1.0.0", v1}, {"2.0.0", v2}} {
		if _, err := adm.Publish(t.Context(), admin.PublishParams{Product: product, Series: api.SeriesPro, Version: r.version,
			OS: runtime.GOOS, Arch: runtime.GOARCH, File: bytes.NewReader(r.file)}); err != nil {
			t.Fatal(err)
		}
	}
	s := &patchServer{v1: v1, v2: v2, whole: sum(v2), artifacts: map[string]int{}}
	p, err := inst.Store.Patch(t.Context(), product, runtime.GOOS, runtime.GOARCH, sum(v1), sum(v2))
	if err != nil {
		t.Fatalf("the server made no patch 1.0.0 → 2.0.0: %v", err)
	}
	s.patch = p.SHA256
	act, err := adm.ActivatePro(t.Context(), "Acme", 10)
	if err != nil {
		t.Fatal(err)
	}
	s.code, s.trust = act.Code, inst.Dir.Path(datadir.TrustFile)
	h := server.New(inst, "test", nil).Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if strings.HasSuffix(r.URL.Path, "/latest") {
			s.asked = append(s.asked, r.URL.Query().Get("patch"))
		} else if a, ok := strings.CutPrefix(r.URL.Path, "/v1/artifacts/"); ok {
			s.artifacts[a]++
		}
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	s.url = ts.URL
	return s
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// forget starts a new count of what clients ask.
func (s *patchServer) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked, s.artifacts = nil, map[string]int{}
}

// expect checks one update's questions: a patch asked for (and fetched
// instead of the whole release) when usePatch, else never mentioned.
func (s *patchServer) expect(t *testing.T, usePatch bool) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	want, wantPatch, wantWhole := "", 0, 1
	if usePatch {
		want, wantPatch, wantWhole = api.PatchBSDiff, 1, 0
	}
	if len(s.asked) == 0 {
		t.Fatal("the server was never asked for the latest release")
	}
	for _, got := range s.asked {
		if got != want {
			t.Errorf("the latest question said patch=%q, want %q", got, want)
		}
	}
	if s.artifacts[s.patch] != wantPatch || s.artifacts[s.whole] != wantWhole {
		t.Errorf("GETs: patch %d, whole release %d; want %d, %d", s.artifacts[s.patch], s.artifacts[s.whole], wantPatch, wantWhole)
	}
}

// program is a file of about 8 KiB whose versions differ in a few bytes,
// as two builds of a program do.
func program(head, version string) []byte {
	return []byte(head + version + "\n" + strings.Repeat("# the same in every version of this program, line after line\n", 130))
}

// update --no-patch (or AKTUAL_NO_PATCH=true) never asks for a patch, so
// the server offers none and the whole release is downloaded; without it
// the patch the server made is used.
func TestUpdateNoPatch(t *testing.T) {
	s := newPatchServer(t, "ledger", program("ledger ", "1.0.0"), program("ledger ", "2.0.0"))
	tests := []struct {
		name     string
		args     []string
		env      string
		usePatch bool
	}{
		{"by default a patch", nil, "", true},
		{"--no-patch", []string{"--no-patch"}, "", false},
		{"AKTUAL_NO_PATCH=true", nil, "true", false},
		{"the flag wins over the environment", []string{"--no-patch=false"}, "true", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("AKTUAL_NO_PATCH", tc.env)
			}
			target := filepath.Join(t.TempDir(), "ledger")
			writeFile(t, target, s.v1)
			s.forget()
			ios, out, errOut := streams("", false)
			args := append([]string{"update", "--server", s.url, "--trust", s.trust, "--product", "ledger", "--target", target,
				"--code", s.code, "--yes", "--json", "--state-dir", t.TempDir()}, tc.args...)
			if code := run(t.Context(), ios, args); code != ExitOK {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			if res := lastResult(t, out.String()); res.Status != "updated" || res.From != "1.0.0" || res.To != "2.0.0" {
				t.Fatalf("result %+v", res)
			}
			sameBytes(t, target, s.v2)
			s.expect(t, tc.usePatch)
			if got := strings.Contains(out.String(), "downloading a patch"); got != tc.usePatch {
				t.Errorf("a patch's download phase shown: %v, want %v\n%s", got, tc.usePatch, out)
			}
		})
	}
}

// self-update --no-patch likewise: aktual updates itself from the whole
// release. (The aktual here is a shell script that answers "version", as
// the new aktual must.)
func TestSelfUpdateNoPatch(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in aktual is a shell script")
	}
	script := func(v string) []byte {
		return program("#!/bin/sh\necho aktual ", v+"\nexit 0")
	}
	s := newPatchServer(t, "aktual", script("1.0.0"), script("2.0.0"))
	for _, tc := range []struct {
		name     string
		args     []string
		usePatch bool
	}{
		{"by default a patch", nil, true},
		{"--no-patch", []string{"--no-patch"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exe := filepath.Join(t.TempDir(), "aktual")
			if err := os.WriteFile(exe, s.v1, 0o755); err != nil {
				t.Fatal(err)
			}
			s.forget()
			ios, out, errOut := streams("", false)
			args := append([]string{"self-update", "--server", s.url, "--trust", s.trust, "--yes", "--json", "--state-dir", t.TempDir()}, tc.args...)
			if code := runSelfUpdateOf(t, ios, exe, args); code != ExitOK {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			if res := lastResult(t, out.String()); res.Status != "updated" || res.To != "2.0.0" {
				t.Fatalf("result %+v", res)
			}
			sameBytes(t, exe, s.v2)
			s.expect(t, tc.usePatch)
		})
	}
}

// runSelfUpdateOf runs aktual as run does, with self-update updating exe
// instead of the running test binary.
func runSelfUpdateOf(t *testing.T, ios *IOStreams, exe string, args []string) int {
	t.Helper()
	if err := setLanguage(ios, args); err != nil {
		t.Fatal(err)
	}
	root := newRootCmd(ios)
	for _, c := range root.Commands() {
		if c.Name() == "self-update" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(selfUpdateCmd(ios, &selfUpdateOptions{executable: exe}))
	root.SetArgs(args)
	err := root.ExecuteContext(t.Context())
	var ex *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ex):
		return ex.code
	}
	t.Logf("aktual: %v", err)
	return exitCode(err)
}

// recover removes the patch work files a killed update left beside a
// program, whether a flag or the environment names it, in the reader's
// language, and leaves the kept download and the program alone.
func TestRecoverRemovesPatchWorkFiles(t *testing.T) {
	for _, tc := range []struct {
		name, lang string
		args, env  []string
		message    string
	}{
		{"--target", "en", []string{"--target", "%s"}, nil, "Removed the patch work files an interrupted update left beside %s."},
		{"AKTUAL_TARGET", "bg", nil, []string{"AKTUAL_TARGET", "%s"}, "Премахнати са работните файлове на кръпка, оставени от прекъснато обновяване до %s."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "ledger")
			keep := map[string][]byte{
				target: []byte("ledger 1.0.0"),
				filepath.Join(dir, ".ledger.aktual-download"):      []byte("ledger 2.0"),
				filepath.Join(dir, ".ledger.aktual-download.json"): []byte(`{"product":"ledger","version":"2.0.0","sha256":"` + strings.Repeat("a", 64) + `","size":20}`),
			}
			scratch := []string{filepath.Join(dir, ".ledger.aktual-patch"), filepath.Join(dir, ".ledger.aktual-patched")}
			for p, b := range keep {
				writeFile(t, p, b)
			}
			for _, p := range scratch {
				writeFile(t, p, []byte("scratch"))
			}
			args := []string{"--lang", tc.lang, "recover", "--state-dir", t.TempDir()}
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "%s", target))
			}
			if tc.env != nil {
				t.Setenv(tc.env[0], strings.ReplaceAll(tc.env[1], "%s", target))
			}
			ios, out, errOut := streams("", false)
			if code := run(t.Context(), ios, append(args, "--json")); code != ExitOK {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			res := lastResult(t, out.String())
			if want := strings.ReplaceAll(tc.message, "%s", target); res.Status != "recovered_cleaned" || res.Target != target ||
				res.ExitCode != ExitOK || res.Message != want {
				t.Fatalf("result %+v, want recovered_cleaned saying %q", res, want)
			}
			for _, p := range scratch {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s is still there", filepath.Base(p))
				}
			}
			for p, b := range keep {
				sameBytes(t, p, b)
			}
			// Once more: nothing left to do.
			ios, out, errOut = streams("", false)
			if code := run(t.Context(), ios, args); code != ExitOK || out.Len() != 0 {
				t.Fatalf("again: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}
