package admin

import (
	"context"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/aktual/aktual/api"
)

// A folder release is read from a folder, a .zip or a .tar.gz: each file's
// bytes go straight into the blob store (nothing is unpacked to disk), and
// what the folder holds is checked as it is read and again as a whole
// (api.Manifest.Validate) before anything is recorded.

// maxFolderBytes bounds the bytes a folder release may unpack to: an
// archive that claims or holds more is a decompression bomb, or a mistake.
const maxFolderBytes = 64 << 30

// maxArchiveEntries bounds an archive's entries, folders included, before
// any is read.
const maxArchiveEntries = 2 * api.MaxManifestFiles

// folderFile is one file found, stored under sum.
type folderFile struct {
	name string // relative, slash-separated, as found (not yet NFC)
	exec bool
	sum  string
	size int64
}

// folderReader gathers a folder's files. put stores one file's bytes and
// returns their sha256 and size.
type folderReader struct {
	src   string // the --dir argument, for messages
	put   func(io.Reader) (string, int64, error)
	files []folderFile
	names map[string]bool // every entry's name as found, folders too
	dirs  []string        // an archive's folder entries (the top-folder rule)
	total int64
}

func newFolderReader(src string, put func(io.Reader) (string, int64, error)) *folderReader {
	return &folderReader{src: src, put: put, names: map[string]bool{}}
}

// errorf starts every refusal of what the folder holds with its name.
func (fr *folderReader) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: "+format, append([]any{fr.src}, args...)...)
}

// dir notes an archive's folder entry.
func (fr *folderReader) dir(name string) error {
	if fr.names[name+"/"] {
		return fr.errorf("the folder %q appears twice in the archive; make the archive again", name)
	}
	fr.names[name+"/"] = true
	fr.dirs = append(fr.dirs, name)
	return nil
}

// add stores one file. declared is the size its archive entry claims (-1
// when nothing claims one): the bytes must match it.
func (fr *folderReader) add(ctx context.Context, name string, exec bool, declared int64, r io.Reader) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case len(fr.files) >= api.MaxManifestFiles:
		return fr.errorf("more than %d files; a release holds at most that many (pack rarely changed files into archives of their own)", api.MaxManifestFiles)
	case fr.names[name]:
		return fr.errorf("%q appears twice; make the archive again with each file once", name)
	case declared > maxFolderBytes-fr.total:
		return fr.errorf("%q would unpack past %d GiB in all; a release folder is at most that large", name, maxFolderBytes>>30)
	}
	fr.names[name] = true
	budget := maxFolderBytes - fr.total
	sum, size, err := fr.put(&io.LimitedReader{R: r, N: budget + 1})
	switch {
	case err != nil:
		return fr.errorf("reading %q: %w", name, err)
	case size > budget:
		return fr.errorf("%q unpacks past %d GiB in all; a release folder is at most that large", name, maxFolderBytes>>30)
	case declared >= 0 && size != declared:
		return fr.errorf("%q holds %d bytes, but the archive says %d: the archive is damaged; make it again", name, size, declared)
	}
	fr.total += size
	fr.files = append(fr.files, folderFile{name: name, exec: exec, sum: sum, size: size})
	return nil
}

// manifestFiles turns the files found into the manifest's: the single top
// folder of an archive taken off (when strip), names in NFC, each checked
// by api.CheckPath. The rest of the rules (sorted, no case collision, no
// file where a folder must be) are Validate's, on the whole manifest.
func (fr *folderReader) manifestFiles(strip bool) ([]api.ManifestFile, error) {
	if len(fr.files) == 0 {
		return nil, fr.errorf("holds no files (empty folders are not published); give the program's folder")
	}
	top := ""
	if strip {
		top = fr.singleTop()
	}
	out := make([]api.ManifestFile, 0, len(fr.files))
	nfc := make(map[string]string, len(fr.files))
	for _, f := range fr.files {
		p := norm.NFC.String(strings.TrimPrefix(f.name, top))
		if err := api.CheckPath(p); err != nil {
			return nil, fr.errorf("%v; rename it and publish again", err)
		}
		if other, dup := nfc[p]; dup {
			return nil, fr.errorf("%q and %q are the same name written in two Unicode forms; keep one", other, f.name)
		}
		nfc[p] = f.name
		mode := api.ModeFile
		if f.exec {
			mode = api.ModeExecutable
		}
		out = append(out, api.ManifestFile{Path: p, Size: f.size, SHA256: f.sum, Mode: mode})
	}
	return out, nil
}

// singleTop is "name/" when every entry of the archive is under one top
// folder and nothing else is at the top, else "".
func (fr *folderReader) singleTop() string {
	top := ""
	for name := range fr.names {
		first, _, nested := strings.Cut(strings.TrimSuffix(name, "/"), "/")
		isDir := strings.HasSuffix(name, "/")
		switch {
		case !nested && !isDir:
			return "" // a file at the top
		case top == "":
			top = first
		case first != top:
			return ""
		}
	}
	if top == "" {
		return ""
	}
	return top + "/"
}

// archiveName checks and cleans an archive entry's name before it is used
// at all: a leading "./" is dropped, a folder's trailing "/" too (isDir).
// Names that would lead out of the folder where a careless tool unpacks
// them (zip-slip) are refused, as are names only Windows tools write.
func archiveName(raw string) (name string, isDir bool, err error) {
	name = raw
	for strings.HasPrefix(name, "./") {
		name = name[2:]
	}
	isDir = strings.HasSuffix(name, "/")
	name = strings.TrimRight(name, "/")
	switch {
	case strings.Contains(raw, `\`):
		return "", false, fmt.Errorf("the archive's entry %q has a backslash in its name; make the archive with a tool that writes / between names", raw)
	case strings.HasPrefix(raw, "/"):
		return "", false, fmt.Errorf("the archive's entry %q has an absolute name; make the archive from inside the folder", raw)
	case len(raw) >= 2 && raw[1] == ':':
		return "", false, fmt.Errorf("the archive's entry %q names a drive; make the archive from inside the folder", raw)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", false, fmt.Errorf("the archive's entry %q leads out of the folder (..); make the archive from inside the folder", raw)
		}
	}
	return name, isDir, nil
}

// refusal is an error whose text follows the name of what is refused.
func refusal(format string, args ...any) error { return fmt.Errorf(format, args...) }
