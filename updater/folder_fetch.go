package updater

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/fault"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/durable"
	"github.com/aktual/aktual/updater/internal/fetch"
	"github.com/aktual/aktual/updater/internal/folder"
)

// fetchManifest downloads the new version's manifest (the release's
// artifact, checked against the signed sha256 and size), checks every
// rule of a folder release, and keeps it in the work folder.
func (u *Updater) fetchManifest(ctx context.Context, rel api.ReleaseStatement, fs *folderState) error {
	w := fs.work
	if fi, err := os.Lstat(w.Root); err == nil && !fi.IsDir() {
		return fail(ErrApply, nil, "%s stands where aktual keeps its work beside the program and is not a folder (a link?); remove it, then run the update again; nothing was changed or used", w.Root)
	}
	if err := os.MkdirAll(filepath.Dir(w.Object(rel.SHA256)), 0o700); err != nil {
		return fail(ErrApply, err, "cannot create the work folder %s beside the program (%v); run as a user who may change %s; nothing was changed or used",
			w.Root, err, filepath.Dir(w.Dir))
	}
	if rel.Size > api.MaxManifestSize {
		return fail(ErrVerification, nil, "the signed release of %s %s names a manifest of %d bytes, more than %d; refusing it", rel.Product, rel.Version, rel.Size, api.MaxManifestSize)
	}
	// In memory (it is bounded, and proportional to the files' count, not
	// their size), checked against the signed sha256 and size.
	data, err := u.client().Small(ctx, rel.SHA256, rel.Size)
	if err != nil {
		return err
	}
	m, err := api.DecodeManifest(data)
	if err != nil {
		return fail(ErrVerification, err, "the signed manifest of %s %s breaks the rules of a program folder (%v); nothing was installed", rel.Product, rel.Version, err)
	}
	switch {
	case m.Product != rel.Product || m.Version != rel.Version || m.OS != rel.OS || m.Arch != rel.Arch:
		return fail(ErrVerification, nil, "the manifest is of %s %s for %s/%s, not of the signed release %s %s; refusing it", m.Product, m.Version, m.OS, m.Arch, rel.Product, rel.Version)
	case len(m.Files) != rel.Files || m.TotalSize() != rel.TotalSize:
		return fail(ErrVerification, nil, "the manifest of %s %s lists other files than its signed release says; refusing it", rel.Product, rel.Version)
	}
	if err := durable.WriteCache(w.ManifestPath(), data); err != nil { // checked against its sha256 when read
		return fail(ErrApply, err, "cannot write in the work folder %s: %v; nothing was changed or used", w.Root, err)
	}
	fs.new, fs.data = m, data
	return nil
}

// fetchObjects gets every content the switch needs into the work folder,
// each verified against the manifest's sha256 and size as it is written:
// copied from an installed file that already has it, or downloaded (a
// download an earlier run began continues; one it finished is checked
// again; a patch from an installed file is tried first), fetchWorkers at
// a time over the kept connections. The progress is the whole folder's.
func (u *Updater) fetchObjects(ctx context.Context, rel api.ReleaseStatement, fs *folderState) error {
	var remote []api.ManifestFile
	for _, f := range fs.fetch {
		if src := fs.local[f.SHA256]; src != "" {
			if err := copyVerified(src, fs.work.Object(f.SHA256), f); err == nil {
				fault.Hit(fault.FolderFetched)
				continue
			}
			// Changed since it was hashed: downloaded instead.
		}
		remote = append(remote, f)
	}
	pr := &folderProgress{u: u}
	for _, f := range remote {
		pr.total.Add(fs.downloadSize(f))
	}
	if len(remote) > 0 {
		u.phase(PhaseDownload, "downloading %d files of %s %s (%d bytes)", len(remote), rel.Product, rel.Version, pr.total.Load())
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan api.ManifestFile)
	var wg sync.WaitGroup
	for w := range min(fetchWorkers, len(remote)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := u.client()
			c.Verifying, c.Progress = nil, func(p fetch.Progress) { pr.at(w, p) }
			c.Notice = pr.tell
			for f := range work {
				if err := u.fetchObject(ctx, c, rel, fs, f, pr, w); err != nil {
					cancel(err)
				}
			}
		}()
	}
	for _, f := range remote {
		if ctx.Err() != nil {
			break
		}
		work <- f
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// fetchWorkers is how many files are downloaded at a time.
const fetchWorkers = 4

// fetchObject gets one remote content: kept from an earlier run, patched,
// or downloaded whole.
func (u *Updater) fetchObject(ctx context.Context, c *fetch.Client, rel api.ReleaseStatement, fs *folderState, f api.ManifestFile, pr *folderProgress, w int) error {
	obj := fs.work.Object(f.SHA256)
	if err := checkObject(obj, f); err == nil {
		pr.finished(w, fs.downloadSize(f))
		return nil
	}
	if p, from := fs.usablePatch(f); p != nil {
		err := u.patchObject(ctx, c, p, from, f, obj)
		if err == nil {
			pr.finished(w, p.Size)
			fault.Hit(fault.FolderFetched)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		pr.tell(i18n.M("the patch of %s could not be used (%v); downloading the whole file instead", f.Path, err))
		pr.total.Add(f.Size - p.Size)
	}
	if err := u.downloadObject(ctx, c, rel, f, obj); err != nil {
		return err
	}
	pr.finished(w, f.Size)
	fault.Hit(fault.FolderFetched)
	return nil
}

// folderProgress adds up the downloads of the workers into one progress.
type folderProgress struct {
	u           *Updater
	total, done atomic.Int64 // done: the bytes of finished files
	mu          sync.Mutex
	now         [fetchWorkers]fetch.Progress // each worker's file in progress
}

// The workers' events go out one at a time (under mu): Events is called
// from one goroutine at a time, as its callers expect.

func (pr *folderProgress) at(w int, p fetch.Progress) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.now[w] = p
	var done, rate int64
	for _, q := range pr.now {
		done += q.Done
		rate += q.Rate
	}
	pr.emit(pr.done.Load()+done, rate)
}

func (pr *folderProgress) finished(w int, n int64) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.now[w] = fetch.Progress{}
	pr.emit(pr.done.Add(n), 0)
}

func (pr *folderProgress) tell(m i18n.Message) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.u.emit(Event{Event: EventNotice, Message: m})
}

func (pr *folderProgress) emit(done, rate int64) {
	total := pr.total.Load()
	ev := Event{Event: EventProgress, Phase: PhaseDownload, Done: min(done, total), Total: total, Rate: rate}
	if rate > 0 {
		ev.ETA = (total - done + rate - 1) / rate
	}
	pr.u.emit(ev)
}

// downloadObject downloads one file's content to obj.
func (u *Updater) downloadObject(ctx context.Context, c *fetch.Client, rel api.ReleaseStatement, f api.ManifestFile, obj string) error {
	if f.Size == 0 {
		return copyVerified(os.DevNull, obj, f)
	}
	part := api.ReleaseStatement{Product: rel.Product, Version: rel.Version, OS: rel.OS, Arch: rel.Arch, SHA256: f.SHA256, Size: f.Size}
	path, err := c.Download(ctx, part, obj)
	if err != nil {
		return err
	}
	if err := os.Rename(path, obj); err != nil {
		return fail(ErrApply, err, "cannot write in the work folder %s: %v; nothing was changed or used", filepath.Dir(obj), err)
	}
	fetch.Discard(obj) // the sidecar
	return nil
}

// checkObject re-hashes an object an earlier run left in the work folder.
func checkObject(obj string, f api.ManifestFile) error {
	sum, n, err := hashFile(obj)
	if err != nil {
		return err
	}
	if sum != f.SHA256 || n != f.Size {
		os.Remove(obj)
		return errMismatch
	}
	return nil
}

// copyVerified copies src to dst through a temporary file, hashing as it
// writes: dst appears only with the manifest's content.
func copyVerified(src, dst string, f api.ManifestFile) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	out, err := os.CreateTemp(filepath.Dir(dst), ".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(out.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(in, f.Size+1))
	if err != nil {
		return err
	}
	if n != f.Size || hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
		return errMismatch
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(out.Name(), dst)
}

var errMismatch = errors.New("the content is not the manifest's")

// stageFolder lays the new version out in the work folder's stage, each
// file linked (or copied) from its verified object, with its mode.
func stageFolder(fs *folderState) error {
	w := fs.work
	if err := w.CleanStage(); err != nil {
		return fail(ErrApply, err, "cannot clear the work folder %s: %v", w.Root, err)
	}
	linked := map[string]bool{}
	for _, p := range fs.sw.Put {
		f, _ := fs.new.Lookup(p.Path)
		staged := w.Staged(p.Path)
		if err := stageOne(w.Object(p.SHA256), staged, f, linked); err != nil {
			return fail(ErrApply, err, "cannot stage %s in %s: %v; free some space beside the program folder, then run the update again; nothing was changed or used",
				p.Path, w.Root, err)
		}
		fault.Hit(fault.FolderStaged)
	}
	return nil
}

// stageOne puts one file in the stage: a hard link to the object when it
// is the object's first use (same volume, no copy), else a verified copy,
// so that two paths never share one file whose mode differs.
func stageOne(obj, staged string, f api.ManifestFile, linked map[string]bool) error {
	if err := os.MkdirAll(filepath.Dir(staged), 0o700); err != nil {
		return err
	}
	if linked[f.SHA256] || os.Link(obj, staged) != nil {
		if err := copyVerified(obj, staged, f); err != nil {
			return err
		}
	}
	linked[f.SHA256] = true
	return os.Chmod(staged, os.FileMode(f.Mode))
}

// newFolderState opens the work of a folder's update.
func newFolderState(dir string, rec *InstallRecord) *folderState {
	return &folderState{work: folder.For(dir), record: rec}
}

// patchObject downloads the patch p of f and applies it to the installed
// file from, keeping the output as f's object only if it is f's sha256
// and size.
func (u *Updater) patchObject(ctx context.Context, c *fetch.Client, p *api.FilePatch, from string, f api.ManifestFile, obj string) error {
	patchFile, out := obj+".patch", obj+".patched"
	defer os.Remove(patchFile)
	offer := &api.PatchOffer{FromSHA256: p.From, SHA256: p.SHA256, Size: p.Size, Format: p.Format}
	if err := c.DownloadPatch(ctx, offer, patchFile); err != nil {
		return err
	}
	rel := api.ReleaseStatement{SHA256: f.SHA256, Size: f.Size}
	if err := applyPatchFile(ctx, from, patchFile, p.Size, out, rel); err != nil {
		return err
	}
	return os.Rename(out, obj)
}
