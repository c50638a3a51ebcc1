package updater

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/journal"
	"github.com/aktual/aktual/updater/internal/osapp"
)

// CheckAllUsers says, before anything is downloaded, when this process
// lacks the rights a per-machine install at dir needs (exit 2).
func CheckAllUsers(dir string) error { return osapp.CheckAllUsers(dir) }

// osInUse asks the operating system which programs hold files: on
// Windows all that hold them (any stops the switch); elsewhere those that
// run them, which only draw a warning.
func osInUse(files []string) ([]Process, error) {
	procs, err := osapp.Running(files)
	out := make([]Process, len(procs))
	for i, p := range procs {
		out[i] = Process{PID: p.PID, Name: p.Name, Path: p.Path}
	}
	return out, err
}

// Integrate registers a first install of the folder dir with the system:
// on Windows the "Apps & features" entry (its uninstall command runs
// aktualExe) and a Start-menu shortcut to the program; on Linux a menu
// entry. What it made is noted in the install record, for the uninstall;
// updates never make a shortcut again (one the customer deleted stays
// deleted). It returns a sentence saying what was made.
func (u *Updater) Integrate(dir, main, aktualExe string, allUsers bool) (string, error) {
	rec, err := u.state().InstallRecord(dir)
	if err != nil || rec.Kind != journal.KindFolder {
		return "", i18n.Errorf("aktual's record of %s is missing: %v", dir, err)
	}
	var errs []error
	var made []i18n.Message
	if runtime.GOOS == "windows" {
		reg := u.registration(rec, aktualExe, allUsers)
		if err := osapp.Register(reg); err != nil {
			errs = append(errs, i18n.Errorf("it could not be added to Apps & features: %w", err))
		} else {
			rec.Registration = reg.ID
			made = append(made, i18n.M("It is listed in Apps & features."))
		}
	}
	if main != "" {
		if path, err := makeShortcut(rec.Product, filepath.Join(dir, filepath.FromSlash(main)), dir, allUsers); err != nil {
			errs = append(errs, i18n.Errorf("its shortcut could not be made: %w", err))
		} else if path != "" {
			rec.Shortcut = path
			if runtime.GOOS == "windows" {
				made = append(made, i18n.M("Its shortcut is in the Start menu (%s).", path))
			} else {
				made = append(made, i18n.M("It is in the applications menu (%s).", path))
			}
		}
	}
	rec.AllUsers = allUsers
	if err := u.state().WriteInstallRecord(*rec); err != nil {
		errs = append(errs, err)
	}
	sentence := ""
	for i, m := range made {
		if i > 0 {
			sentence += " "
		}
		sentence += m.String()
	}
	return sentence, errors.Join(errs...)
}

// registration is the "Apps & features" entry of an installed folder.
func (u *Updater) registration(rec *InstallRecord, aktualExe string, allUsers bool) osapp.Registration {
	publisher := u.Server
	if su, err := url.Parse(u.Server); err == nil && su.Host != "" {
		publisher = su.Hostname()
	}
	var size uint32
	if m, err := u.state().LoadManifest(rec.SHA256); err == nil && m != nil {
		size = uint32(min(m.TotalSize()/1024, 1<<32-1))
	}
	uninstall := fmt.Sprintf(`"%s" uninstall --target "%s"`, aktualExe, rec.Target)
	reg := osapp.Registration{
		ID: "aktual-" + rec.Product, DisplayName: rec.Product, DisplayVersion: rec.Version, Publisher: publisher,
		InstallLocation: rec.Target, EstimatedSizeKB: size, AllUsers: allUsers,
		UninstallString: uninstall, QuietUninstallString: uninstall + " --json",
	}
	if rec.Main != "" {
		reg.DisplayIcon = filepath.Join(rec.Target, filepath.FromSlash(rec.Main))
	}
	return reg
}

// makeShortcut puts the program in the Start menu (Windows) or the
// applications menu (Linux); elsewhere it makes nothing ("").
func makeShortcut(product, target, workDir string, allUsers bool) (string, error) {
	switch runtime.GOOS {
	case "windows":
		dir, err := osapp.StartMenuDir(allUsers)
		if err != nil {
			return "", err
		}
		path := filepath.Join(dir, product+".lnk")
		return path, osapp.CreateShortcut(path, target, workDir, product)
	case "linux":
		dir, err := osapp.ApplicationsDir(allUsers)
		if err != nil {
			return "", err
		}
		path := filepath.Join(dir, "aktual-"+product+".desktop")
		return path, osapp.CreateDesktopEntry(path, product, target, workDir, product)
	}
	return "", nil
}

// unregisterOS removes what Integrate made.
func unregisterOS(rec *InstallRecord) error {
	var errs []error
	if rec.Registration != "" {
		errs = append(errs, osapp.Unregister(rec.Registration, rec.AllUsers))
	}
	if rec.Shortcut != "" {
		errs = append(errs, osapp.RemoveShortcut(rec.Shortcut))
	}
	return errors.Join(errs...)
}
