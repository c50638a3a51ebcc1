package admin

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"github.com/aktual/aktual/api"
)

// entry is one archive entry a test writes: a file unless typ says
// otherwise (tar types; for zip only TypeDir and TypeSymlink).
type entry struct {
	name, body string
	typ        byte
	mode       int64
}

func file(name, body string) entry {
	return entry{name: name, body: body, typ: tar.TypeReg, mode: 0o644}
}

func makeTarGz(t testing.TB, es ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range es {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: "target"}
		if e.typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func makeZip(t testing.TB, es ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range es {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		switch e.typ {
		case tar.TypeDir:
			h.SetMode(fs.ModeDir | 0o755)
		case tar.TypeSymlink:
			h.SetMode(fs.ModeSymlink | 0o777)
		default:
			h.SetMode(fs.FileMode(e.mode) | 0o644)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hashOnly stores nothing: it is the blob store's Put without the disk.
func hashOnly(r io.Reader) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// readArchive reads an archive's files as PublishFolder does, into nothing.
func readArchive(t testing.TB, kind string, data []byte) ([]api.ManifestFile, error) {
	fr := newFolderReader("test."+kind, hashOnly)
	var err error
	if kind == "zip" {
		err = readZip(t.Context(), bytes.NewReader(data), int64(len(data)), fr)
	} else {
		err = readTarGz(t.Context(), bytes.NewReader(data), fr)
	}
	if err != nil {
		return nil, err
	}
	return fr.manifestFiles(true)
}

func paths(files []api.ManifestFile) string {
	var out []string
	for _, f := range files {
		out = append(out, f.Path)
	}
	return strings.Join(out, " ")
}

func TestArchivesRead(t *testing.T) {
	exe := entry{name: "app/bin/run", body: "#!/bin/sh\n", typ: tar.TypeReg, mode: 0o755}
	for _, kind := range []string{"zip", "tar.gz"} {
		make := makeZip
		if kind == "tar.gz" {
			make = makeTarGz
		}
		t.Run(kind, func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				data  []byte
				paths string
			}{
				{"one top folder is the root", make(t, entry{name: "app/", typ: tar.TypeDir}, file("app/a.txt", "a"), exe), "a.txt bin/run"},
				{"a file beside the top folder: kept whole", make(t, file("app/a.txt", "a"), file("b.txt", "b")), "app/a.txt b.txt"},
				{"two top folders: kept whole", make(t, file("app/a.txt", "a"), file("lib/b.txt", "b")), "app/a.txt lib/b.txt"},
				{"an empty folder beside: kept whole", make(t, file("app/a.txt", "a"), entry{name: "other/", typ: tar.TypeDir}), "app/a.txt"},
				{"./ names", make(t, entry{name: "./", typ: tar.TypeDir}, file("./a.txt", "a"), file("./d/b.txt", "b")), "a.txt d/b.txt"},
				{"NFD names become NFC", make(t, file("Справка/и\u0306.txt", "x")), "й.txt"},
			} {
				files, err := readArchive(t, kind, tc.data)
				if err != nil {
					t.Errorf("%s: %v", tc.name, err)
					continue
				}
				if got := paths(files); got != tc.paths {
					t.Errorf("%s: files %q, want %q", tc.name, got, tc.paths)
				}
			}
			files, _ := readArchive(t, kind, make(t, exe, file("app/x", "")))
			if len(files) != 2 || files[0].Mode != api.ModeExecutable || files[1].Mode != api.ModeFile {
				t.Errorf("modes: %+v; want 755 for the executable, 644 for the other", files)
			}
		})
	}
}

func TestArchivesRefused(t *testing.T) {
	for _, kind := range []string{"zip", "tar.gz"} {
		make := makeZip
		if kind == "tar.gz" {
			make = makeTarGz
		}
		cases := []struct {
			name, want string
			data       []byte
		}{
			{"zip-slip", "leads out of the folder", make(t, file("../evil", "x"))},
			{"zip-slip inside", "leads out of the folder", make(t, file("a/../../evil", "x"))},
			{"absolute", "absolute name", make(t, file("/etc/passwd", "x"))},
			{"drive letter", "names a drive", make(t, file("C:evil", "x"))},
			{"backslash", "backslash", make(t, file(`a\..\evil`, "x"))},
			{"symlink", "symbolic link", make(t, entry{name: "link", typ: tar.TypeSymlink})},
			{"duplicate", "appears twice", make(t, file("a", "1"), file("a", "2"))},
			{"case collision", "differ only in case", make(t, file("Readme.txt", "1"), file("README.TXT", "2"))},
			{"reserved name", "reserves", make(t, file("CON", "1"))},
			{"trailing dot", "ends in a dot", make(t, file("a.", "1"))},
			{"control character", "does not allow", make(t, file("a\x01b", "1"))},
			{"nothing", "holds no files", make(t, entry{name: "empty/", typ: tar.TypeDir})},
		}
		if kind == "tar.gz" {
			cases = append(cases,
				struct {
					name, want string
					data       []byte
				}{"hard link", "hard link", make(t, entry{name: "hl", typ: tar.TypeLink})},
				struct {
					name, want string
					data       []byte
				}{"fifo", "named pipe", make(t, entry{name: "p", typ: tar.TypeFifo})},
				struct {
					name, want string
					data       []byte
				}{"device", "device", make(t, entry{name: "d", typ: tar.TypeChar})},
			)
		}
		for _, tc := range cases {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				files, err := readArchive(t, kind, tc.data)
				if err == nil {
					// The whole-manifest rules run in PublishFolder.
					m := api.Manifest{Product: "p", Version: "1.0.0", OS: "linux", Arch: "amd64", Files: files}
					m.Normalize()
					err = m.Validate()
				}
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("err %v; want one saying %q", err, tc.want)
				}
			})
		}
	}
}

// TestArchiveBombsAndFloods: entries that claim more than maxFolderBytes,
// an entry whose bytes are not what it claims, and more entries than a
// release may hold are refused before they are read.
func TestArchiveBombsAndFloods(t *testing.T) {
	var tgz bytes.Buffer
	gz := gzip.NewWriter(&tgz)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: "huge", Typeflag: tar.TypeReg, Size: maxFolderBytes + 1, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	gz.Close() // the header alone: the bytes it claims never come
	if _, err := readArchive(t, "tar.gz", tgz.Bytes()); err == nil || !strings.Contains(err.Error(), "GiB") {
		t.Errorf("tar claiming %d bytes: %v", int64(maxFolderBytes+1), err)
	}

	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for i, size := range []uint64{maxFolderBytes / 2, maxFolderBytes / 2, 1} {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: string(rune('a' + i)), Method: zip.Store, UncompressedSize64: size, CompressedSize64: 1})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte{0})
	}
	zw.Close()
	if _, err := readArchive(t, "zip", zbuf.Bytes()); err == nil || !strings.Contains(err.Error(), "GiB") {
		t.Errorf("zip claiming 64 GiB + 1 byte: %v", err)
	}

	zbuf.Reset()
	zw = zip.NewWriter(&zbuf)
	w, _ := zw.CreateRaw(&zip.FileHeader{Name: "short", Method: zip.Store, UncompressedSize64: 10, CompressedSize64: 3})
	w.Write([]byte("abc"))
	zw.Close()
	if _, err := readArchive(t, "zip", zbuf.Bytes()); err == nil {
		t.Error("a zip entry shorter than it claims was read")
	}

	if testing.Short() {
		t.Skip("the flood of entries takes a second")
	}
	tgz.Reset()
	gz = gzip.NewWriter(&tgz)
	tw = tar.NewWriter(gz)
	for i := range api.MaxManifestFiles + 1 {
		if err := tw.WriteHeader(&tar.Header{Name: "d/f" + strconv.Itoa(i), Typeflag: tar.TypeReg, Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	gz.Close()
	if _, err := readArchive(t, "tar.gz", tgz.Bytes()); err == nil || !strings.Contains(err.Error(), "more than 100000 files") {
		t.Errorf("%d files: %v", api.MaxManifestFiles+1, err)
	}
}
