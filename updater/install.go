package updater

import (
	"context"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater/internal/fetch"
	"github.com/aktual/aktual/updater/internal/journal"
)

// InstallRequest is a first install of a program folder.
type InstallRequest struct {
	Product string
	// Dir is the program folder to create (or an empty one, or one an
	// uninstall left with the customer's files in it).
	Dir string
	// AllUsers: a per-machine install (recorded for the uninstall).
	AllUsers bool
	// Credential is the same as an update's, asked once the installable
	// release is known to exist: a Pro code, or a hardware key's proof.
	Credential func(ctx context.Context) (api.Credential, error)
	// Confirm, when set, is asked with the plan before anything is
	// downloaded; false stops with ErrDeclined.
	Confirm func(ctx context.Context, p *InstallPlan) (bool, error)
}

// InstallPlan is what a first install does.
type InstallPlan struct {
	Product string
	Dir     string
	Version string // what the credential is entitled to install
	Newest  string // the newest release; an update moves there
	Files   int
	Bytes   int64 // downloaded
	Main    string
}

// Install puts the release a credential is entitled to into a program
// folder, consuming no paid update: the server names the version (the
// one the credential's last consumed update reached, or the one current
// when it was activated), signed by the release key. The folder is
// switched in through the journal like an update's, so a crash leaves
// nothing or the whole version.
func (u *Updater) Install(ctx context.Context, req InstallRequest) (*Result, *InstallPlan, error) {
	if !api.ValidName(req.Product) {
		return nil, nil, fail(ErrUsage, nil, "--product is required: the product's name as the vendor publishes it")
	}
	dir, err := installDir(req.Dir)
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(u.StateDir, 0o700); err != nil {
		return nil, nil, fail(ErrUsage, err, "cannot create the state directory %s: %v; pass a writable --state-dir", u.StateDir, err)
	}
	if rec := u.folderRecord(dir); rec != nil {
		return nil, nil, fail(ErrUsage, nil, "%s %s is already installed in %s; run aktual update --target %s for a newer version", rec.Product, rec.Version, dir, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fail(ErrApply, err, "cannot create %s (%v); choose another folder with --dir, or run as a user who may write there; nothing was changed or used", dir, err)
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real // as an update finds it (macOS's /tmp is /private/tmp)
	}
	unlock, err := journal.Lock(dir)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	if res, err := u.recoverTarget(ctx, dir); err != nil || res != nil {
		return res, nil, err
	}
	cred, err := req.Credential(ctx)
	if err != nil {
		return nil, nil, err
	}
	rel, newest, err := u.installable(ctx, req.Product, cred)
	if err != nil {
		return nil, nil, err
	}
	plan := &Plan{Product: req.Product, Target: dir, Latest: rel, folder: newFolderState(dir, nil)}
	if err := u.prepareFolder(ctx, plan); err != nil {
		return nil, nil, err
	}
	if err := wouldReplace(plan.folder); err != nil {
		return nil, nil, err
	}
	ip := &InstallPlan{Product: req.Product, Dir: dir, Version: rel.Version, Newest: newest,
		Files: plan.Folder.Files, Bytes: plan.Folder.DownloadBytes, Main: plan.folder.new.Main}
	if req.Confirm != nil {
		ok, err := req.Confirm(ctx, ip)
		if err != nil {
			return nil, ip, err
		}
		if !ok {
			return nil, ip, fail(ErrDeclined, nil, "install cancelled; nothing was changed or used")
		}
	}
	res, err := u.installPlanned(ctx, plan)
	if err == nil && req.AllUsers {
		u.markAllUsers(dir)
	}
	return res, ip, err
}

// installPlanned fetches, stages and switches in a first install: free,
// journaled, so recovery finishes or undoes it.
func (u *Updater) installPlanned(ctx context.Context, plan *Plan) (*Result, error) {
	fs := plan.folder
	if err := u.fetchObjects(ctx, plan.Latest, fs); err != nil {
		return nil, err
	}
	if err := stageFolder(fs); err != nil {
		return nil, err
	}
	j := &Journal{
		Target: plan.Target, Product: plan.Product, Server: u.Server, To: plan.Latest.Version,
		NewSHA256: plan.Latest.SHA256, HealthCheck: plan.Latest.HealthCheck,
		Free: true, State: StateReserved, CreatedAt: u.Now.Now().UTC(),
	}
	plan.journalKind(j)
	if err := u.save(j); err != nil {
		return nil, err
	}
	return u.applyFolder(ctx, plan, j)
}

// installDir makes --dir absolute and checks it can be a program folder:
// new, empty, or a folder (an uninstall may have left the customer's
// files in it).
func installDir(dir string) (string, error) {
	if dir == "" {
		return "", fail(ErrUsage, nil, "--dir is required: the folder to install the program in")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fail(ErrUsage, err, "--dir %q: %v", dir, err)
	}
	fi, err := os.Lstat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return abs, nil
	case err != nil:
		return "", fail(ErrUsage, err, "cannot read %s: %v", abs, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return "", fail(ErrUsage, err, "cannot resolve %s: %v", abs, err)
		}
		return installDir(real)
	case !fi.IsDir():
		return "", fail(ErrUsage, nil, "%s is a file; pass --dir a folder to install the program in", abs)
	}
	return abs, nil
}

// installable asks the server which release the credential may install
// and verifies the answer: the key set against the trusted root keys,
// the release against its release keys, for this product and platform.
func (u *Updater) installable(ctx context.Context, product string, cred api.Credential) (api.ReleaseStatement, string, error) {
	goos, arch := u.platform()
	u.phase(PhaseCheck, "asking the server which version of %s this licence installs", product)
	q := url.Values{}
	if err := u.askRoots(q); err != nil { // roots.go
		return api.ReleaseStatement{}, "", err
	}
	var resp api.InstallResponse
	err := u.callJSON(ctx, "POST", "/v1/install", q, api.InstallRequest{Credential: cred, Product: product, OS: goos, Arch: arch}, &resp)
	var ae *fetch.APIError
	switch {
	case errors.As(err, &ae) && ae.Code == api.CodeNotFound:
		return api.ReleaseStatement{}, "", fail(ErrUsage, err, "the server publishes no release of %s for %s/%s; check --product", product, goos, arch)
	case errors.As(err, &ae):
		return api.ReleaseStatement{}, "", credentialError(err)
	case err != nil:
		return api.ReleaseStatement{}, "", err
	}
	seen, err := u.state().LoadSeen(u.Trust)
	if err != nil {
		return api.ReleaseStatement{}, "", err
	}
	ks, err := u.verifyKeys(&resp.Keys, resp.Roots, seen.KeySet)
	if err != nil {
		return api.ReleaseStatement{}, "", err
	}
	rel, err := u.verifyRelease(&resp.Release, ks, product, goos, arch)
	if err != nil {
		return rel, "", err
	}
	if !rel.IsFolder() {
		return rel, "", fail(ErrUsage, nil, "%s is published as a single file, not a program folder; copy it where it belongs and update it with aktual update --target FILE --from-version %s", product, rel.Version)
	}
	if resp.Newest != "" && !api.ValidVersion(resp.Newest) {
		return rel, "", fail(ErrVerification, nil, "the server's answer is malformed; refusing it")
	}
	return rel, resp.Newest, nil
}

// markAllUsers notes a per-machine install in its record, for the
// uninstall.
func (u *Updater) markAllUsers(dir string) {
	rec, err := u.state().InstallRecord(dir)
	if err != nil {
		return
	}
	rec.AllUsers = true
	if err := u.state().WriteInstallRecord(*rec); err != nil {
		u.notice("could not note the install in %s: %v", dir, err)
	}
}

// wouldReplace refuses a first install into a folder that holds a file
// the program would overwrite: it is someone's, not aktual's. Files the
// release does not name, preserved ones (an uninstall leaves the
// customer's data), and files already as the release has them are fine.
func wouldReplace(fs *folderState) error {
	for _, p := range fs.sw.Put {
		if path := fs.work.Path(p.Path); fileExists(path) {
			return fail(ErrUsage, nil, "%s already holds %s, which installing the program would replace; install into an empty or new folder with --dir, or move that file away; nothing was changed or used",
				fs.work.Dir, p.Path)
		}
	}
	return nil
}
