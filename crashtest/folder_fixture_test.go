package crashtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// folderProduct is the product published as a whole program folder.
const folderProduct = "buh"

// folderFixture is a vendor's server with buh 1.0.0 and 2.0.0 published as
// program folders, and two Pro codes activated while 1.0.0 was current:
// the one every update uses (fixture.code), and installCode, never used
// for an update (another customer's name: one customer has one code). A first install is the version the code's last
// consumed update reached, so once a round has consumed one, the Pro code
// would install 2.0.0: the fresh 1.0.0 folder of each round comes from
// installCode instead.
type folderFixture struct {
	*fixture
	installCode string
	v1, v2      map[string][]byte // path → content, as published
	folders     []string          // every round's program folder
	custom      map[string]map[string][]byte
}

// folderRelease is the content of buh 1.0.0 or 2.0.0: 200 files in
// nested folders, Cyrillic names, the program buh.exe (a shell script
// that answers --version) and the customer's files the vendor ships
// (data/**, *.ini). 2.0.0 changes 20 files, removes 5 (a whole folder
// among them), adds 5 (one of them preserved, in a new folder) and also
// changes four preserved files: a preserved file overwritten shows.
func folderRelease(version string) map[string][]byte {
	files := map[string][]byte{
		"buh.exe":                 []byte("#!/bin/sh\necho buh 1.0.0\n"),
		"data/company.db":         []byte("the vendor's empty database 1.0.0"),
		"data/архив/2023.db":      []byte("archive 2023, vendor 1.0.0"),
		"data/шаблони/клиенти.db": []byte("clients template 1.0.0"),
		"settings.ini":            []byte("[defaults]\nversion=1.0.0\n"),
		"config/потребител.ini":   []byte("[user]\nversion=1.0.0\n"),
		"печат.ini":               []byte("[print]\nversion=1.0.0\n"),
		"помощ/Справка.txt":       []byte("Помощ за версия 1.0.0\n"),
		"стари/модул-1.txt":       []byte("old module 1"),
		"стари/модул-2.txt":       []byte("old module 2"),
		"стари/модул-3.txt":       []byte("old module 3"),
		"lib/core.dll":            filler("core 1.0.0", 192<<10),
		"lib/legacy.dll":          filler("legacy", 9000),
	}
	dirs := []string{"lib", "lib/печат", "шаблони", "помощ", "помощ/bg", "помощ/en", "ресурси/икони", "ресурси/звуци", "отчети/годишни", "отчети/месечни"}
	for i := 0; len(files) < 200; i++ {
		dir := dirs[i%len(dirs)]
		var name string
		switch dir {
		case "шаблони":
			name = fmt.Sprintf("фактура-%d.rpt", i)
		case "помощ/bg", "помощ/en":
			name = fmt.Sprintf("глава-%d.txt", i)
		default:
			name = fmt.Sprintf("файл-%03d.bin", i)
		}
		p := dir + "/" + name
		files[p] = filler(p+" 1.0.0", 200+(i*7919)%12000)
	}
	if version == "1.0.0" {
		return files
	}
	// Each change keeps its content unique, so every changed file is one
	// download (one folder-fetched hit).
	for _, p := range changedIn2() {
		switch p {
		case "buh.exe":
			files[p] = []byte("#!/bin/sh\necho buh 2.0.0\nexit 0\n")
		default:
			files[p] = append([]byte("2.0.0 of "+p+"\n"), files[p]...)
		}
	}
	for _, p := range removedIn2 {
		delete(files, p)
	}
	for _, p := range addedIn2 {
		files[p] = filler("added in 2.0.0: "+p, 3000+len(p))
	}
	for _, p := range preservedChangedIn2 {
		files[p] = append(files[p], []byte("\n; the vendor's 2.0.0 default\n")...)
	}
	return files
}

// The differences between 1.0.0 and 2.0.0.
var (
	removedIn2          = []string{"стари/модул-1.txt", "стари/модул-2.txt", "стари/модул-3.txt", "lib/legacy.dll", "lib/печат/файл-001.bin"}
	addedIn2            = []string{"lib/нов/добавен-1.dll", "lib/нов/добавен-2.dll", "помощ/en/Нова функция.txt", "шаблони/фактура-нова.rpt", "data/нови/образец.db"}
	preservedChangedIn2 = []string{"data/company.db", "data/архив/2023.db", "settings.ini", "config/потребител.ini"}
)

// changedIn2 are the 20 files 2.0.0 changes, none of them preserved.
func changedIn2() []string {
	out := []string{"buh.exe", "lib/core.dll", "помощ/Справка.txt"}
	v1 := slices.Sorted(maps.Keys(folderRelease("1.0.0")))
	dirs := []string{"шаблони", "lib/печат", "ресурси/икони", "помощ/bg", "отчети/годишни"}
	for i := 0; len(out) < 20; i++ {
		for _, p := range v1 {
			if strings.HasPrefix(p, dirs[i%len(dirs)]+"/") && !slices.Contains(out, p) && !slices.Contains(removedIn2, p) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// filler is size bytes starting with head, the rest a pattern, so a
// torn file shows.
func filler(head string, size int) []byte {
	return artifact(head+"\n", max(size, len(head)+1))
}

// preserved is the releases' --preserve: data/** and *.ini.
func preserved(p string) bool {
	return strings.HasPrefix(p, "data/") || strings.HasSuffix(p, ".ini")
}

// newFolderFixture publishes buh 1.0.0, activates the Pro code with
// updates paid updates and the install code, then publishes 2.0.0 in a
// later second (publish times are kept in seconds, and a release
// published at or before the activation is one the code may install).
// The server is not started.
func newFolderFixture(t *testing.T, updates int) *folderFixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{
		ctx: t.Context(), dir: dir,
		data:  filepath.Join(dir, "srv"),
		trust: filepath.Join(dir, "srv", "trust.json"),
		state: filepath.Join(dir, "state"),
	}
	f.states = []string{f.state}
	t.Cleanup(f.stopServer)
	ff := &folderFixture{fixture: f, v1: folderRelease("1.0.0"), v2: folderRelease("2.0.0"), custom: map[string]map[string][]byte{}}
	ff.publish(t, "1.0.0", ff.v1)
	ff.code = ff.activate(t, "Acme", updates)
	ff.installCode = ff.activate(t, "Acme Installs", 1)
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
	ff.publish(t, "2.0.0", ff.v2)
	return ff
}

func (ff *folderFixture) publish(t *testing.T, version string, files map[string][]byte) {
	t.Helper()
	src := filepath.Join(ff.dir, "src-"+version)
	writeFiles(t, src, files)
	if err := os.Chmod(filepath.Join(src, "buh.exe"), 0o755); err != nil {
		t.Fatal(err)
	}
	ff.aktualdOK(t, "release", "publish", "--product", folderProduct, "--series", "pro", "--version", version,
		"--dir", src, "--preserve", "data/**", "--preserve", "*.ini", "--main", "buh.exe")
}

// activate makes a Pro code for customer (one code a customer: a second
// activation adds updates to the first).
func (ff *folderFixture) activate(t *testing.T, customer string, updates int) string {
	t.Helper()
	p := ff.aktualdOK(t, "--json", "admin", "activate", "--customer", customer, "--series", "pro", "--updates", strconv.Itoa(updates))
	var act struct{ Code string }
	if err := json.Unmarshal([]byte(p.stdout), &act); err != nil || act.Code == "" {
		t.Fatalf("no code in the activation's output (%v):\n%s", err, p)
	}
	return act.Code
}

func writeFiles(t testing.TB, root string, files map[string][]byte) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// newFolder is the path of a fresh program folder (not yet created).
func (ff *folderFixture) newFolder() string {
	d := filepath.Join(ff.dir, "folders", strconv.Itoa(len(ff.folders)), "Счетоводство")
	ff.folders = append(ff.folders, d)
	return d
}

// install runs aktual install of buh into dir with the install code.
func (ff *folderFixture) install(dir, state string) proc {
	return run(ff.ctx, "", aktualBin, "install", "--server", ff.url, "--trust", ff.trust,
		"--product", folderProduct, "--dir", dir, "--code", ff.installCode, "--yes", "--json", "--state-dir", state)
}

// folderUpdateArgs are the arguments of aktual update of the folder dir.
func (ff *folderFixture) folderUpdateArgs(dir, state string) []string {
	return []string{"update", "--server", ff.url, "--trust", ff.trust,
		"--product", folderProduct, "--target", dir, "--code", ff.code,
		"--yes", "--json", "--state-dir", state}
}

// startFolderUpdate starts aktual update of dir, armed with step at its
// count-th hit when step is set.
func (ff *folderFixture) startFolderUpdate(dir, state, step string, count int) *running {
	var extra []string
	if step != "" && count > 1 {
		extra = []string{"AKTUAL_FAULT_COUNT=" + strconv.Itoa(count)}
	}
	return startEnv(ff.ctx, extra, step, aktualBin, ff.folderUpdateArgs(dir, state)...)
}

func (ff *folderFixture) updateFolder(dir, state string) proc {
	return ff.startFolderUpdate(dir, state, "", 0).wait()
}

// customise is what the customer does after the install: their books in
// data/company.db, their settings, and files of their own that no
// manifest names (one in a folder 2.0.0 empties of the program's files).
func (ff *folderFixture) customise(t testing.TB, dir string) {
	t.Helper()
	n := filepath.Base(filepath.Dir(dir))
	c := map[string][]byte{
		"data/company.db": []byte("книгите на клиента, папка " + n + "\n"),
		"settings.ini":    []byte("[printer]\nname=Lexmark " + n + "\n"),
		"моите/бележки за " + n + ".txt": []byte("the customer's own notes\n"),
		"стари/моя справка.txt":          []byte("the customer's own file among the old modules\n"),
	}
	writeFiles(t, dir, c)
	ff.custom[dir] = c
}
