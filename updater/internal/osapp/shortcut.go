package osapp

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf16"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/durable"
	"github.com/aktual/aktual/updater/internal/kind"
)

// A shortcut is written as a Shell Link file ([MS-SHLLINK]) without COM:
// a ShellLinkHeader, a LinkInfo whose LocalBasePath Explorer resolves the
// target by, the strings, and the terminal block. There is no
// LinkTargetIDList: its shell items are undocumented, and Windows builds
// one from LinkInfo when it resolves the link.

// Shell Link constants ([MS-SHLLINK] 2.1, 2.1.1, 2.3).
const (
	headerSize = 0x4C

	flagHasLinkInfo     = 0x00000002
	flagHasName         = 0x00000004
	flagHasRelativePath = 0x00000008
	flagHasWorkingDir   = 0x00000010
	flagIsUnicode       = 0x00000080

	swShowNormal = 1

	linkInfoHeaderSize       = 0x24 // with the Unicode offsets, for non-ASCII paths
	volumeIDAndLocalBasePath = 0x1
	volumeIDSize             = 0x11 // the four fields and an empty label
	driveFixed               = 3

	maxStringChars = 1 << 15 // far above MAX_PATH and INFOTIPSIZE; a count is a uint16
)

// linkCLSID is 00021401-0000-0000-C000-000000000046 as stored: the first
// three fields little-endian.
var linkCLSID = [16]byte{0x01, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}

// shortcut is what a .lnk says. Target is a Windows path with a drive
// letter (C:\...); the rest may be empty.
type shortcut struct {
	Target       string
	RelativePath string // Target from the .lnk's folder: Windows' fallback when the drive's letter changed
	WorkingDir   string
	Description  string // the tooltip (NAME_STRING)
	DriveType    uint32 // of Target's volume: DRIVE_FIXED unless told
	DriveSerial  uint32
}

// encodeShortcut is the .lnk file of s.
func encodeShortcut(s shortcut) ([]byte, error) {
	if !isDrivePath(s.Target) {
		return nil, fail(kind.ErrUsage, nil, "cannot make a shortcut to %s: only a program on a drive with a letter (such as C:\\) can be the target of a shortcut", s.Target)
	}
	flags := uint32(flagHasLinkInfo | flagIsUnicode)
	var strs [][]uint16
	for _, f := range []struct {
		flag uint32
		s    string
	}{ // in the order of [MS-SHLLINK] 2.4
		{flagHasName, s.Description},
		{flagHasRelativePath, s.RelativePath},
		{flagHasWorkingDir, s.WorkingDir},
	} {
		if f.s == "" {
			continue
		}
		u := utf16.Encode([]rune(f.s))
		if len(u) >= maxStringChars {
			return nil, fail(kind.ErrUsage, nil, "cannot make a shortcut: %d characters are too long for it (at most %d)", len(u), maxStringChars-1)
		}
		flags |= f.flag
		strs = append(strs, u)
	}

	le := binary.LittleEndian
	b := make([]byte, 0, 512)
	b = le.AppendUint32(b, headerSize)
	b = append(b, linkCLSID[:]...)
	b = le.AppendUint32(b, flags)
	b = le.AppendUint32(b, 0)          // FileAttributes
	b = append(b, make([]byte, 24)...) // creation, access, write times: unknown
	b = le.AppendUint32(b, 0)          // FileSize
	b = le.AppendUint32(b, 0)          // IconIndex
	b = le.AppendUint32(b, swShowNormal)
	b = append(b, make([]byte, 12)...) // HotKey, Reserved1-3

	b = appendLinkInfo(b, s)
	for _, u := range strs {
		b = le.AppendUint16(b, uint16(len(u)))
		for _, c := range u {
			b = le.AppendUint16(b, c)
		}
	}
	return le.AppendUint32(b, 0), nil // TerminalBlock: no ExtraData
}

// appendLinkInfo appends the LinkInfo of s: VolumeID, LocalBasePath in
// ANSI (non-ASCII as '?') and in UTF-16, and empty CommonPathSuffixes.
func appendLinkInfo(b []byte, s shortcut) []byte {
	ansi := make([]byte, 0, len(s.Target)+1)
	for _, r := range s.Target {
		if r >= 0x80 {
			r = '?'
		}
		ansi = append(ansi, byte(r))
	}
	ansi = append(ansi, 0)
	wide := append(utf16.Encode([]rune(s.Target)), 0)

	driveType := s.DriveType
	if driveType == 0 {
		driveType = driveFixed
	}
	volOff := uint32(linkInfoHeaderSize)
	baseOff := volOff + volumeIDSize
	suffixOff := baseOff + uint32(len(ansi))
	baseOffW := suffixOff + 1
	suffixOffW := baseOffW + 2*uint32(len(wide))
	size := suffixOffW + 2

	le := binary.LittleEndian
	for _, v := range []uint32{size, linkInfoHeaderSize, volumeIDAndLocalBasePath, volOff, baseOff, 0, suffixOff, baseOffW, suffixOffW} {
		b = le.AppendUint32(b, v)
	}
	for _, v := range []uint32{volumeIDSize, driveType, s.DriveSerial, 0x10} { // label at 0x10: empty
		b = le.AppendUint32(b, v)
	}
	b = append(b, 0)
	b = append(b, ansi...)
	b = append(b, 0)
	for _, c := range wide {
		b = le.AppendUint16(b, c)
	}
	return le.AppendUint16(b, 0)
}

// isDrivePath reports whether p is an absolute Windows path on a drive
// letter.
func isDrivePath(p string) bool {
	return len(p) >= 3 && ('a' <= p[0]|0x20 && p[0]|0x20 <= 'z') && p[1] == ':' && (p[2] == '\\' || p[2] == '/')
}

// relativeTarget is target from the folder dir as Windows writes a
// RelativePath (.\x, ..\y\x), or "" when they are on different drives or
// either is not a drive path. Windows compares names without case.
func relativeTarget(dir, target string) string {
	if !isDrivePath(dir) || !isDrivePath(target) || !strings.EqualFold(dir[:1], target[:1]) {
		return ""
	}
	split := func(p string) []string {
		var out []string
		for _, e := range strings.FieldsFunc(p[2:], func(r rune) bool { return r == '\\' || r == '/' }) {
			if e != "." {
				out = append(out, e)
			}
		}
		return out
	}
	d, t := split(dir), split(target)
	n := 0
	for n < len(d) && n < len(t)-1 && strings.EqualFold(d[n], t[n]) {
		n++
	}
	parts := []string{"."}
	if n < len(d) {
		parts = parts[:0]
		for range d[n:] {
			parts = append(parts, "..")
		}
	}
	return strings.Join(append(parts, t[n:]...), `\`)
}

// CreateShortcut writes a shortcut at lnkPath (a .lnk file) that starts
// target in workDir, with description as its tooltip. The file appears
// whole or not at all, replacing one there. target must be a path on a
// drive with a letter. Callers put it in StartMenuDir, which only Windows
// has; elsewhere they make no shortcut.
func CreateShortcut(lnkPath, target, workDir, description string) error {
	s := shortcut{
		Target:       target,
		RelativePath: relativeTarget(filepath.Dir(lnkPath), target),
		WorkingDir:   workDir,
		Description:  description,
	}
	s.DriveType, s.DriveSerial = volumeOf(target)
	b, err := encodeShortcut(s)
	if err != nil {
		return err
	}
	if err := durable.WriteFile(lnkPath, b); err != nil {
		return i18n.Errorf("cannot write the shortcut %s: %w", lnkPath, err)
	}
	return nil
}

// RemoveShortcut removes the shortcut at lnkPath; one already gone is no
// error.
func RemoveShortcut(lnkPath string) error {
	if err := os.Remove(lnkPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return i18n.Errorf("cannot remove the shortcut %s: %w", lnkPath, err)
	}
	return nil
}
