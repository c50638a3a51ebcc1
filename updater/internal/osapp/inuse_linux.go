//go:build linux

package osapp

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// maxFDs bounds the open files read of one process: a server may hold a
// million sockets, none of them a program's file.
const maxFDs = 1 << 16

// InUse returns the processes that run any of files, map them (shared
// libraries) or hold them open, from /proc. Processes it may not read
// (another user's, without root) are skipped: on Linux a running program
// does not stop its files being replaced, so callers only warn that it
// keeps the old version until restarted.
func InUse(files []string) ([]Process, error) { return scan(files, true) }

// Running is InUse without the open files: the processes that run any of
// files or map them. It is what a warning that a running program keeps
// its old version needs, and it reads far less of /proc.
func Running(files []string) ([]Process, error) { return scan(files, false) }

func scan(files []string, openFiles bool) ([]Process, error) {
	if err := checkCount(files); err != nil {
		return nil, err
	}
	want := fileSet(files)
	if len(want) == 0 {
		return nil, nil
	}
	d, err := os.Open("/proc")
	if err != nil {
		return nil, inUseError(err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, inUseError(err)
	}
	self := os.Getpid()
	var found []Process
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil || pid == self {
			continue
		}
		if p, ok := procUses(pid, want, openFiles); ok {
			found = append(found, p)
			if len(found) == maxFound {
				break
			}
		}
	}
	return found, nil
}

// fileSet is files cleaned, and also with symbolic links resolved, since
// /proc names files by their real path.
func fileSet(files []string) map[string]bool {
	set := make(map[string]bool, len(files))
	for _, f := range files {
		f = filepath.Clean(f)
		set[f] = true
		if r, err := filepath.EvalSymlinks(f); err == nil {
			set[r] = true
		}
	}
	return set
}

// procUses reports whether process pid runs, maps or holds open a file
// of want, and says which process it is.
func procUses(pid int, want map[string]bool, openFiles bool) (Process, bool) {
	dir := "/proc/" + strconv.Itoa(pid)
	exe, _ := os.Readlink(dir + "/exe") // unreadable: another user's, or a kernel thread
	exe = strings.TrimSuffix(exe, " (deleted)")
	if !want[exe] && !mapsAny(dir+"/maps", want) && (!openFiles || !fdsAny(dir+"/fd", want)) {
		return Process{}, false
	}
	comm, _ := os.ReadFile(dir + "/comm") // gone meanwhile: a process without a name is still named by its PID
	return Process{PID: pid, Name: strings.TrimSpace(string(comm)), Path: exe}, true
}

// mapsAny reports whether a line of the maps file maps a file of want.
func mapsAny(path string, want map[string]bool) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		if p := mapsPath(sc.Text()); p != "" && want[p] {
			return true
		}
	}
	return false
}

// mapsPath is the file a line of /proc/PID/maps maps, or "": the sixth
// field, which may hold spaces, less the " (deleted)" of a replaced file.
func mapsPath(line string) string {
	rest := line
	for range 5 {
		rest = strings.TrimLeft(rest, " ")
		i := strings.IndexByte(rest, ' ')
		if i < 0 {
			return ""
		}
		rest = rest[i:]
	}
	rest = strings.TrimLeft(rest, " ")
	if !strings.HasPrefix(rest, "/") {
		return "" // anonymous, [heap], [stack], [vdso]
	}
	return strings.TrimSuffix(rest, " (deleted)")
}

// fdsAny reports whether one of the first maxFDs open files of a process
// is a file of want.
func fdsAny(dir string, want map[string]bool) bool {
	d, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer d.Close()
	for seen := 0; seen < maxFDs; {
		names, err := d.Readdirnames(1024)
		for _, n := range names {
			if l, err := os.Readlink(dir + "/" + n); err == nil && want[strings.TrimSuffix(l, " (deleted)")] {
				return true
			}
		}
		seen += len(names)
		if err != nil {
			return false
		}
	}
	return false
}
