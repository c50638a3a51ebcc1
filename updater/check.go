package updater

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/aktual/aktual/internal/fileutil"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/fetch"

	"github.com/aktual/aktual/api"
)

// CheckRequest names what to check: a product installed at Target.
// FromVersion is the last resort when neither the server's catalogue nor an
// install record knows the target's contents.
type CheckRequest struct {
	Product     string
	Target      string
	FromVersion string
	// Channel is the release channel to follow ("": the one the install
	// record remembers, else stable); remembered after an update.
	Channel string
	// Force takes a release whose staged rollout has not reached this
	// installation yet (support staff, for one customer).
	Force bool
}

// Plan is what Check found.
type Plan struct {
	Product       string
	Target        string // absolute, symlinks resolved
	CurrentSHA256 string
	From          string // installed version
	FromSource    string // SourceCatalogue, SourceInstallRecord or SourceFlag
	Latest        api.ReleaseStatement
	// UpToDate: the newest release is installed; Newer: what is installed
	// is newer than anything published (a downgrade is never offered).
	UpToDate bool
	Newer    bool
	// Downgrade: staff withdrew the installed version and published Latest,
	// older, to replace it (signed into the release). It is free: no paid
	// update is reserved for it.
	Downgrade bool
	// Patch is the server's signed offer of a patch from the installed
	// file to Latest, when it made one and this client can use it: tried
	// before the whole download (delta.go).
	Patch *api.PatchOffer
	// Folder, for a program folder's update, says what it does once the
	// new manifest is fetched (set before Confirm).
	Folder *FolderInfo
	folder *folderState
	// Release control (control.go): the channel followed, the release's
	// notes (verified), whether it is critical, this installation's place
	// in its staged rollout, and the required path it is a step of (Free:
	// a later step of a path already paid for).
	Channel  string
	Notes    *api.NotesStatement
	Critical bool
	Rollout  *api.Rollout
	Path     *api.Path
	Free     bool
}

// How the installed version was found (Plan.FromSource).
const (
	SourceCatalogue     = "catalogue"      // its hash is a published release's
	SourceInstallRecord = "install record" // aktual installed it
	SourceFlag          = "--from-version" // the caller said so
)

// Check finds the installed version and the newest release, verifying the
// server's signed answer. It changes nothing.
func (u *Updater) Check(ctx context.Context, req CheckRequest) (*Plan, error) {
	if !api.ValidName(req.Product) {
		return nil, fail(ErrUsage, nil, "--product is required: the product's name as the vendor publishes it")
	}
	if req.Channel != "" && !api.ValidName(req.Channel) {
		return nil, fail(ErrUsage, nil, "--channel %q is not a channel name: letters, digits, '.', '_' or '-', e.g. beta", req.Channel)
	}
	if req.FromVersion != "" && !api.ValidVersion(req.FromVersion) {
		return nil, fail(ErrUsage, nil, "--from-version %q is not a version like 1.2.0", req.FromVersion)
	}
	target, fs, err := u.resolveUpdateTarget(req.Target)
	if err != nil {
		return nil, err
	}
	u.phase(PhaseCheck, "checking for a new version of %s", req.Product)
	var current string
	if fs == nil {
		if current, err = fileutil.SHA256(target); err != nil {
			return nil, fail(ErrUsage, err, "cannot read %s: %v", target, err)
		}
	} else if fs.record != nil && fs.record.Product == req.Product {
		current = fs.record.SHA256
	}
	goos, arch := u.platform()
	seen, err := u.state().LoadSeen(u.Trust)
	if err != nil {
		return nil, err
	}
	lq := u.latestQuery(req, target, fs)
	st, ks, err := u.latest(ctx, req.Product, goos, arch, current, seen.KeySet, lq)
	if err != nil {
		return nil, err
	}
	latest, err := u.verifyReleaseIn(&st.Latest, ks, req.Product, goos, arch, lq.channel)
	if err != nil {
		return nil, err
	}
	if err := sameKind(fs, latest, target); err != nil {
		return nil, err
	}
	plan := &Plan{Product: req.Product, Target: target, CurrentSHA256: current, Latest: latest, folder: fs, Channel: lq.channel}
	u.controlPlan(plan, st, ks)
	if fs == nil {
		plan.Patch = usablePatch(st.Patch, current, latest)
	}
	if plan.folder != nil && plan.folder.record == nil && req.FromVersion == "" && st.Installed == nil {
		v, err := u.recognise(ctx, plan, ks)
		if err != nil {
			return nil, err
		}
		if v != "" {
			plan.From, plan.FromSource = v, SourceFiles
		}
	}
	if plan.From == "" {
		if err := u.findInstalled(req, plan, st, ks); err != nil {
			return nil, err
		}
	}
	if prev := seen.Products[req.Product]; prev != "" && api.CompareVersions(latest.Version, prev) < 0 && !latest.Replaces(prev) && !withheld(st, prev) {
		return nil, fail(ErrVerification, nil,
			"the server offers %s %s as the newest, but offered %s before; refusing the older answer (a replayed old release, or the vendor withdrew %s without publishing a downgrade: ask the vendor)",
			req.Product, latest.Version, prev, prev)
	}
	switch c := api.CompareVersions(latest.Version, plan.From); {
	case current == latest.SHA256 || c == 0:
		plan.UpToDate = true
	case c < 0 && latest.Replaces(plan.From):
		plan.Downgrade = true
	case c < 0:
		plan.UpToDate, plan.Newer = true, true
	}
	plan.Free = plan.Path != nil && plan.Path.Free && !plan.UpToDate && !plan.Downgrade
	if err := u.state().Remember(u.Trust, ks.Version, req.Product, latest.Version); err != nil {
		u.notice("could not remember the newest version offered (%v); protection against replayed old answers is weaker until it can", err)
	}
	return plan, nil
}

// resolveTarget makes the target absolute and follows symlinks, so the real
// file is replaced, not the link.
func resolveTarget(target string) (string, error) {
	if target == "" {
		return "", fail(ErrUsage, nil, "--target is required: the path of the installed program to update")
	}
	abs, err := filepath.Abs(target)
	if err != nil {
		return "", fail(ErrUsage, err, "--target %q: %v", target, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fail(ErrUsage, err, "%s does not exist; pass the path of the installed program with --target", abs)
	} else if err != nil {
		return "", fail(ErrUsage, err, "cannot resolve %s: %v", abs, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", fail(ErrUsage, err, "cannot read %s: %v", real, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fail(ErrUsage, nil, "%s is not a regular file; pass the path of the installed program with --target", real)
	}
	return real, nil
}

// latest fetches and verifies the server's signed answer: the key set
// against the trusted root keys (and no older than one seen before), the
// answer against the key set's online keys, fresh and for this question.
func (u *Updater) latest(ctx context.Context, product, goos, arch, current string, seenKeySet int64, lq latestParams) (*api.LatestStatement, *api.KeySet, error) {
	nonce, err := newNonce()
	if err != nil {
		return nil, nil, err
	}
	// sig=tree: the answer may be signed in a tree with others made at the
	// same moment (api/tree.go); a server that does not know it signs the
	// answer alone, which verifies as well.
	q := url.Values{"os": {goos}, "arch": {arch}, "current_sha256": {current}, "nonce": {nonce}, "sig": {api.SigTree}}
	if !u.NoPatch {
		q.Set("patch", api.PatchBSDiff) // delta.go
	}
	lq.set(q)
	if err := u.askRoots(q); err != nil { // roots.go
		return nil, nil, err
	}
	var resp api.LatestResponse
	err = u.callJSON(ctx, "GET", "/v1/products/"+url.PathEscape(product)+"/latest", q, nil, &resp)
	var ae *fetch.APIError
	if errors.As(err, &ae) && ae.Code == api.CodeNotFound {
		return nil, nil, fail(ErrUsage, err, "the server publishes no release of %s for %s/%s; check --product", product, goos, arch)
	} else if errors.As(err, &ae) && (ae.Status >= 500 || ae.Code == api.CodeRateLimited) {
		return nil, nil, transientError(err, i18n.M("checking for a new version"))
	} else if errors.As(err, &ae) {
		return nil, nil, fail(nil, err, "the server refused the check: %s", ae.Message)
	} else if err != nil {
		return nil, nil, err
	}
	ks, err := u.verifyKeys(&resp.Keys, resp.Roots, seenKeySet)
	if err != nil {
		return nil, nil, err
	}
	now := u.Now.Now()
	var st api.LatestStatement
	if err := resp.Answer.VerifyInto(api.PayloadLatest, ks.OnlineKeys, &st); err != nil {
		return nil, nil, fail(ErrVerification, err, "the server's answer is not signed by a trusted key (%v); nothing was installed", err)
	}
	switch {
	case st.Product != product || st.OS != goos || st.Arch != arch || st.CurrentSHA256 != current:
		return nil, nil, fail(ErrVerification, nil, "the server's signed answer is for another question (%s %s/%s); refusing it", st.Product, st.OS, st.Arch)
	case (st.Channel != "" && st.Channel != lq.channel) || (st.Machine != "" && st.Machine != lq.machine):
		return nil, nil, fail(ErrVerification, nil, "the server's signed answer is for another channel or machine; refusing it")
	case st.Nonce != nonce:
		return nil, nil, fail(ErrVerification, nil, "the server's signed answer was not made for this question (a replayed old answer); refusing it; nothing was installed")
	case !now.Before(st.ExpiresAt):
		return nil, nil, fail(ErrVerification, nil,
			"the server's signed answer expired at %s (a replayed old answer, or this computer's clock is wrong); check the date and time, then try again",
			st.ExpiresAt.Format("2006-01-02 15:04 MST"))
	}
	return &st, ks, nil
}

// verifyKeys checks the server's key set against the trusted root keys
// (following the chain of root keys the answer carries, when the key set
// is signed by a newer root: roots.go), its expiry, and that it is no
// older than one seen before.
func (u *Updater) verifyKeys(keys *api.Envelope, roots []api.Envelope, seenKeySet int64) (*api.KeySet, error) {
	trust, err := u.trusted()
	if err != nil {
		return nil, err
	}
	ks, err := api.VerifyKeySet(keys, trust, u.Now.Now())
	if errors.Is(err, api.ErrSignature) && len(roots) > 0 {
		if ks, err = u.followRoots(keys, roots, trust); errors.Is(err, ErrVerification) {
			return nil, err
		}
	}
	switch {
	case errors.Is(err, api.ErrKeySetExpired):
		return nil, fail(ErrVerification, err,
			"the vendor's list of signing keys expired (%v): the vendor must renew it, or this computer's clock is wrong; check the date and time; nothing was installed", err)
	case err != nil:
		return nil, fail(ErrVerification, err, "the server's signing keys are not vouched for by your trust file's root key (%v); nothing was installed", err)
	case ks.Version < seenKeySet:
		return nil, fail(ErrVerification, nil,
			"the server sent version %d of the vendor's key list, older than version %d seen before; refusing it (an old list could bring back a revoked key); nothing was installed",
			ks.Version, seenKeySet)
	}
	return ks, nil
}

// newNonce returns 128 random bits in hex, for the server to sign back.
func newNonce() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// verifyRelease checks a release envelope against the release keys and that
// it is for this product (and platform, when given).
func (u *Updater) verifyRelease(env *api.Envelope, ks *api.KeySet, product, goos, arch string) (api.ReleaseStatement, error) {
	return u.verifyReleaseIn(env, ks, product, goos, arch, "")
}

// verifyReleaseIn is verifyRelease for an installation that follows
// channel: one that follows a channel other than stable has asked for its
// pre-releases.
func (u *Updater) verifyReleaseIn(env *api.Envelope, ks *api.KeySet, product, goos, arch, channel string) (api.ReleaseStatement, error) {
	var r api.ReleaseStatement
	if err := env.VerifyInto(api.PayloadRelease, ks.ReleaseKeys, &r); err != nil {
		return r, fail(ErrVerification, err, "a release is not signed by a trusted release key (%v); nothing was installed", err)
	}
	switch {
	case r.Product != product:
		return r, fail(ErrVerification, nil, "the signed release is for %s, not %s; refusing it", r.Product, product)
	case goos != "" && (r.OS != goos || r.Arch != arch):
		return r, fail(ErrVerification, nil, "the signed release is for %s/%s, not %s/%s; refusing it", r.OS, r.Arch, goos, arch)
	case !api.ValidVersion(r.Version) || r.Size <= 0 || len(r.SHA256) != 64:
		return r, fail(ErrVerification, nil, "the signed release of %s is malformed; refusing it", product)
	case goos != "" && channel == "" && strings.Contains(r.Version, "-"):
		// Pre-releases are published for staff to try; the server never
		// offers one as the latest, so an answer that does is forged.
		return r, fail(ErrVerification, nil, "the server offers the pre-release %s %s as the latest; refusing it", product, r.Version)
	}
	return r, nil
}

// findInstalled sets plan.From: the release the server's catalogue names
// for the installed contents, else the install record, else
// --from-version.
func (u *Updater) findInstalled(req CheckRequest, plan *Plan, st *api.LatestStatement, ks *api.KeySet) error {
	target, current := plan.Target, plan.CurrentSHA256
	switch {
	case st.Installed != nil:
		inst, err := u.verifyRelease(st.Installed, ks, req.Product, "", "")
		if err != nil {
			return err
		}
		if inst.SHA256 != current {
			return fail(ErrVerification, nil, "the server named a release for contents other than the installed file; refusing its answer")
		}
		plan.From, plan.FromSource = inst.Version, SourceCatalogue
	default:
		if rec, err := u.state().InstallRecord(target); err == nil && rec.Product == req.Product && rec.SHA256 == current && current != "" {
			plan.From, plan.FromSource = rec.Version, SourceInstallRecord
		} else if req.FromVersion != "" {
			plan.From, plan.FromSource = req.FromVersion, SourceFlag
		}
	}
	if plan.From == "" && plan.folder != nil {
		return fail(ErrUsage, nil,
			"cannot tell which version of %s is in %s: aktual did not install it there, and its files match no release the server lists; pass --from-version with the version installed",
			req.Product, target)
	}
	if plan.From == "" {
		return fail(ErrUsage, nil,
			"cannot tell which version of %s is at %s: its contents match no published release; check --target, or pass --from-version",
			req.Product, target)
	}
	return nil
}
