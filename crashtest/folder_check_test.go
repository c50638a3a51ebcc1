package crashtest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// expectedFolder is what the folder dir must hold at version (1.0.0 or
// 2.0.0): that release's files, but every preserved file the install
// put there as the install left it (or as the customer changed it), a
// preserved file new in 2.0.0 as shipped, and the customer's own files.
func (ff *folderFixture) expectedFolder(dir, version string) map[string][]byte {
	src := ff.v1
	if version == "2.0.0" {
		src = ff.v2
	}
	want := maps.Clone(src)
	for p := range want {
		if c, ok := ff.v1[p]; ok && preserved(p) {
			want[p] = c
		}
	}
	maps.Copy(want, ff.custom[dir])
	return want
}

// readFolder is every file under root (path → content) and every folder
// (relative, slash-separated); anything else (a link) is reported.
func readFolder(root string) (files map[string][]byte, dirs []string, odd []string, err error) {
	files = map[string][]byte{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == ".":
			return nil
		case d.IsDir():
			dirs = append(dirs, rel)
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files[rel] = b
		default:
			odd = append(odd, rel)
		}
		return nil
	})
	return files, dirs, odd, err
}

// diffFolder lists how got differs from want, at most limit lines, and
// the number of differences.
func diffFolder(got, want map[string][]byte, limit int) (int, []string) {
	var lines []string
	n := 0
	add := func(format string, args ...any) {
		n++
		if len(lines) < limit {
			lines = append(lines, fmt.Sprintf(format, args...))
		}
	}
	for _, p := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[p]
		switch {
		case !ok:
			add("%s missing", p)
		case !bytes.Equal(g, want[p]):
			add("%s differs (%d bytes, want %d)", p, len(g), len(want[p]))
		}
	}
	for _, p := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[p]; !ok {
			add("%s is in no version (stray)", p)
		}
	}
	return n, lines
}

// folderVersion says which version the folder dir holds exactly, "" when
// neither, with every problem found: a torn or mixed folder, a preserved
// or own file of the customer's changed, a stray file or an empty folder
// of the program's left inside, buh.exe without its mode.
func (ff *folderFixture) folderVersion(dir string) (string, []problem) {
	var bad []problem
	add := func(key, format string, args ...any) {
		bad = append(bad, problem{key, fmt.Sprintf(format, args...)})
	}
	got, dirs, odd, err := readFolder(dir)
	if err != nil {
		add("read:"+dir, "reading %s: %v", dir, err)
		return "", bad
	}
	for _, o := range odd {
		add("odd:"+dir+"/"+o, "%s in %s is not a regular file or folder", o, dir)
	}
	version := ""
	best, bestLines, bestVersion := -1, []string(nil), ""
	for _, v := range []string{"1.0.0", "2.0.0"} {
		n, lines := diffFolder(got, ff.expectedFolder(dir, v), 12)
		if n == 0 {
			version = v
			break
		}
		if best < 0 || n < best {
			best, bestLines, bestVersion = n, lines, v
		}
	}
	if version == "" {
		add("torn:"+dir, "%s is neither 1.0.0 nor 2.0.0 exactly: %d differences from %s, the nearer:\n    %s",
			dir, best, bestVersion, strings.Join(bestLines, "\n    "))
		return "", bad
	}
	parents := map[string]bool{}
	for p := range got {
		for d := filepath.ToSlash(filepath.Dir(p)); d != "."; d = filepath.ToSlash(filepath.Dir(d)) {
			parents[d] = true
		}
	}
	for _, d := range dirs {
		if !parents[d] {
			add("emptydir:"+dir+"/"+d, "an empty folder %s is left in %s (at %s)", d, dir, version)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "buh.exe")); err != nil || fi.Mode().Perm() != 0o755 {
		add("mode:"+dir, "buh.exe in %s: mode %v (%v), want 0755", dir, fi.Mode(), err)
	}
	return version, bad
}

// workDir is the update's work folder beside the program folder dir.
func workDir(dir string) string {
	return filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".aktual-work")
}

// workLeft says what is left in the work folder of dir: a switch plan or
// old files moved aside (a switch not settled: always a problem), and
// the files of the stage (a stage no journal names).
func workLeft(dir string) (unsettled []string, staged int) {
	w := workDir(dir)
	if _, err := os.Lstat(filepath.Join(w, "switch.json")); err == nil {
		unsettled = append(unsettled, "switch.json")
	}
	count := func(sub string) int {
		n := 0
		_ = filepath.WalkDir(filepath.Join(w, sub), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return nil
		})
		return n
	}
	if n := count("old"); n > 0 {
		unsettled = append(unsettled, fmt.Sprintf("%d files in old/", n))
	}
	return unsettled, count("stage")
}

// folderCheck is the invariant over the folder fixture once every run
// has ended and recovery ran with the server up. versions caches each
// folder's version (a folder checked once is changed by no later round;
// the final check reads them all again); folders are read again. Over
// the Pro code: consumed is the number of folders at 2.0.0 (timed
// included), nothing held, balanced, no overdraft, the audit clean; the
// install code untouched; no journal left.
func (ff *folderFixture) folderCheck(versions map[string]string, folders []string, wantNew bool) []problem {
	var bad []problem
	add := func(key, format string, args ...any) {
		bad = append(bad, problem{key, fmt.Sprintf(format, args...)})
	}
	for _, d := range folders {
		v, ps := ff.folderVersion(d)
		versions[d] = v
		bad = append(bad, ps...)
		if unsettled, staged := workLeft(d); len(unsettled) > 0 {
			add("work:"+d, "the work folder of %s holds an unsettled switch: %s", d, strings.Join(unsettled, ", "))
		} else if wantNew && v == "2.0.0" {
			if _, err := os.Lstat(workDir(d)); !errors.Is(err, fs.ErrNotExist) {
				add("workleft:"+d, "%s is at 2.0.0 but its work folder is still there (%d staged files)", d, staged)
			}
		}
	}
	for _, j := range leftJournals(ff.state) {
		add("journal:"+j.path, "journal left: %s (target %s, state %q)", j.path, j.Target, j.State)
	}
	if p := ff.aktuald("admin", "audit"); !p.exited(0) {
		add("audit", "the audit fails: %s", p)
	}
	st, err := ff.show()
	if err != nil {
		add("show", "%v", err)
		return bad
	}
	var applied int64
	for _, v := range versions {
		if v == "2.0.0" {
			applied++
		}
	}
	if st.Consumed != applied {
		add(fmt.Sprintf("consumed-applied=%d", st.Consumed-applied), "consumed %d but %d folders are at 2.0.0 (%v)", st.Consumed, applied, st)
	}
	if st.Held != 0 {
		add(fmt.Sprintf("held=%d", st.Held), "%d held after recovery (%v)", st.Held, st)
	}
	if d := st.Purchased - (st.Remaining + st.Held + st.Consumed); d != 0 {
		add(fmt.Sprintf("unbalanced=%d", d), "purchased != remaining + held + consumed (%v)", st)
	}
	if st.Overdraft != 0 {
		add(fmt.Sprintf("overdraft=%d", st.Overdraft), "overdraft recorded (%v)", st)
	}
	if ist, err := ff.showCode(ff.installCode); err != nil {
		add("show-install", "%v", err)
	} else if ist.Consumed != 0 || ist.Held != 0 || ist.Remaining != ist.Purchased {
		add("install-code", "the install code was used: %v; an install consumes nothing", ist)
	}
	return bad
}
