package hwkey

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Names of reference licence files: exactly LicenceFileName, or any name
// ending in LicenceFileExt. Matched ignoring case, as on Windows and macOS.
const (
	LicenceFileName = "aktual.licence"
	LicenceFileExt  = ".aktual-licence"
)

// MaxDirEntries bounds how many entries of one folder FileDriver reads: a
// removable disk's root can be huge, and a licence sits near the top.
const MaxDirEntries = 10000

// FileDriver finds reference keys: licence files in the target's folder and
// at the root of removable media. It does not descend into subfolders.
type FileDriver struct {
	// Roots lists removable-media roots to scan; nil means the platform's
	// defaults (linux: /media/*, /media/*/*, /run/media/*/*, /mnt/*;
	// macOS: /Volumes/*; Windows: the drive letters D:\ to Z:\ that exist).
	Roots []string
}

// Name is "licence file".
func (FileDriver) Name() string { return "licence file" }

// IsLicenceFileName reports whether a file called name is taken for a
// reference licence file.
func IsLicenceFileName(name string) bool {
	lower := strings.ToLower(name)
	return lower == LicenceFileName ||
		(strings.HasSuffix(lower, LicenceFileExt) && len(lower) > len(LicenceFileExt))
}

// Find scans hint.TargetDir, then each removable-media root.
func (d FileDriver) Find(ctx context.Context, hint Hint) ([]Key, []string, error) {
	var dirs []string
	if hint.TargetDir != "" {
		dirs = append(dirs, hint.TargetDir)
	}
	roots, where := d.Roots, ""
	if roots == nil {
		roots, where = defaultRoots()
	}
	dirs = append(dirs, roots...)

	var keys []Key
	var looked []string
	seen := map[string]bool{}
	for _, dir := range dirs {
		if err := ctx.Err(); err != nil {
			return nil, looked, err
		}
		dir = filepath.Clean(dir)
		if seen[dir] {
			continue
		}
		seen[dir] = true
		found, notes := scanDir(dir)
		keys = append(keys, found...)
		looked = append(looked, notes...)
	}
	if len(roots) == 0 && where != "" {
		looked = append(looked, "removable media (none mounted at "+where+")")
	}
	return keys, looked, nil
}

// scanDir reads the licence files directly in dir. notes names dir and,
// for each file that could not be used, why.
func scanDir(dir string) (keys []Key, notes []string) {
	names, err := licenceFileNames(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if fi, serr := os.Stat(dir); serr == nil && !fi.IsDir() {
			// Windows answers "path not found" for a file listed as a
			// folder: it is there, but it is not a folder.
			err = fmt.Errorf("%s is a file, not a folder", dir)
		}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, []string{dir + " (no such folder)"}
	case err != nil:
		return nil, []string{fmt.Sprintf("%s (cannot be read: %v)", dir, unwrapPath(err))}
	}
	notes = []string{dir}
	for _, name := range names {
		path := filepath.Join(dir, name)
		k, err := readFile(path)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s (not a usable licence file: %v)", path, unwrapPath(err)))
			continue
		}
		keys = append(keys, k)
	}
	return keys, notes
}

// licenceFileNames lists dir's entries named like licence files, sorted,
// reading at most MaxDirEntries entries.
func licenceFileNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var names []string
	for read := 0; read < MaxDirEntries; {
		batch, err := f.ReadDir(min(256, MaxDirEntries-read))
		read += len(batch)
		for _, e := range batch {
			// Regular files and links to them; ReadFile checks the target.
			if (e.Type().IsRegular() || e.Type()&fs.ModeSymlink != 0) && IsLicenceFileName(e.Name()) {
				names = append(names, e.Name())
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(batch) == 0 {
			break
		}
	}
	slices.Sort(names)
	return names, nil
}

// unwrapPath drops the path an *fs.PathError repeats, since the message
// already names it.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
