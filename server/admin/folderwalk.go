package admin

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// walkFolder reads the files under root into fr. A symbolic link to a file
// inside the folder is published as that file; one that leads out of the
// folder, to a folder, or nowhere is refused, as is a device, a pipe or a
// socket. Empty folders are not carried: a manifest lists files.
func walkFolder(ctx context.Context, root string, fr *folderReader) error {
	realRoot, err := filepath.EvalSymlinks(root)
	if err == nil {
		realRoot, err = filepath.Abs(realRoot)
	}
	if err != nil {
		return fr.errorf("%v", err)
	}
	// The resolved root is walked: WalkDir does not follow a root that is
	// itself a link.
	return filepath.WalkDir(realRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fr.errorf("cannot read %s: %v; make it readable, or take it out of the folder", path, err)
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(realRoot, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		target := path
		if d.Type()&fs.ModeSymlink != 0 {
			if target, err = linkInside(realRoot, path); err != nil {
				return fr.errorf("%q %v", name, err)
			}
		}
		return addFile(ctx, fr, name, target)
	})
}

// linkInside resolves a symbolic link that must lead to a file inside the
// folder realRoot.
func linkInside(realRoot, link string) (string, error) {
	dest, _ := os.Readlink(link) // for the message only
	target, err := filepath.EvalSymlinks(link)
	if err != nil {
		return "", refusal("is a symbolic link to %q, which does not exist; remove the link or make it point to a file in the folder", dest)
	}
	if target, err = filepath.Abs(target); err != nil {
		return "", err
	}
	if rel, err := filepath.Rel(realRoot, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", refusal("is a symbolic link out of the folder (to %q); copy the file into the folder instead", dest)
	}
	fi, err := os.Stat(target)
	switch {
	case err != nil:
		return "", refusal("is a symbolic link that cannot be followed (%v); remove it", err)
	case fi.IsDir():
		return "", refusal("is a symbolic link to a folder (%q); links to folders are not followed: put the files there instead", dest)
	}
	return target, nil
}

// addFile stores the regular file at path (a link's target) under name.
func addFile(ctx context.Context, fr *folderReader, name, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fr.errorf("cannot read %q: %v", name, err)
	}
	if !fi.Mode().IsRegular() {
		return fr.errorf("%q is not a regular file (%v: a device, a pipe or a socket); take it out of the folder", name, fi.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return fr.errorf("cannot read %q: %v; make it readable, or take it out of the folder", name, err)
	}
	defer f.Close()
	return fr.add(ctx, name, fi.Mode()&0o111 != 0, -1, f)
}
