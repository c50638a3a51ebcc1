package updater

import (
	"context"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
)

const folderProduct = "buh"

// folderVersion is the content of one version of the program folder
// "buh": nested folders, Cyrillic names, a program, and files the
// customer owns (data/**, *.ini) that the release ships for a first
// install.
func folderVersion(v string) map[string]string {
	files := map[string]string{
		"buh.exe":                 "#!/bin/sh\necho buh " + v + "\n",
		"lib/core.dll":            "core " + v,
		"lib/печат.dll":           "print engine (unchanged)",
		"help/bg/Справка.txt":     "помощ " + v,
		"шаблони/фактура.rpt":     "invoice template " + v,
		"data/company.db":         "empty database from the vendor",
		"settings.ini":            "[defaults]\n",
		"readme.txt":              "readme (unchanged)",
		"lib/old/legacy-only.dll": "only in 1.0.0",
	}
	if v != "1.0.0" {
		delete(files, "lib/old/legacy-only.dll")
		files["lib/нов/added.dll"] = "added in " + v
	}
	return files
}

// folderHarness is the file harness's server with a folder product:
// 1.0.0 is current when the customer's code is activated, then 2.0.0 is
// published.
type folderHarness struct {
	*harness
	dir string
}

func newFolderHarness(t *testing.T, updates int64) *folderHarness {
	h := newHarness(t, 1) // its code is another customer's
	h.prod = folderProduct
	fh := &folderHarness{harness: h, dir: filepath.Join(t.TempDir(), "Счетоводство")}
	fh.publishFolder("1.0.0", folderVersion("1.0.0"), nil)
	act, err := h.admin.ActivatePro(t.Context(), "Acme Folders", updates)
	if err != nil {
		t.Fatal(err)
	}
	h.code = act.Code
	// Published later than the activation (publish times are in seconds).
	h.admin.Now = func() time.Time { return time.Now().Add(time.Hour) }
	fh.publishFolder("2.0.0", folderVersion("2.0.0"), nil)
	return fh
}

// publishFolder publishes files as a folder release of folderProduct.
func (fh *folderHarness) publishFolder(version string, files map[string]string, health []string) api.ReleaseStatement {
	t := fh.t
	t.Helper()
	src := filepath.Join(t.TempDir(), "src-"+version)
	writeTree(t, src, files)
	os.Chmod(filepath.Join(src, "buh.exe"), 0o755)
	p := admin.FolderParams{
		PublishParams: admin.PublishParams{Product: folderProduct, Series: api.SeriesPro, Version: version, OS: "linux", Arch: "amd64", HealthCheck: health},
		Dir:           src, Preserve: []string{"data/**", "*.ini"}, Main: "buh.exe",
	}
	st, _, err := fh.admin.PublishFolder(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readTree is every regular file under root: path → content.
func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (fh *folderHarness) install() (*Result, error) {
	res, _, err := fh.u.Install(fh.t.Context(), InstallRequest{Product: folderProduct, Dir: fh.dir,
		Credential: func(context.Context) (api.Credential, error) { return api.Credential{Code: fh.code}, nil }})
	return res, err
}

func (fh *folderHarness) updateFolder(req Request) (*Result, error) {
	req.CheckRequest = CheckRequest{Product: folderProduct, Target: fh.dir, FromVersion: req.FromVersion}
	req.Credential = func(context.Context, *Plan) (api.Credential, error) { return api.Credential{Code: fh.code}, nil }
	return fh.u.Update(fh.t.Context(), req)
}

// expectTree checks the folder holds exactly want, and that nothing of
// the update's work is left beside it.
func (fh *folderHarness) expectTree(want map[string]string) {
	t := fh.t
	t.Helper()
	got := readTree(t, fh.dir)
	if !maps.Equal(got, want) {
		for _, k := range slices.Sorted(maps.Keys(got)) {
			if got[k] != want[k] {
				t.Errorf("%s = %q, want %q", k, got[k], want[k])
			}
		}
		for k := range want {
			if _, ok := got[k]; !ok {
				t.Errorf("%s missing", k)
			}
		}
	}
	work := filepath.Join(filepath.Dir(fh.dir), "."+filepath.Base(fh.dir)+".aktual-work")
	if _, err := os.Stat(work); err == nil {
		if entries, _ := os.ReadDir(filepath.Join(work, "stage")); len(entries) > 0 {
			t.Errorf("staged files left in %s", work)
		}
	}
}

func (fh *folderHarness) expectCounts(remaining, held, consumed int64) {
	fh.t.Helper()
	st := fh.counts()
	if st.Remaining != remaining || st.Held != held || st.Consumed != consumed {
		fh.t.Errorf("counts remaining/held/consumed = %d/%d/%d, want %d/%d/%d", st.Remaining, st.Held, st.Consumed, remaining, held, consumed)
	}
	if rep, err := fh.admin.Audit(context.Background()); err != nil || !rep.OK() {
		fh.t.Errorf("audit: %+v %v", rep.Violations, err)
	}
}

// customise is what a customer does between versions: edits the data
// and settings, adds files of their own.
func customise(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	own := map[string]string{
		"data/company.db": "the customer's books",
		"settings.ini":    "[printer]\nname=Lexmark\n",
		"notes.txt":       "customer notes",
		"шаблони/моя фактура.rpt": "the customer's own template",
	}
	writeTree(t, dir, own)
	maps.Copy(want, own)
}
