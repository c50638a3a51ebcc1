package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// KindFolder marks a release whose artifact is a folder's manifest
// (ReleaseStatement.Kind): the signed sha256 and size are the manifest's,
// and the manifest names every file by its own sha256.
const KindFolder = "folder"

// Bounds of a folder release: what a client reads before it trusts more.
const (
	MaxManifestSize  = 32 << 20 // bytes of manifest JSON
	MaxManifestFiles = 100_000
	MaxPathBytes     = 1024 // a whole relative path, in UTF-8
	maxComponent     = 255  // one name, in UTF-8 bytes (NTFS, ext4, APFS)
	maxPreserve      = 64   // --preserve patterns
)

// File modes a manifest may give: a plain file, or an executable one.
const (
	ModeFile       uint32 = 0o644
	ModeExecutable uint32 = 0o755
)

// Manifest is the signed content of a folder release: every file of the
// program folder, the customer's paths (Preserve), and the program (Main).
// It is stored and served as an artifact named by its sha256, which the
// release statement signs, so every byte installed is covered by the
// release key's signature.
type Manifest struct {
	Product string `json:"product"`
	Version string `json:"version"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
	// Main is the program: the file the health check runs and shortcuts
	// point at ("" for a folder with no program).
	Main string `json:"main,omitempty"`
	// Preserve are the customer's paths (patterns, see MatchPreserve):
	// files matching them are shipped for a first install and never
	// overwritten or removed by an update or an uninstall without purge.
	Preserve []string       `json:"preserve,omitempty"`
	Files    []ManifestFile `json:"files"`
}

// ManifestFile is one file of a folder release. Path is relative,
// slash-separated and NFC-normalised; directories are implied by paths.
type ManifestFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Mode   uint32 `json:"mode"`
	// Patches turn an earlier version of the file (From, the sha256 of
	// its content) into this one with fewer bytes to download. They save
	// bytes, nothing more: the client keeps a patch's output only if it
	// is SHA256 and Size, and downloads the file whole otherwise.
	Patches []FilePatch `json:"patches,omitempty"`
}

// FilePatch is a patch from an earlier content of a file, served as the
// artifact SHA256 (Size bytes) in Format (PatchBSDiff).
type FilePatch struct {
	From   string `json:"from"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Format string `json:"format"`
}

// maxFilePatches bounds the patches of one file (one per earlier version
// the server diffs against).
const maxFilePatches = 8

// TotalSize is the sum of the files' sizes.
func (m *Manifest) TotalSize() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}

// Lookup returns the file at path p (exactly as written in the manifest).
func (m *Manifest) Lookup(p string) (ManifestFile, bool) {
	i := sort.Search(len(m.Files), func(i int) bool { return m.Files[i].Path >= p })
	if i < len(m.Files) && m.Files[i].Path == p {
		return m.Files[i], true
	}
	return ManifestFile{}, false
}

// Preserved reports whether p is one of the customer's paths.
func (m *Manifest) Preserved(p string) bool {
	for _, pat := range m.Preserve {
		if MatchPreserve(pat, p) {
			return true
		}
	}
	return false
}

// Normalize sorts the files by path, the order Validate requires and
// Lookup relies on.
func (m *Manifest) Normalize() {
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
}

// DecodeManifest parses and validates a manifest: strict JSON, then every
// rule of Validate. A client calls it on bytes whose sha256 it checked
// against the signed release; it still refuses a hostile manifest.
func DecodeManifest(data []byte) (*Manifest, error) {
	if len(data) > MaxManifestSize {
		return nil, fmt.Errorf("the manifest is %d bytes; at most %d", len(data), MaxManifestSize)
	}
	var m Manifest
	if err := DecodeStrict(data, &m); err != nil {
		return nil, fmt.Errorf("the manifest is not valid JSON: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks every rule a folder release obeys: each path by
// CheckPath, sorted and unique, no two paths the same but for case or
// Unicode form, no file where another path needs a folder, hashes and
// modes well formed, Main one of the files and not preserved, patterns
// well formed.
func (m *Manifest) Validate() error {
	switch {
	case !ValidName(m.Product) || !ValidName(m.OS) || !ValidName(m.Arch):
		return errors.New("the manifest's product, os or arch is missing or malformed")
	case CheckVersion(m.Version) != nil:
		return fmt.Errorf("the manifest's version %q is malformed", m.Version)
	case len(m.Files) == 0:
		return errors.New("the manifest lists no files")
	case len(m.Files) > MaxManifestFiles:
		return fmt.Errorf("the manifest lists %d files; at most %d", len(m.Files), MaxManifestFiles)
	case len(m.Preserve) > maxPreserve:
		return fmt.Errorf("%d --preserve patterns; at most %d", len(m.Preserve), maxPreserve)
	}
	for _, pat := range m.Preserve {
		if err := CheckPreserve(pat); err != nil {
			return err
		}
	}
	folded := make(map[string]string, len(m.Files))
	for i, f := range m.Files {
		if err := checkFile(f); err != nil {
			return err
		}
		if i > 0 && m.Files[i-1].Path >= f.Path {
			return fmt.Errorf("the manifest's files are not sorted and unique at %q", f.Path)
		}
		key := FoldPath(f.Path)
		if other, dup := folded[key]; dup {
			return fmt.Errorf("%q and %q differ only in case: Windows and macOS would make them one file", other, f.Path)
		}
		folded[key] = f.Path
	}
	// A file cannot also be a folder of another path ("a" and "a/b"), and
	// a folder is written one way ("Data/a" and "data/b" would be two
	// folders on Linux, one on Windows and macOS).
	dirs := map[string]string{}
	for _, f := range m.Files {
		for dir := path.Dir(f.Path); dir != "."; dir = path.Dir(dir) {
			key := FoldPath(dir)
			if other, clash := folded[key]; clash {
				return fmt.Errorf("%q is a file, but %q needs a folder of that name", other, f.Path)
			}
			if other, seen := dirs[key]; seen && other != dir {
				return fmt.Errorf("folders %q and %q differ only in case: Windows and macOS would make them one folder", other, dir)
			} else if seen {
				break // its parents were checked with it
			}
			dirs[key] = dir
		}
	}
	if m.Main != "" {
		if _, ok := m.Lookup(m.Main); !ok {
			return fmt.Errorf("--main %q is not a file of the folder", m.Main)
		}
		if m.Preserved(m.Main) {
			return fmt.Errorf("--main %q matches a --preserve pattern: the program must be updated", m.Main)
		}
	}
	return nil
}

func checkFile(f ManifestFile) error {
	if err := CheckPath(f.Path); err != nil {
		return err
	}
	switch {
	case !isHex64(f.SHA256):
		return fmt.Errorf("%q: sha256 %q is not 64 lowercase hex digits", f.Path, f.SHA256)
	case f.Size < 0:
		return fmt.Errorf("%q: negative size", f.Path)
	case f.Mode != ModeFile && f.Mode != ModeExecutable:
		return fmt.Errorf("%q: mode %o is neither 644 nor 755", f.Path, f.Mode)
	case len(f.Patches) > maxFilePatches:
		return fmt.Errorf("%q: %d patches; at most %d", f.Path, len(f.Patches), maxFilePatches)
	}
	for _, p := range f.Patches {
		switch {
		case !isHex64(p.From) || !isHex64(p.SHA256) || p.From == f.SHA256:
			return fmt.Errorf("%q: a patch names a malformed sha256", f.Path)
		case p.Size <= 0 || p.Format != PatchBSDiff:
			return fmt.Errorf("%q: a patch has no size or an unknown format %q", f.Path, p.Format)
		}
	}
	return nil
}

// SHA256Hex is the lowercase hex SHA-256 of data: how a manifest, like
// every artifact, is named.
func SHA256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// FoldPath is the key two paths collide under on a case-insensitive file
// system (NTFS, APFS by default): NFC, then lower case.
func FoldPath(p string) string { return strings.ToLower(norm.NFC.String(p)) }

// CheckPath checks one relative path of a folder release: valid UTF-8 in
// NFC, slash-separated, not absolute, no empty, "." or ".." component, no
// backslash, colon or other character Windows forbids, no control
// character, no name Windows reserves (CON, aux.txt, COM1 …), no name
// ending in a dot or a space, and within the length bounds. The same rules
// run when staff publish and when a customer installs.
func CheckPath(p string) error {
	switch {
	case p == "":
		return errors.New("an empty path")
	case len(p) > MaxPathBytes:
		return fmt.Errorf("path %.40q… is %d bytes long; at most %d", p, len(p), MaxPathBytes)
	case !utf8.ValidString(p):
		return fmt.Errorf("path %q is not valid UTF-8", p)
	case !norm.NFC.IsNormalString(p):
		return fmt.Errorf("path %q is not in Unicode NFC form (publish normalises names; this one was changed after)", p)
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("path %q is absolute", p)
	}
	for _, name := range strings.Split(p, "/") {
		if err := checkName(name); err != nil {
			return fmt.Errorf("path %q: %w", p, err)
		}
	}
	return nil
}

func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("an empty name (a doubled or trailing /)")
	case name == "." || name == "..":
		return fmt.Errorf("%q leads out of its folder", name)
	case len(name) > maxComponent:
		return fmt.Errorf("a name of %d bytes; at most %d", len(name), maxComponent)
	case strings.HasSuffix(name, ".") || strings.HasSuffix(name, " "):
		return fmt.Errorf("%q ends in a dot or a space, which Windows drops", name)
	case reservedOnWindows(name):
		return fmt.Errorf("%q is a device name Windows reserves", name)
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f || strings.ContainsRune(`\:*?"<>|`, c) {
			return fmt.Errorf("%q holds %q, which Windows does not allow in a name", name, c)
		}
	}
	return nil
}

// reservedOnWindows: CON, PRN, AUX, NUL, COM0-9, LPT0-9 (and their
// superscript digits), CONIN$, CONOUT$, with or without an extension, in
// any case, with trailing spaces before the extension.
func reservedOnWindows(name string) bool {
	base := name
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) >= 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) {
		switch rest := base[3:]; rest {
		case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
			return true
		}
	}
	return false
}

// CheckPreserve checks a --preserve pattern: a relative slash-separated
// pattern whose names are path.Match patterns or "**".
func CheckPreserve(pat string) error {
	if pat == "" || len(pat) > MaxPathBytes || strings.HasPrefix(pat, "/") || strings.Contains(pat, `\`) {
		return fmt.Errorf("--preserve %q: give a relative pattern with / between names, like data/** or *.ini", pat)
	}
	if strings.Count(pat, "**") > 4 {
		return fmt.Errorf("--preserve %q: at most four ** in a pattern", pat)
	}
	for _, part := range strings.Split(pat, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("--preserve %q: empty, . and .. names are not allowed", pat)
		}
		if _, err := path.Match(part, ""); err != nil {
			return fmt.Errorf("--preserve %q: %v", pat, err)
		}
	}
	return nil
}

// MatchPreserve reports whether the relative path p matches the preserve
// pattern pat. Names are compared without regard to case (the customer's
// Windows does not tell SETTINGS.INI from settings.ini). A pattern with no
// "/" matches a file's name at any depth (*.ini); one with "/" matches
// from the folder's root, where "**" stands for any number of names
// (data/** is everything under data, data itself included when it is a
// file).
func MatchPreserve(pat, p string) bool {
	pat, p = FoldPath(pat), FoldPath(p)
	if !strings.Contains(pat, "/") {
		ok, _ := path.Match(pat, path.Base(p))
		return ok
	}
	return matchParts(strings.Split(pat, "/"), strings.Split(p, "/"))
}

func matchParts(pat, names []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(names); i++ {
				if matchParts(pat[1:], names[i:]) {
					return true
				}
			}
			return false
		}
		if len(names) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], names[0]); !ok {
			return false
		}
		pat, names = pat[1:], names[1:]
	}
	return len(names) == 0
}
