package updater

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/testenv"
)

// The whole life of a program folder: a first install (nothing used),
// the customer's own changes, an update that downloads only what changed
// and keeps every file of the customer's, and the uninstall.
func TestFolderInstallUpdateUninstall(t *testing.T) {
	fh := newFolderHarness(t, 2)
	res, err := fh.install()
	if err != nil {
		t.Fatal(err)
	}
	if res.To != "1.0.0" {
		t.Fatalf("installed %s; the code was activated when 1.0.0 was current", res.To)
	}
	want := folderVersion("1.0.0")
	fh.expectTree(want)
	fh.expectCounts(2, 0, 0)
	if fi, err := os.Stat(filepath.Join(fh.dir, "buh.exe")); runtime.GOOS != "windows" && (err != nil || fi.Mode().Perm() != 0o755) {
		t.Errorf("buh.exe mode %v, %v; want 0755", fi.Mode(), err)
	}

	customise(t, fh.dir, want)
	served := fh.countServed()
	res, err = fh.updateFolder(Request{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusUpdated || res.From != "1.0.0" || res.To != "2.0.0" {
		t.Fatalf("result %+v", res)
	}
	v2 := folderVersion("2.0.0")
	for _, rel := range []string{"buh.exe", "lib/core.dll", "help/bg/Справка.txt", "шаблони/фактура.rpt", "lib/нов/added.dll"} {
		want[rel] = v2[rel]
	}
	delete(want, "lib/old/legacy-only.dll")
	fh.expectTree(want)
	fh.expectCounts(1, 0, 1)
	if _, err := os.Stat(filepath.Join(fh.dir, "lib", "old")); err == nil {
		t.Error("the folder the dropped file was in is still there, empty")
	}
	// Only the five changed files (and the manifest) crossed the line.
	var gets int
	for _, n := range served.gets {
		gets += n
	}
	if gets != 6 {
		t.Errorf("%d artifact requests; want 6: the manifest and the five changed files (%v)", gets, served.gets)
	}

	again, err := fh.updateFolder(Request{})
	if err != nil || again.Status != StatusUpToDate {
		t.Fatalf("second update: %+v %v", again, err)
	}
	fh.expectCounts(1, 0, 1)

	un, err := fh.u.Uninstall(t.Context(), UninstallRequest{Target: filepath.Join(fh.dir, "buh.exe")})
	if err != nil {
		t.Fatal(err)
	}
	left := readTree(t, fh.dir)
	wantLeft := map[string]string{"data/company.db": "the customer's books", "settings.ini": "[printer]\nname=Lexmark\n",
		"notes.txt": "customer notes", "шаблони/моя фактура.rpt": "the customer's own template"}
	if !maps.Equal(left, wantLeft) || un.DirRemoved {
		t.Errorf("after uninstall: %v (dir removed %v); want only the customer's files", left, un.DirRemoved)
	}
	if _, err := fh.u.Uninstall(t.Context(), UninstallRequest{Target: fh.dir}); !errors.Is(err, ErrUsage) {
		t.Errorf("second uninstall: %v; want a usage error (nothing aktual installed is left)", err)
	}
}

// Reinstalling into the folder an uninstall left keeps the customer's
// data; --purge removes the preserved files but never files no manifest
// names.
func TestFolderReinstallAndPurge(t *testing.T) {
	fh := newFolderHarness(t, 1)
	if _, err := fh.install(); err != nil {
		t.Fatal(err)
	}
	writeTree(t, fh.dir, map[string]string{"data/company.db": "books", "mine.txt": "mine"})
	if _, err := fh.u.Uninstall(t.Context(), UninstallRequest{Target: fh.dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := fh.install(); err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, fh.dir)["data/company.db"]; got != "books" {
		t.Fatalf("reinstall replaced the customer's database: %q", got)
	}
	res, err := fh.u.Uninstall(t.Context(), UninstallRequest{Target: fh.dir, Purge: true})
	if err != nil {
		t.Fatal(err)
	}
	if left := readTree(t, fh.dir); !maps.Equal(left, map[string]string{"mine.txt": "mine"}) || res.DirRemoved {
		t.Fatalf("after purge: %v", left)
	}
}

// A failed health check puts the old folder back byte for byte and uses
// no update.
func TestFolderHealthCheckRollsBack(t *testing.T) {
	testenv.SkipUnderWine(t, "Wine runs a #! script given to CreateProcess through /bin/sh and hands Go an invalid process handle, so the script still holds its file when the check returns and the stage cannot be cleared; Windows refuses to start it (ERROR_BAD_EXE_FORMAT), which fails the check the same way")
	fh := newFolderHarness(t, 1)
	if _, err := fh.install(); err != nil {
		t.Fatal(err)
	}
	want := readTree(t, fh.dir)
	bad := folderVersion("3.0.0")
	bad["buh.exe"] = "#!/bin/sh\nexit 3\n"
	fh.publishFolder("3.0.0", bad, []string{"--version"})
	_, err := fh.updateFolder(Request{})
	wantKind(t, err, ErrApply)
	fh.expectTree(want)
	fh.expectCounts(1, 0, 0)
}

// On Windows a program holding the folder's files stops the update
// before anything is reserved: exit 9, nothing changed or used; closed,
// the update goes on.
func TestFolderFilesInUse(t *testing.T) {
	fh := newFolderHarness(t, 1)
	if _, err := fh.install(); err != nil {
		t.Fatal(err)
	}
	want := readTree(t, fh.dir)
	blocks := true
	fh.u.InUseBlocks = &blocks
	running := []Process{{PID: 4242, Name: "buh.exe"}}
	fh.u.FilesInUse = func([]string) ([]Process, error) { return running, nil }
	_, err := fh.updateFolder(Request{})
	wantKind(t, err, ErrInUse)
	fh.expectTree(want)
	fh.expectCounts(1, 0, 0)

	asked := 0
	_, err = fh.updateFolder(Request{InUse: func(_ context.Context, procs []Process) error {
		asked++
		if len(procs) != 1 || procs[0].Name != "buh.exe" {
			t.Errorf("asked about %v", procs)
		}
		running = nil // the customer closed it
		return nil
	}})
	if err != nil || asked != 1 {
		t.Fatalf("after closing: %v (asked %d times)", err, asked)
	}
	fh.expectCounts(0, 0, 1)
}

// A file whose bytes are not the manifest's is refused before anything
// is reserved or changed.
func TestFolderTamperedFileRefused(t *testing.T) {
	fh := newFolderHarness(t, 1)
	if _, err := fh.install(); err != nil {
		t.Fatal(err)
	}
	want := readTree(t, fh.dir)
	served := fh.countServed()
	core := api.SHA256Hex([]byte(folderVersion("2.0.0")["lib/core.dll"]))
	served.spoil = func(sum string, w http.ResponseWriter) bool {
		if sum != core {
			return false
		}
		w.Header().Set("Content-Length", "8")
		w.Write([]byte("evil dll"))
		return true
	}
	_, err := fh.updateFolder(Request{})
	wantKind(t, err, ErrVerification)
	fh.expectTree(want)
	fh.expectCounts(1, 0, 0)
}

// A folder aktual did not install is recognised by its files' hashes: its
// version is known, and the files that version had and the new one
// drops are removed; the customer's files are kept.
func TestFolderRecognisedByItsFiles(t *testing.T) {
	fh := newFolderHarness(t, 1)
	old := folderVersion("1.0.0")
	old["settings.ini"] = "the customer's settings" // preserved: not compared
	old["mine.txt"] = "the customer's"
	writeTree(t, fh.dir, old)
	plan, err := fh.u.Check(t.Context(), CheckRequest{Product: folderProduct, Target: fh.dir})
	if err != nil || plan.From != "1.0.0" || plan.FromSource != SourceFiles {
		t.Fatalf("check: %+v %v; want 1.0.0 recognised by its files", plan, err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(fh.dir), ".Счетоводство.aktual-work")); err == nil {
		t.Error("the check left a work folder")
	}
	res, err := fh.updateFolder(Request{})
	if err != nil || res.From != "1.0.0" || res.To != "2.0.0" {
		t.Fatalf("%+v %v", res, err)
	}
	got := readTree(t, fh.dir)
	if _, ok := got["lib/old/legacy-only.dll"]; ok || got["mine.txt"] != "the customer's" || got["settings.ini"] != "the customer's settings" {
		t.Errorf("after update: %v", got)
	}
	fh.expectCounts(0, 0, 1)
}

// A folder aktual did not install and cannot recognise (a file changed by
// hand) is updated with --from-version; files in no manifest it knows are
// left alone.
func TestFolderNotInstalledByAktual(t *testing.T) {
	fh := newFolderHarness(t, 1)
	old := folderVersion("1.0.0")
	old["lib/core.dll"] = "patched by hand"
	writeTree(t, fh.dir, old)
	_, err := fh.updateFolder(Request{})
	wantKind(t, err, ErrUsage)
	res, err := fh.updateFolder(Request{CheckRequest: CheckRequest{FromVersion: "1.0.0"}})
	if err != nil || res.To != "2.0.0" {
		t.Fatalf("%+v %v", res, err)
	}
	got := readTree(t, fh.dir)
	if got["lib/old/legacy-only.dll"] != old["lib/old/legacy-only.dll"] || got["lib/core.dll"] != "core 2.0.0" {
		t.Errorf("after update: %v", got)
	}
	fh.expectCounts(0, 0, 1)
}

// A first install never overwrites a file that is someone else's.
func TestFolderInstallRefusesToReplace(t *testing.T) {
	fh := newFolderHarness(t, 1)
	writeTree(t, fh.dir, map[string]string{"lib/core.dll": "someone's dll", "other.txt": "other"})
	_, err := fh.install()
	wantKind(t, err, ErrUsage)
	want := map[string]string{"lib/core.dll": "someone's dll", "other.txt": "other"}
	fh.expectTree(want)
	fh.expectCounts(1, 0, 0)
	os.Remove(filepath.Join(fh.dir, "lib", "core.dll"))
	if _, err := fh.install(); err != nil {
		t.Fatalf("into a folder holding only files the release does not name: %v", err)
	}
	if got := readTree(t, fh.dir)["other.txt"]; got != "other" {
		t.Errorf("other.txt = %q", got)
	}
}

// A changed file with a patch from the installed content downloads the
// patch, not the file; a patch whose output is wrong falls back to the
// whole file.
func TestFolderFilePatches(t *testing.T) {
	testenv.NeedBzip2(t)
	for _, spoil := range []bool{false, true} {
		fh := newFolderHarness(t, 1)
		big := func(v string) string {
			b := make([]byte, 512<<10)
			r := newPseudoRandom(3)
			r.Read(b)
			copy(b[1000:], "version "+v)
			return string(b)
		}
		v3 := folderVersion("3.0.0")
		v3["lib/big.dll"] = big("3.0.0")
		v4 := folderVersion("4.0.0")
		v4["lib/big.dll"] = big("4.0.0")
		fh.publishFolder("3.0.0", v3, nil)
		if _, err := fh.admin.ActivatePro(t.Context(), "Acme Folders", 1); err != nil {
			t.Fatal(err)
		}
		writeTree(t, fh.dir, v3) // recognised by its files as 3.0.0
		st := fh.publishFolder("4.0.0", v4, nil)
		if st.Files != len(v4) {
			t.Fatalf("statement lists %d files", st.Files)
		}
		served := fh.countServed()
		whole := api.SHA256Hex([]byte(v4["lib/big.dll"]))
		if spoil {
			served.spoil = func(sum string, w http.ResponseWriter) bool {
				if _, n := served.of(sum); n == 1 && sum != whole && !isManifestOrSmall(fh, sum) {
					w.Write([]byte("BSDIFF40 not a patch at all"))
					return true
				}
				return false
			}
		}
		res, err := fh.updateFolder(Request{})
		if err != nil || res.To != "4.0.0" {
			t.Fatalf("update: %+v %v", res, err)
		}
		if got := readTree(t, fh.dir)["lib/big.dll"]; got != v4["lib/big.dll"] {
			t.Fatal("lib/big.dll is not 4.0.0's")
		}
		bytes, gets := served.of(whole)
		switch {
		case !spoil && gets != 0:
			t.Errorf("the whole file was downloaded (%d bytes) though a patch from the installed one exists", bytes)
		case spoil && gets != 1:
			t.Errorf("a spoilt patch: the whole file was downloaded %d times, want once", gets)
		}
	}
}

// isManifestOrSmall tells the manifest and the small files' contents
// from a patch, for the spoiling server.
func isManifestOrSmall(fh *folderHarness, sum string) bool {
	for _, v := range []string{"3.0.0", "4.0.0"} {
		for _, c := range folderVersion(v) {
			if api.SHA256Hex([]byte(c)) == sum {
				return true
			}
		}
	}
	rs, _ := fh.inst.Store.AllReleases(context.Background())
	for _, r := range rs {
		if r.SHA256 == sum {
			return true
		}
	}
	return false
}

// Where a running program does not stop the switch (Linux, macOS), the
// update goes on and says the running copy keeps the old version.
func TestFolderRunningProgramWarned(t *testing.T) {
	fh := newFolderHarness(t, 1)
	if _, err := fh.install(); err != nil {
		t.Fatal(err)
	}
	blocks := false
	fh.u.InUseBlocks = &blocks
	fh.u.FilesInUse = func([]string) ([]Process, error) { return []Process{{PID: 77, Name: "buh"}}, nil }
	if _, err := fh.updateFolder(Request{}); err != nil {
		t.Fatal(err)
	}
	if !fh.noticed("keeps the old version until it is restarted") {
		t.Errorf("no warning about the running copy; notices: %v", fh.notices())
	}
	fh.expectCounts(0, 0, 1)
}

// A file of the customer's where the new version adds one is kept under
// another name, and the new version's file goes in.
func TestFolderCustomersFileInTheWay(t *testing.T) {
	fh := newFolderHarness(t, 1)
	if _, err := fh.install(); err != nil {
		t.Fatal(err)
	}
	writeTree(t, fh.dir, map[string]string{"lib/нов/added.dll": "the customer's own dll"})
	if _, err := fh.updateFolder(Request{}); err != nil {
		t.Fatal(err)
	}
	got := readTree(t, fh.dir)
	if got["lib/нов/added.dll"] != folderVersion("2.0.0")["lib/нов/added.dll"] || got["lib/нов/added.aktual-saved.dll"] != "the customer's own dll" {
		t.Errorf("after the update: added.dll %q, saved %q", got["lib/нов/added.dll"], got["lib/нов/added.aktual-saved.dll"])
	}
	if !fh.noticed("it is kept as") {
		t.Errorf("the customer was not told; notices %v", fh.notices())
	}
}

// A file the new version drops is removed only as installed: one the
// customer changed stays, and one reached through a link out of the
// folder is never touched.
func TestFolderRemovesOnlyWhatItInstalled(t *testing.T) {
	for _, how := range []string{"edited", "through a link"} {
		fh := newFolderHarness(t, 1)
		if _, err := fh.install(); err != nil {
			t.Fatal(err)
		}
		outside := filepath.Join(t.TempDir(), "elsewhere")
		dropped := filepath.Join(fh.dir, "lib", "old", "legacy-only.dll")
		want := "edited by the customer"
		switch how {
		case "edited":
			writeTree(t, fh.dir, map[string]string{"lib/old/legacy-only.dll": want})
		case "through a link":
			want = folderVersion("1.0.0")["lib/old/legacy-only.dll"]
			writeTree(t, outside, map[string]string{"legacy-only.dll": want})
			os.RemoveAll(filepath.Join(fh.dir, "lib", "old"))
			if err := os.Symlink(outside, filepath.Join(fh.dir, "lib", "old")); err != nil {
				t.Skip("no symbolic links here:", err)
			}
			dropped = filepath.Join(outside, "legacy-only.dll")
		}
		if _, err := fh.updateFolder(Request{}); err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		if got, err := os.ReadFile(dropped); err != nil || string(got) != want {
			t.Errorf("%s: the dropped file is %q, %v; want it kept", how, got, err)
		}
	}
}
