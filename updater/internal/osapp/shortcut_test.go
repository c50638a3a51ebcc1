package osapp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf16"
)

// lnk is what a test reads back from a .lnk file.
type lnk struct {
	flags                  uint32
	showCommand            uint32
	driveType, driveSerial uint32
	basePath, basePathW    string
	name, relPath, workDir string
}

// decodeShortcut reads b as [MS-SHLLINK] says, independently of the
// encoder: offsets are followed, not assumed.
func decodeShortcut(t *testing.T, b []byte) lnk {
	t.Helper()
	le := binary.LittleEndian
	u32 := func(off int) uint32 { return le.Uint32(b[off:]) }
	if len(b) < headerSize+4 || u32(0) != 0x4C {
		t.Fatalf("HeaderSize: % x", b[:min(4, len(b))])
	}
	clsid := []byte{0x01, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}
	if !bytes.Equal(b[4:20], clsid) {
		t.Fatalf("LinkCLSID % x, want 00021401-0000-0000-C000-000000000046", b[4:20])
	}
	l := lnk{flags: u32(20), showCommand: u32(60)}
	if l.flags&0x1 != 0 {
		t.Fatal("HasLinkTargetIDList set: the encoder writes none")
	}
	off := headerSize
	if l.flags&flagHasLinkInfo == 0 {
		t.Fatal("no LinkInfo")
	}
	li := b[off:]
	size, hdr, liFlags := le.Uint32(li), le.Uint32(li[4:]), le.Uint32(li[8:])
	if hdr < 0x24 || liFlags != 1 || le.Uint32(li[20:]) != 0 {
		t.Fatalf("LinkInfo header size %#x, flags %#x, network offset %d", hdr, liFlags, le.Uint32(li[20:]))
	}
	vol := li[le.Uint32(li[12:]):]
	if vs := le.Uint32(vol); vs <= 0x10 {
		t.Fatalf("VolumeIDSize %#x", vs)
	}
	l.driveType, l.driveSerial = le.Uint32(vol[4:]), le.Uint32(vol[8:])
	cstr := func(p []byte) string { return string(p[:bytes.IndexByte(p, 0)]) }
	wstr := func(p []byte) string {
		var u []uint16
		for i := 0; le.Uint16(p[i:]) != 0; i += 2 {
			u = append(u, le.Uint16(p[i:]))
		}
		return string(utf16.Decode(u))
	}
	l.basePath = cstr(li[le.Uint32(li[16:]):])
	if s := cstr(li[le.Uint32(li[24:]):]); s != "" {
		t.Errorf("CommonPathSuffix %q", s)
	}
	l.basePathW = wstr(li[le.Uint32(li[28:]):])
	if s := wstr(li[le.Uint32(li[32:]):]); s != "" {
		t.Errorf("CommonPathSuffixUnicode %q", s)
	}
	off += int(size)
	if l.flags&flagIsUnicode == 0 {
		t.Fatal("IsUnicode not set")
	}
	str := func(flag uint32, dst *string) {
		if l.flags&flag == 0 {
			return
		}
		n := int(le.Uint16(b[off:]))
		u := make([]uint16, n)
		for i := range u {
			u[i] = le.Uint16(b[off+2+2*i:])
		}
		*dst = string(utf16.Decode(u))
		off += 2 + 2*n
	}
	str(flagHasName, &l.name)
	str(flagHasRelativePath, &l.relPath)
	str(flagHasWorkingDir, &l.workDir)
	if off+4 != len(b) || u32(off) != 0 {
		t.Fatalf("after the strings: %d bytes of %d, want only the terminal block", off, len(b))
	}
	return l
}

func TestEncodeShortcut(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   shortcut
		want lnk
	}{
		{"all strings",
			shortcut{Target: `C:\Users\ana\AppData\Local\Programs\Acme\acme.exe`, RelativePath: `..\..\..\..\..\Local\Programs\Acme\acme.exe`,
				WorkingDir: `C:\Users\ana\AppData\Local\Programs\Acme`, Description: "Acme Books 7.2", DriveType: 3, DriveSerial: 0x1234abcd},
			lnk{flags: flagHasLinkInfo | flagIsUnicode | flagHasName | flagHasRelativePath | flagHasWorkingDir, showCommand: 1,
				driveType: 3, driveSerial: 0x1234abcd,
				basePath: `C:\Users\ana\AppData\Local\Programs\Acme\acme.exe`, basePathW: `C:\Users\ana\AppData\Local\Programs\Acme\acme.exe`,
				name: "Acme Books 7.2", relPath: `..\..\..\..\..\Local\Programs\Acme\acme.exe`, workDir: `C:\Users\ana\AppData\Local\Programs\Acme`}},
		{"target only, drive type unknown",
			shortcut{Target: `D:/Acme/acme.exe`},
			lnk{flags: flagHasLinkInfo | flagIsUnicode, showCommand: 1, driveType: driveFixed,
				basePath: `D:/Acme/acme.exe`, basePathW: `D:/Acme/acme.exe`}},
		{"Cyrillic: ANSI gets '?', Unicode keeps it",
			shortcut{Target: `C:\Users\Иван\Програми\Счетоводство\с.exe`, Description: "Счетоводство 😀"},
			lnk{flags: flagHasLinkInfo | flagIsUnicode | flagHasName, showCommand: 1, driveType: driveFixed,
				basePath: `C:\Users\????\????????\????????????\?.exe`, basePathW: `C:\Users\Иван\Програми\Счетоводство\с.exe`,
				name: "Счетоводство 😀"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := encodeShortcut(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := decodeShortcut(t, b); got != tc.want {
				t.Errorf("decoded\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestEncodeShortcutRefuses(t *testing.T) {
	long := string(bytes.Repeat([]byte("x"), maxStringChars))
	for name, s := range map[string]shortcut{
		"UNC target":      {Target: `\\server\share\acme.exe`},
		"relative target": {Target: `acme.exe`},
		"drive only":      {Target: `C:`},
		"Unix target":     {Target: `/opt/acme/acme`},
		"long":            {Target: `C:\acme.exe`, Description: long},
	} {
		if _, err := encodeShortcut(s); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
}

func TestRelativeTarget(t *testing.T) {
	for _, tc := range []struct{ dir, target, want string }{
		{`C:\Users\ana\AppData\Roaming\Microsoft\Windows\Start Menu\Programs`, `C:\Users\ana\AppData\Local\Programs\Acme\acme.exe`,
			`..\..\..\..\..\Local\Programs\Acme\acme.exe`},
		{`C:\Acme`, `C:\Acme\acme.exe`, `.\acme.exe`},
		{`c:\ACME\`, `C:\acme\bin\acme.exe`, `.\bin\acme.exe`},
		{`C:\Acme\bin`, `C:\Acme`, `..\..\Acme`},
		{`C:\`, `C:\acme.exe`, `.\acme.exe`},
		{`C:\Start`, `D:\Acme\acme.exe`, ""},
		{`/tmp/start`, `C:\Acme\acme.exe`, ""},
	} {
		if got := relativeTarget(tc.dir, tc.target); got != tc.want {
			t.Errorf("relativeTarget(%q, %q) = %q, want %q", tc.dir, tc.target, got, tc.want)
		}
	}
}

// CreateShortcut writes the encoded file in place of an older one and
// leaves no temporary file; RemoveShortcut removes it, twice without error.
func TestCreateAndRemoveShortcut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Acme")
	lnkPath := filepath.Join(dir, "Acme.lnk")
	for _, desc := range []string{"old", "Acme Books"} {
		if err := CreateShortcut(lnkPath, `C:\Acme\acme.exe`, `C:\Acme`, desc); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(lnkPath)
	if err != nil {
		t.Fatal(err)
	}
	if l := decodeShortcut(t, b); l.basePathW != `C:\Acme\acme.exe` || l.workDir != `C:\Acme` || l.name != "Acme Books" {
		t.Errorf("read back %+v", l)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("folder holds %d entries, want the shortcut alone", len(ents))
	}
	for range 2 {
		if err := RemoveShortcut(lnkPath); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(lnkPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after RemoveShortcut: %v", err)
	}
	if err := CreateShortcut(lnkPath, "acme.exe", "", ""); err == nil {
		t.Error("a relative target was accepted")
	}
}
