package admin

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// archiveKind names the archive formats --dir takes, by file name: "" for
// none.
func archiveKind(name string) string {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".zip"):
		return "zip"
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"):
		return "tar.gz"
	}
	return ""
}

// readZip reads a zip archive's files into fr. A symbolic link, a device
// or any entry that is not a file or a folder is refused; so is an
// archive with more than maxArchiveEntries entries or whose entries claim
// more than maxFolderBytes, before any is read.
func readZip(ctx context.Context, ra io.ReaderAt, size int64, fr *folderReader) error {
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // names are judged below, with a remedy
		return fr.errorf("not a zip archive that can be read (%v); make it again", err)
	}
	if len(zr.File) > maxArchiveEntries {
		return fr.errorf("the archive has %d entries; a release holds at most %d files", len(zr.File), maxArchiveEntries/2)
	}
	var claimed uint64
	for _, f := range zr.File {
		if claimed += f.UncompressedSize64; claimed > maxFolderBytes || f.UncompressedSize64 > maxFolderBytes {
			return fr.errorf("the archive unpacks to more than %d GiB; a release folder is at most that large", maxFolderBytes>>30)
		}
	}
	for _, f := range zr.File {
		if err := zipEntry(ctx, f, fr); err != nil {
			return err
		}
	}
	return nil
}

func zipEntry(ctx context.Context, f *zip.File, fr *folderReader) error {
	name, isDir, err := archiveName(f.Name)
	if err != nil {
		return fr.errorf("%v", err)
	}
	mode := f.Mode()
	switch {
	case mode&fs.ModeSymlink != 0:
		return fr.errorf("%q is a symbolic link; links are not published: put the file itself in the archive", f.Name)
	case isDir || mode.IsDir():
		if name == "" {
			return nil
		}
		return fr.dir(name)
	case !mode.IsRegular() || name == "":
		return fr.errorf("%q is not a file or a folder (%v); take it out of the archive", f.Name, mode.Type())
	}
	rc, err := f.Open()
	if err != nil {
		return fr.errorf("reading %q: %v; the archive is damaged or uses a compression zip cannot read: make it again", f.Name, err)
	}
	defer rc.Close()
	// archive/zip checks the bytes against the declared size and CRC as
	// they are read; add checks the size again.
	return fr.add(ctx, name, mode&0o111 != 0, int64(f.UncompressedSize64), rc)
}

// readTarGz reads a gzip-compressed tar archive's files into fr, as it is
// streamed: a symbolic or hard link, a device, a pipe or any entry that is
// not a file or a folder is refused.
func readTarGz(ctx context.Context, r io.Reader, fr *folderReader) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fr.errorf("not a .tar.gz archive (%v); give a folder, a .zip or a .tar.gz", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	entries := 0
	var claimed int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fr.errorf("reading the archive: %v; it is damaged: make it again", err)
		}
		if entries++; entries > maxArchiveEntries {
			return fr.errorf("the archive has more than %d entries; a release holds at most %d files", maxArchiveEntries, maxArchiveEntries/2)
		}
		if hdr.Size < 0 || hdr.Size > maxFolderBytes-claimed {
			return fr.errorf("the archive unpacks to more than %d GiB; a release folder is at most that large", maxFolderBytes>>30)
		}
		claimed += hdr.Size
		if err := tarEntry(ctx, hdr, tr, fr); err != nil {
			return err
		}
	}
}

func tarEntry(ctx context.Context, hdr *tar.Header, tr io.Reader, fr *folderReader) error {
	name, isDir, err := archiveName(hdr.Name)
	if err != nil {
		return fr.errorf("%v", err)
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if name == "" {
			return nil
		}
		return fr.dir(name)
	case tar.TypeReg, 0: // 0: the old form of TypeReg
		if isDir || name == "" {
			return fr.errorf("%q is a file with a folder's name; make the archive again", hdr.Name)
		}
		return fr.add(ctx, name, hdr.Mode&0o111 != 0, hdr.Size, tr)
	case tar.TypeSymlink:
		return fr.errorf("%q is a symbolic link (to %q); links are not published: put the file itself in the archive", hdr.Name, hdr.Linkname)
	case tar.TypeLink:
		return fr.errorf("%q is a hard link (to %q); links are not published: make the archive without hard links (tar --hard-dereference)", hdr.Name, hdr.Linkname)
	}
	return fr.errorf("%q is not a file or a folder (tar type %s); take it out of the archive", hdr.Name, tarType(hdr.Typeflag))
}

func tarType(t byte) string {
	switch t {
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "named pipe"
	}
	return fmt.Sprintf("%q", t)
}
