package updater

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/fault"
	"github.com/aktual/aktual/updater/internal/fetch"
	"github.com/aktual/aktual/updater/internal/folder"
	"github.com/aktual/aktual/updater/internal/journal"
	"github.com/aktual/aktual/updater/internal/swap"
)

// resolveUpdateTarget finds what --target names: a program folder (a
// folder, or a file inside a folder aktual installed) with its state, or
// a single file (folder state nil), as before folders existed.
func (u *Updater) resolveUpdateTarget(target string) (string, *folderState, error) {
	if target == "" {
		return "", nil, fail(ErrUsage, nil, "--target is required: the path of the installed program (its file, or its folder) to update")
	}
	abs, err := filepath.Abs(target)
	if err != nil {
		return "", nil, fail(ErrUsage, err, "--target %q: %v", target, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, fail(ErrUsage, err, "%s does not exist; pass the path of the installed program with --target", abs)
	} else if err != nil {
		return "", nil, fail(ErrUsage, err, "cannot resolve %s: %v", abs, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", nil, fail(ErrUsage, err, "cannot read %s: %v", real, err)
	}
	if fi.IsDir() {
		return real, newFolderState(real, u.folderRecord(real)), nil
	}
	for dir := filepath.Dir(real); ; dir = filepath.Dir(dir) {
		if rec := u.folderRecord(dir); rec != nil {
			return dir, newFolderState(dir, rec), nil
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	path, err := resolveTarget(real)
	return path, nil, err
}

// folderRecord is the install record of a program folder aktual
// installed at dir, or nil.
func (u *Updater) folderRecord(dir string) *InstallRecord {
	rec, err := u.state().InstallRecord(dir)
	if err != nil || rec.Kind != journal.KindFolder || rec.Target != dir {
		return nil
	}
	return rec
}

// sameKind refuses a file's update for a folder release, and the reverse.
func sameKind(fs *folderState, latest api.ReleaseStatement, target string) error {
	switch {
	case fs != nil && !latest.IsFolder():
		return fail(ErrUsage, nil, "%s is a folder, but %s %s is published as a single file; pass --target the program's file", target, latest.Product, latest.Version)
	case fs == nil && latest.IsFolder():
		return fail(ErrUsage, nil, "%s %s is published as a whole program folder; pass --target the folder the program is installed in", latest.Product, latest.Version)
	}
	return nil
}

// prepareFolder fetches and checks the new manifest, reads the installed
// version's, and plans the switch: what Plan.Folder then says.
func (u *Updater) prepareFolder(ctx context.Context, plan *Plan) error {
	fs := plan.folder // fs.old is set already when the folder was recognised by its files
	if fs.record != nil && fs.record.SHA256 == plan.CurrentSHA256 && plan.CurrentSHA256 != "" {
		old, err := u.state().LoadManifest(plan.CurrentSHA256)
		if err != nil {
			u.notice("the kept list of the installed files is damaged (%v); files the new version drops are left in place", err)
		}
		fs.old = old
		if idx := u.state().LoadIndex(plan.Target); idx.Manifest == plan.CurrentSHA256 {
			fs.index = idx
		}
	}
	if err := u.fetchManifest(ctx, plan.Latest, fs); err != nil {
		return err
	}
	if err := planSwitch(fs); err != nil {
		return err
	}
	plan.Folder = fs.info()
	return nil
}

// updateFolder carries out a folder's plan: fetch and stage every changed
// file, wait until no program holds the folder's files, then reserve,
// switch and report as a file's update does.
func (u *Updater) updateFolder(ctx context.Context, req Request, plan *Plan) (*Result, error) {
	fs := plan.folder
	if err := u.fetchObjects(ctx, plan.Latest, fs); err != nil {
		return nil, err
	}
	u.phase(PhaseVerify, "every file of %s %s is checked against its signed manifest", plan.Product, plan.Latest.Version)
	if err := stageFolder(fs); err != nil {
		return nil, err
	}
	if err := u.waitForFiles(ctx, req, plan); err != nil {
		fs.work.CleanStage()
		return nil, err
	}
	if err := u.keepDisplaced(fs); err != nil {
		fs.work.CleanStage()
		return nil, err
	}
	if plan.Downgrade || plan.Free {
		return u.downgrade(ctx, plan, "")
	}
	cred, err := req.Credential(ctx, plan)
	if err != nil {
		fs.work.CleanStage()
		return nil, err
	}
	return u.reserveAndApply(ctx, plan, cred, "")
}

// applyFolder switches a reserved (or free) folder update in, checks the
// program's health, and reports it. From the saved "staged" journal on,
// a crash is finished by recovery: the switch goes forward.
func (u *Updater) applyFolder(ctx context.Context, plan *Plan, j *Journal) (*Result, error) {
	w, sw := plan.folder.work, plan.folder.sw
	if ctx.Err() != nil {
		return nil, u.abandonFolder(ctx, j, fail(nil, ctx.Err(), "stopped before installing %s %s", j.Product, j.To))
	}
	if err := w.SaveSwitch(sw); err != nil {
		return nil, u.abandonFolder(ctx, j, fail(ErrApply, err, "cannot write in the work folder %s: %v", w.Root, err))
	}
	j.State = StateStaged
	if err := u.save(j); err != nil {
		return nil, u.abandonFolder(ctx, j, err)
	}
	u.phase(PhaseApply, "installing %s %s", plan.Product, plan.Latest.Version)
	if err := w.Apply(sw); err != nil {
		if uerr := w.Undo(sw); uerr != nil {
			return nil, fail(nil, err, "switching %s to %s %s failed (%v), and putting the old version back failed too (%v); close the programs that use the folder, then run aktual recover",
				j.Target, j.Product, j.To, fetch.RootCause(err), uerr)
		}
		cause := told(err) // a file held by another program, or access denied: the switch said which
		if cause == nil {
			cause = fail(ErrApply, err, "cannot switch %s to the new version (%v)", j.Target, fetch.RootCause(err))
		}
		return nil, u.abandonFolder(ctx, j, cause)
	}
	fault.Hit(fault.FolderApplied)
	if err := u.folderHealth(ctx, j, w); err != nil {
		if uerr := w.Undo(sw); uerr != nil {
			return nil, fail(nil, uerr, "%s %s failed its health check (%v), and the old version could not be put back yet (%v); run aktual recover: it checks the new version again and puts the old one back if it still fails", j.Product, j.To, err, uerr)
		}
		return nil, u.abandonFolder(ctx, j, fail(ErrApply, rolledBack{err}, "%s %s failed its health check (%v); the old version was put back", j.Product, j.To, err))
	}
	j.State = StateApplied
	if err := u.save(j); err != nil {
		// The plan stays: recovery finds the switch done from it.
		u.notice("could not record the applied update in the journal: %v", err)
	} else {
		u.keepFolder(j, w)
	}
	put := make(map[string]bool, len(sw.Put))
	for _, p := range sw.Put {
		put[p.Path] = true
	}
	_ = u.state().SaveIndex(j.Target, buildIndex(w, plan.folder.new, j.NewSHA256, plan.folder.index, put))
	return u.report(ctx, j)
}

// folderHealth runs the new version's health check on its program, when
// its release has one.
func (u *Updater) folderHealth(ctx context.Context, j *Journal, w folder.Work) error {
	if len(j.HealthCheck) == 0 || j.Main == "" {
		return nil
	}
	u.phase(PhaseHealth, "checking that %s %s starts", j.Product, j.To)
	return swap.HealthCheck(ctx, w.Path(j.Main), j.HealthCheck, u.HealthTimeout)
}

// abandonFolder ends a folder update that will not be applied, its
// switch undone: the stage is cleared (the verified downloads stay for
// the next run) and the held update given back. cause says why.
func (u *Updater) abandonFolder(ctx context.Context, j *Journal, cause error) error {
	w := folder.For(j.Target)
	w.CleanStage()
	if j.Free {
		u.forgetJournal(j.Target)
		return fail(kindOf(cause), cause, "%v; %s is unchanged", cause, j.Target)
	}
	rctx, cancel := detached(ctx)
	defer cancel()
	if err := u.release(rctx, j.ReservationID); err != nil {
		return fail(kindOf(cause), cause, "%v; %s is unchanged. The held update could not be given back yet (%v); it is given back the next time aktual runs, or by itself when the reservation expires",
			cause, j.Target, fetch.RootCause(err))
	}
	u.forgetJournal(j.Target)
	return fail(kindOf(cause), cause, "%v; %s is unchanged and no update was used", cause, j.Target)
}

// told is the failure inside err that already names its file, says what
// to do and carries its kind (held.Explain's: a file another program
// holds, or access denied), or nil. Wrapped again, it would say its file
// twice.
func told(err error) *Error {
	var e *Error
	if errors.As(err, &e) && e.Kind != nil {
		return e
	}
	return nil
}

// kindOf is the kind cause carries, ErrApply when none.
func kindOf(cause error) error {
	var e *Error
	if errors.As(cause, &e) && e.Kind != nil {
		return e.Kind
	}
	if errors.Is(cause, context.Canceled) {
		return nil
	}
	return ErrApply
}

// keepFolder keeps the new manifest in the state directory (the next
// update's "old" version) and removes the work folder: the old files it
// holds are no longer needed once the update is applied.
func (u *Updater) keepFolder(j *Journal, w folder.Work) {
	var err error
	if m, _ := u.state().LoadManifest(j.NewSHA256); m == nil {
		var data []byte
		data, err = os.ReadFile(w.ManifestPath())
		if err == nil && api.SHA256Hex(data) == j.NewSHA256 {
			err = u.state().SaveManifest(j.NewSHA256, data)
		}
	}
	if err != nil {
		// A cache: the update is applied all the same.
		u.notice("could not keep the list of installed files (%v); the next update of %s leaves files it drops in place", err, j.Target)
	}
	if err := w.Clean(); err != nil {
		u.notice("could not remove the work folder %s (%v); remove it by hand", w.Root, err)
	}
}

// recordFolder writes a folder's install record and index after an
// update or install: the fields the first install set are kept.
func (u *Updater) recordFolder(j *Journal) {
	r := InstallRecord{Target: j.Target, Product: j.Product, Version: j.To, SHA256: j.NewSHA256,
		Kind: journal.KindFolder, Main: j.Main, Server: j.Server, Channel: j.Channel}
	if prev, err := u.state().InstallRecord(j.Target); err == nil && prev.Kind == journal.KindFolder {
		r.AllUsers, r.Shortcut, r.Registration = prev.AllUsers, prev.Shortcut, prev.Registration
		r.Channel = cmp.Or(r.Channel, prev.Channel)
		if prev.SHA256 != j.NewSHA256 {
			defer u.state().RemoveManifest(prev.SHA256)
		}
	}
	if err := u.state().WriteInstallRecord(r); err != nil {
		u.notice("%s %s is installed, but aktual could not note it (%v); pass --from-version %s to the next update", j.Product, j.To, err, j.To)
		return
	}
	if idx := u.state().LoadIndex(j.Target); idx.Manifest == j.NewSHA256 {
		return // written by the switch (applyFolder)
	}
	if m, err := u.state().LoadManifest(j.NewSHA256); err == nil && m != nil {
		_ = u.state().SaveIndex(j.Target, buildIndex(folder.For(j.Target), m, j.NewSHA256, journal.Index{}, nil))
	}
}

// settleFolder is recovery's settleSwap for a folder: at "staged" the
// switch goes forward (the update is reserved and every file verified)
// and the health check runs again; if either fails, the old version is
// put back. At "reserved" nothing was switched: the stage is cleared.
func (u *Updater) settleFolder(ctx context.Context, j *Journal) (applied, rolledBack bool, err error) {
	w := folder.For(j.Target)
	switch j.State {
	case StateApplied:
		if sw, _ := w.LoadSwitch(); sw != nil {
			if err := w.Apply(sw); err != nil {
				return false, false, err
			}
		}
		return true, false, nil // reportRecovered cleans the work folder
	case StateReserved:
		w.CleanStage()
		return false, false, nil
	}
	sw, err := w.LoadSwitch()
	if err != nil {
		return false, false, err
	}
	if sw == nil {
		// No plan beside a "staged" journal: it was removed (by hand, or
		// a cleaning cut short). The folder tells: the new version whole
		// in it is applied; anything else was never switched.
		m, err := u.state().LoadManifest(j.NewSHA256)
		return err == nil && m != nil && holds(w.Path, m, map[string]string{}), false, nil
	}
	if err := w.Apply(sw); err != nil {
		if uerr := w.Undo(sw); uerr != nil {
			return false, false, uerr
		}
		w.CleanStage()
		return false, false, nil
	}
	if err := u.folderHealth(ctx, j, w); err != nil {
		if uerr := w.Undo(sw); uerr != nil {
			return false, false, uerr
		}
		w.CleanStage()
		return false, true, nil
	}
	// Applied: the work folder goes once the journal says so
	// (reportRecovered), never before: a kill in between must find the
	// plan again.
	return true, false, nil
}

// journalKind marks a folder update's journal.
func (p *Plan) journalKind(j *Journal) {
	if p.folder != nil {
		j.Kind, j.Main = journal.KindFolder, p.folder.new.Main
	}
}

// newJournal is the journal of carrying out the plan, in state, made
// now: what every update records, whether paid (with its key) or free.
func (u *Updater) newJournal(p *Plan, state string) *Journal {
	j := &Journal{
		Target: p.Target, Product: p.Product, Server: u.Server,
		From: p.From, To: p.Latest.Version,
		OldSHA256: p.CurrentSHA256, NewSHA256: p.Latest.SHA256, HealthCheck: p.Latest.HealthCheck,
		State: state, CreatedAt: u.Now.Now().UTC(), Channel: p.Channel,
	}
	p.journalKind(j)
	if p.Path != nil && !p.Path.Free && p.Path.To != p.Latest.Version {
		j.PathTo = p.Path.To
	}
	return j
}

// keepDisplaced copies each of the customer's files that stands where the
// new version adds a file to a name of its own beside it ("report.rpt"
// → "report.aktual-saved.rpt"), before anything is reserved: the switch
// then replaces the file, and the customer's bytes are still there.
func (u *Updater) keepDisplaced(fs *folderState) error {
	for _, rel := range fs.displaced {
		src := fs.work.Path(rel)
		ext := filepath.Ext(src)
		base := strings.TrimSuffix(src, ext)
		sum, size, err := hashFile(src)
		dst := base + ".aktual-saved" + ext
		for n := 2; err == nil && fileExists(dst); n++ {
			if got, _, _ := hashFile(dst); got == sum {
				break // kept by an earlier attempt
			}
			dst = fmt.Sprintf("%s.aktual-saved-%d%s", base, n, ext)
		}
		if err == nil && !fileExists(dst) {
			err = copyVerified(src, dst, api.ManifestFile{SHA256: sum, Size: size})
		}
		if err != nil {
			return fail(ErrApply, err, "%s is yours and stands where the new version puts a file; it could not be kept under another name (%v); move it away, then run the update again; nothing was changed or used", src, err)
		}
		u.notice("%s is yours and stands where the new version puts a file: it is kept as %s", src, dst)
	}
	return nil
}
