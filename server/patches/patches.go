// Package patches owns delta updates on the server: which bsdiff patches
// are made when a release is published, making and checking them, and
// which one the latest answer offers.
package patches

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/bsdiff"
	"github.com/aktual/aktual/server/blobs"
	"github.com/aktual/aktual/server/store"
)

// Delta updates. When a release is published, the server computes a bsdiff
// patch from each of the few releases before it (same product and
// platform), keeps it as a blob under its own sha256 and records it. The
// latest answer offers the patch, signed with the rest, to a client that
// asked for patches and whose installed hash is the patch's start; the
// client keeps the patch's output only if it is the signed release, and
// downloads the whole file on any failure. A patch saves bytes; it is
// never trusted.

// Maker makes and stores patches.
type Maker struct {
	Store  store.Store
	Blobs  blobs.Blobs
	Origin blobs.Origin // for releases published with --url
	Policy Policy
}

// Policy says which patches are made. The zero value takes the
// defaults.
type Policy struct {
	// From is how many of the newest earlier releases (stable versions)
	// get a patch to a new release: 0 means DefaultFrom; negative,
	// none.
	From int
	// MinSize: a release smaller than this gets no patches; a whole
	// download of it costs about what a patch's extra request does.
	// 0 means DefaultMinSize.
	MinSize int64
	// MaxSize: files larger than this are not diffed, as a diff holds
	// about 3 times the file's size in memory (see docs/delta.md).
	// 0 means DefaultMaxSize.
	MaxSize int64
}

// Patch policy defaults.
const (
	DefaultFrom    = 3
	DefaultMinSize = 1 << 20
	DefaultMaxSize = 64 << 20
)

// diffing lets one diff run at a time in the process, whatever Maker
// asks: two publishes at once (admin API) would otherwise hold two diffs'
// memory, and the bound of about 3 times the file is per process.
var diffing sync.Mutex

// maxPatchShare is the largest patch kept, in percent of the whole file: a
// patch must save at least a fifth of the download to be worth its risk of
// a second request.
const maxPatchShare = 80

func (p Policy) from() int                 { return cmp.Or(p.From, DefaultFrom) }
func (p Policy) minSize() int64            { return cmp.Or(p.MinSize, DefaultMinSize) }
func (p Policy) maxSize() int64            { return cmp.Or(p.MaxSize, DefaultMaxSize) }
func (p Policy) disabled() bool            { return p.From < 0 }
func wantPatchSize(patch, full int64) bool { return patch*100 <= full*maxPatchShare }

// Result is what became of one patch: stored (SHA256 and Size set),
// already there (Existing), not worth making (Skipped says why), or
// failed (Error says why).
type Result struct {
	Product     string  `json:"product"`
	OS          string  `json:"os"`
	Arch        string  `json:"arch"`
	FromVersion string  `json:"from_version"`
	ToVersion   string  `json:"to_version"`
	FromSHA256  string  `json:"from_sha256"`
	ToSHA256    string  `json:"to_sha256"`
	FullSize    int64   `json:"full_size"`
	SHA256      string  `json:"sha256,omitempty"`
	Size        int64   `json:"size,omitempty"`
	Existing    bool    `json:"existing,omitempty"`
	Skipped     string  `json:"skipped,omitempty"`
	Error       string  `json:"error,omitempty"`
	Seconds     float64 `json:"seconds,omitempty"`
}

// ToNew makes the patches to a release just published, when it is what
// clients are offered as the latest (a pre-release or an older fix is not).
func (m *Maker) ToNew(ctx context.Context, st api.ReleaseStatement, onPatch func(Result)) {
	if m.Policy.disabled() {
		return
	}
	rs, err := m.Store.Releases(ctx, st.Product, st.OS, st.Arch)
	if err != nil {
		return // the release is published; patches can be made later
	}
	if newest := store.Newest(rs); newest != nil && newest.SHA256 == st.SHA256 {
		m.patchesTo(ctx, *newest, rs, onPatch)
	}
}

// Make makes the missing patches to the newest release of product on each
// of its platforms, from the Policy.From releases before it. It
// fails only when it cannot start; each patch's outcome is in the results
// (onPatch, when set, hears of each as it is done).
func (m *Maker) Make(ctx context.Context, product string, onPatch func(Result)) ([]Result, error) {
	if !api.ValidName(product) {
		return nil, errors.New("--product must be a name of letters, digits, '.', '_' or '-'")
	}
	all, err := m.Store.AllReleases(ctx)
	if err != nil {
		return nil, err
	}
	platforms := map[[2]string][]store.Release{}
	for _, r := range all {
		if r.Product == product {
			k := [2]string{r.OS, r.Arch}
			platforms[k] = append(platforms[k], r)
		}
	}
	if len(platforms) == 0 {
		return nil, fmt.Errorf("no release of %s is published", product)
	}
	keys := slices.SortedFunc(func(yield func([2]string) bool) {
		for k := range platforms {
			if !yield(k) {
				return
			}
		}
	}, func(x, y [2]string) int { return cmp.Compare(x[0]+"/"+x[1], y[0]+"/"+y[1]) })
	var out []Result
	for _, k := range keys {
		if m.Policy.disabled() {
			break
		}
		newest := store.Newest(platforms[k])
		if newest == nil {
			continue
		}
		out = append(out, m.patchesTo(ctx, *newest, platforms[k], onPatch)...)
	}
	return out, nil
}

// patchesTo makes the patches from to's predecessors among rs to to. A
// folder release gets none: its artifact is a manifest, and a bsdiff of
// two manifests saves nothing (per-file patches are a later step).
func (m *Maker) patchesTo(ctx context.Context, to store.Release, rs []store.Release, onPatch func(Result)) []Result {
	if store.IsFolder(to) {
		return nil
	}
	var out []Result
	for _, from := range predecessors(rs, to, m.Policy.from()) {
		if ctx.Err() != nil {
			break
		}
		// A diff's peak is the two files and its index, about 3 times
		// the file's size: garbage left by the publish or by the diff
		// before is returned first, so as not to add to it.
		debug.FreeOSMemory()
		res := m.makePatch(ctx, from, to)
		if onPatch != nil {
			onPatch(res)
		}
		out = append(out, res)
	}
	return out
}

// predecessors are the n newest stable releases older than to, one per
// artifact. Pre-releases are left out: staff try them, and they would
// crowd out the versions customers have; so are folder releases (a
// manifest is no program to diff from).
func predecessors(rs []store.Release, to store.Release, n int) []store.Release {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(x, y store.Release) int { return api.CompareVersions(y.Version, x.Version) })
	seen := map[string]bool{to.SHA256: true}
	var out []store.Release
	for _, r := range rs {
		if len(out) == n {
			break
		}
		if seen[r.SHA256] || strings.Contains(r.Version, "-") || api.CompareVersions(r.Version, to.Version) >= 0 || store.IsFolder(r) {
			continue
		}
		seen[r.SHA256] = true
		out = append(out, r)
	}
	return out
}

// makePatch computes, checks and stores the patch from one release to
// another, unless it is already stored or not worth it.
func (m *Maker) makePatch(ctx context.Context, from, to store.Release) Result {
	res := Result{Product: to.Product, OS: to.OS, Arch: to.Arch, FromVersion: from.Version, ToVersion: to.Version,
		FromSHA256: from.SHA256, ToSHA256: to.SHA256, FullSize: to.Size}
	if p, err := m.Store.Patch(ctx, to.Product, to.OS, to.Arch, from.SHA256, to.SHA256); err == nil {
		if f, err := m.Blobs.Open(p.SHA256); err == nil {
			f.Close()
			res.SHA256, res.Size, res.Existing = p.SHA256, p.Size, true
			return res
		}
	}
	pol := m.Policy
	switch {
	case to.Size < pol.minSize():
		res.Skipped = fmt.Sprintf("the release is smaller than %d bytes: a whole download costs about what a patch does", pol.minSize())
		return res
	case from.Size > pol.maxSize() || to.Size > pol.maxSize():
		res.Skipped = fmt.Sprintf("a file is larger than the patch limit of %g MiB (a diff needs about 3 times the size in memory)", float64(pol.maxSize())/(1<<20))
		return res
	}
	if _, err := exec.LookPath("bzip2"); err != nil {
		res.Error = "computing a patch needs the bzip2 program on PATH (bsdiff compresses with it): install it (Debian: apt-get install bzip2), or publish with --patches 0"
		return res
	}
	diffing.Lock()
	start := time.Now()
	patch, err := m.diff(ctx, from, to)
	res.Seconds = time.Since(start).Seconds()
	diffing.Unlock()
	if err != nil {
		res.Error = err.Error()
		return res
	}
	if !wantPatchSize(int64(len(patch)), to.Size) {
		res.Skipped = fmt.Sprintf("the patch (%d bytes) is not at least %d%% smaller than the release", len(patch), 100-maxPatchShare)
		return res
	}
	sum, size, err := m.Blobs.Put(bytes.NewReader(patch))
	if err != nil {
		res.Error = err.Error()
		return res
	}
	err = m.Store.PutPatch(ctx, store.Patch{Product: to.Product, OS: to.OS, Arch: to.Arch,
		FromSHA256: from.SHA256, ToSHA256: to.SHA256, SHA256: sum, Size: size})
	if err != nil {
		if used, herr := m.Store.HasArtifact(ctx, sum); herr == nil && !used {
			_ = m.Blobs.Remove(sum) // a leftover blob is unused space, never served: only what a release or patch names is
		}
		res.Error = err.Error()
		return res
	}
	res.SHA256, res.Size = sum, size
	return res
}

// diff computes the bsdiff patch between two releases' bytes, checking
// both against their releases' sha256 and size, and proves the patch by
// applying it with the code the installer runs (bsdiff.Apply). Each file
// is read into a buffer of exactly its release's size: with the diff's
// index, about 3 times the file's size at the peak.
func (m *Maker) diff(ctx context.Context, from, to store.Release) ([]byte, error) {
	old, new, err := m.readPair(ctx, from, to)
	if err != nil {
		return nil, fmt.Errorf("computing the patch from %s to %s: %w", from.Version, to.Version, err)
	}
	var patch bytes.Buffer
	if err := bsdiff.DiffBytes(ctx, old, new, &patch); err != nil {
		return nil, fmt.Errorf("computing the patch from %s to %s: %w", from.Version, to.Version, err)
	}
	// The new file and the diff's index are garbage now: collected before
	// the proof's bzip2 readers (some 11 MB) are made, they are not added
	// to the peak.
	runtime.GC()
	h := sha256.New()
	var n int64
	err = bsdiff.Apply(ctx, bytes.NewReader(old), int64(len(old)), bytes.NewReader(patch.Bytes()), int64(patch.Len()),
		io.MultiWriter(h, countWriter{&n}), to.Size)
	switch {
	case err != nil:
		return nil, fmt.Errorf("checking the patch from %s to %s: %w", from.Version, to.Version, err)
	case n != to.Size || hex.EncodeToString(h.Sum(nil)) != to.SHA256:
		return nil, fmt.Errorf("the patch from %s to %s does not make %s's bytes; not stored", from.Version, to.Version, to.Version)
	}
	return patch.Bytes(), nil
}

// readPair reads both releases' bytes, checked.
func (m *Maker) readPair(ctx context.Context, from, to store.Release) (old, new []byte, err error) {
	err = m.readBlobs(ctx, []store.Release{from, to}, func(r []io.Reader) error {
		var err error
		if old, err = readSized(r[0], from.Size); err != nil {
			return err
		}
		new, err = readSized(r[1], to.Size)
		return err
	})
	return old, new, err
}

// readSized reads r whole into a buffer of size bytes, allocated once (a
// growing buffer would hold up to twice that). Bytes past size are read
// and dropped, so that readBlobs's check sees the file's true length.
func readSized(r io.Reader, size int64) ([]byte, error) {
	b := make([]byte, size)
	n, err := io.ReadFull(r, b)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return b[:n], nil // shorter than published: readBlobs says so
	case err != nil:
		return nil, err
	}
	_, err = io.Copy(io.Discard, r)
	return b, err
}

// readBlobs runs fn on readers of the releases' bytes — from the blob
// store, or fetched from the origin of a release published with --url —
// then checks that each was read whole and is the release's bytes, so an
// origin that changed its file since the publish makes no patch.
func (m *Maker) readBlobs(ctx context.Context, rs []store.Release, fn func([]io.Reader) error) error {
	readers := make([]io.Reader, len(rs))
	checks := make([]func() error, len(rs))
	for i, r := range rs {
		f, err := m.openRelease(ctx, r)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		var n int64
		readers[i] = io.TeeReader(io.LimitReader(f, r.Size+1), io.MultiWriter(h, countWriter{&n}))
		checks[i] = func() error {
			switch {
			case n == r.Size && hex.EncodeToString(h.Sum(nil)) == r.SHA256:
				return nil
			case r.URL != "":
				return fmt.Errorf("the origin's file of %s %s (%s) is no longer the bytes published; upload the published file there again", r.Product, r.Version, r.URL)
			}
			return fmt.Errorf("the stored file of %s %s is not its release's bytes (damaged blob store?)", r.Product, r.Version)
		}
	}
	if err := fn(readers); err != nil {
		return err
	}
	for _, c := range checks {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

// openRelease opens a release's bytes: its blob, or its origin's file.
func (m *Maker) openRelease(ctx context.Context, r store.Release) (io.ReadCloser, error) {
	if r.URL != "" {
		body, _, err := m.Origin.Open(ctx, r.URL) // Close cancels the fetch
		if err != nil {
			return nil, fmt.Errorf("fetching %s %s from its origin: %w", r.Product, r.Version, err)
		}
		return body, nil
	}
	f, err := m.Blobs.Open(r.SHA256)
	if err != nil {
		return nil, fmt.Errorf("the file of %s %s is missing from the blob store: %w", r.Product, r.Version, err)
	}
	return f, nil
}

type countWriter struct{ n *int64 }

func (c countWriter) Write(b []byte) (int, error) {
	*c.n += int64(len(b))
	return len(b), nil
}

// Wanted reports whether a client's patch query (formats it applies,
// comma-separated) names one this server makes. An unknown format is no
// error: a newer client may know more.
func Wanted(q string) bool {
	for f := range strings.SplitSeq(q, ",") {
		if strings.TrimSpace(f) == api.PatchBSDiff {
			return true
		}
	}
	return false
}
