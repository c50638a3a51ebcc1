//go:build unix

// Symbolic links and named pipes are made as on Unix.

package admin_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/server/patches"
)

// writeTree makes files under dir: name → contents; a name ending in "*"
// is executable.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, "*") {
			name, mode = strings.TrimSuffix(name, "*"), 0o755
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
}

func folderParams(version, dir string) admin.FolderParams {
	return admin.FolderParams{
		PublishParams: admin.PublishParams{Product: "ledger", Series: api.SeriesPro, Version: version, OS: "linux", Arch: "amd64", AutoHealthCheck: true},
		Dir:           dir, Main: "bin/ledger", Preserve: []string{"data/**", "*.ini"},
	}
}

// blobNames lists the blob store's files.
func blobNames(t *testing.T, inst *datadir.Instance) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(inst.Blobs.Dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, d.Name())
		}
		return nil
	})
	slices.Sort(out)
	return out
}

func TestPublishFolder(t *testing.T) {
	inst, err := datadir.Open(datadir.DataDir(t.TempDir()), "")
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	a := admin.New(inst)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"bin/ledger*": "#!/bin/sh\necho 2.0.0\n", "Справка/и\u0306.txt": "help", "data/db": "", "app.ini": "x=1"})
	if err := os.Symlink("../bin/ledger", filepath.Join(dir, "data", "run")); err != nil {
		t.Fatal(err)
	}
	var made []patches.Result
	p := folderParams("1.0.0", dir)
	p.OnPatch = func(r patches.Result) { made = append(made, r) }
	st, m, err := a.PublishFolder(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if !st.IsFolder() || st.Files != 5 || st.TotalSize != m.TotalSize() || !slices.Equal(st.HealthCheck, admin.DefaultHealthCheck) {
		t.Errorf("statement %+v", st)
	}
	want := []string{"app.ini", "bin/ledger", "data/db", "data/run", "Справка/й.txt"}
	var got []string
	for _, f := range m.Files {
		got = append(got, f.Path)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
	if f, _ := m.Lookup("data/run"); f.Mode != api.ModeExecutable || f.SHA256 != func() string { b, _ := m.Lookup("bin/ledger"); return b.SHA256 }() {
		t.Errorf("the link inside the folder is not the file it points to: %+v", f)
	}
	// The manifest is the release's artifact, and every file is served.
	blob, err := inst.Blobs.Open(st.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(blob.Name())
	blob.Close()
	if dm, err := api.DecodeManifest(data); err != nil || dm.Version != "1.0.0" || len(dm.Files) != 5 || dm.Main != "bin/ledger" {
		t.Errorf("stored manifest %+v, %v", dm, err)
	}
	for _, f := range m.Files {
		if ok, err := inst.Store.HasArtifact(t.Context(), f.SHA256); !ok || err != nil {
			t.Errorf("%s is not served: %v", f.Path, err)
		}
	}
	// The next version shares unchanged files and gets no bsdiff patch.
	writeTree(t, dir, map[string]string{"bin/ledger*": "#!/bin/sh\necho 2.0.0 again\n"})
	if _, _, err := a.PublishFolder(t.Context(), folderParams("2.0.0", dir)); err != nil {
		t.Fatal(err)
	}
	if ps, err := inst.Store.Patches(t.Context(), "ledger", "linux", "amd64"); err != nil || len(ps) != 0 || len(made) != 0 {
		t.Errorf("patches %v %v, made %v; a folder release gets none", ps, err, made)
	}
}

// TestPublishFolderRefused: each refusal names what to change, and leaves
// neither a release nor a blob behind (a blob another release names
// stays).
func TestPublishFolderRefused(t *testing.T) {
	inst, err := datadir.Open(datadir.DataDir(t.TempDir()), "")
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	a := admin.New(inst)
	good := t.TempDir()
	writeTree(t, good, map[string]string{"bin/ledger*": "#!/bin/sh\n", "shared.txt": "shared"})
	if _, _, err := a.PublishFolder(t.Context(), folderParams("1.0.0", good)); err != nil {
		t.Fatal(err)
	}
	before := blobNames(t, inst)
	outside := filepath.Join(t.TempDir(), "secret")
	writeTree(t, filepath.Dir(outside), map[string]string{"secret": "s"})
	for _, tc := range []struct {
		name, want string
		setup      func(dir string, p *admin.FolderParams)
	}{
		{"link out of the folder", "out of the folder", func(d string, _ *admin.FolderParams) { os.Symlink(outside, filepath.Join(d, "x")) }},
		{"dangling link", "does not exist", func(d string, _ *admin.FolderParams) { os.Symlink("nowhere", filepath.Join(d, "x")) }},
		{"link to a folder", "to a folder", func(d string, _ *admin.FolderParams) { os.Symlink("bin", filepath.Join(d, "x")) }},
		{"fifo", "not a regular file", func(d string, _ *admin.FolderParams) { syscall.Mkfifo(filepath.Join(d, "fifo"), 0o644) }},
		{"reserved name", "reserves", func(d string, _ *admin.FolderParams) { writeTree(t, d, map[string]string{"aux.txt": "x"}) }},
		{"trailing space", "ends in a dot or a space", func(d string, _ *admin.FolderParams) { writeTree(t, d, map[string]string{"a ": "x"}) }},
		{"case collision", "differ only in case", func(d string, _ *admin.FolderParams) {
			writeTree(t, d, map[string]string{"Readme.txt": "1", "README.TXT": "2"})
		}},
		{"NFC and NFD", "two Unicode forms", func(d string, _ *admin.FolderParams) {
			writeTree(t, d, map[string]string{"й.txt": "1", "и\u0306.txt": "2"})
		}},
		{"main missing", "is not a file of the folder", func(_ string, p *admin.FolderParams) { p.Main = "bin/nosuch" }},
		{"main preserved", "matches a --preserve", func(_ string, p *admin.FolderParams) { p.Preserve = []string{"bin/**"} }},
		{"bad pattern", "--preserve", func(_ string, p *admin.FolderParams) { p.Preserve = []string{"/abs"} }},
		{"health check without main", "give --main", func(_ string, p *admin.FolderParams) {
			p.Main, p.AutoHealthCheck, p.HealthCheck = "", false, []string{"--version"}
		}},
		{"a file too", "never --file", func(_ string, p *admin.FolderParams) { p.URL = "https://cdn.example.com/x" }},
		{"not an archive", "neither a folder nor", func(d string, p *admin.FolderParams) { p.Dir = filepath.Join(d, "shared.txt") }},
		{"missing", "no such file", func(d string, p *admin.FolderParams) { p.Dir = filepath.Join(d, "nosuch") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"bin/ledger*": "#!/bin/sh\necho new " + tc.name + "\n", "shared.txt": "shared"})
			p := folderParams("2.0.0", dir)
			tc.setup(dir, &p)
			_, _, err := a.PublishFolder(t.Context(), p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v; want one saying %q", err, tc.want)
			}
			if rs, _ := inst.Store.Releases(t.Context(), "ledger", "linux", "amd64"); len(rs) != 1 {
				t.Errorf("%d releases recorded; want the first only", len(rs))
			}
			if after := blobNames(t, inst); !slices.Equal(after, before) {
				t.Errorf("blobs %v, want %v (the refused folder's removed, the shared one kept)", after, before)
			}
		})
	}
}
