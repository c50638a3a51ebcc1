package updater

import (
	"context"
	"os"
	"runtime"
	"strings"

	"github.com/aktual/aktual/internal/i18n"
)

// Process is a running program that holds files of a program folder open
// (or runs one of them).
type Process struct {
	PID  int    `json:"pid"`
	Name string `json:"name"`
	Path string `json:"path,omitempty"`
}

// InUseError is the error of an update that stops because procs hold the
// files of target: exit 9, nothing changed or used.
func InUseError(target string, procs []Process) error {
	return fail(ErrInUse, nil, "files of %s are in use by %s; close them (on every computer that runs the program from this folder), then run the update again; nothing was changed or used",
		target, ProcessNames(procs))
}

// ProcessNames lists processes for a person: "accounting.exe (PID 412), …".
func ProcessNames(procs []Process) string {
	names := make([]string, 0, len(procs))
	for _, p := range procs {
		names = append(names, i18n.M("%s (PID %d)", p.Name, p.PID).String())
	}
	return strings.Join(names, ", ")
}

// filesInUse asks the operating system which programs hold files.
func (u *Updater) filesInUse(files []string) ([]Process, error) {
	if u.FilesInUse != nil {
		return u.FilesInUse(files)
	}
	return osInUse(files)
}

// blocksInUse: Windows cannot replace a file a program holds, so the
// update waits; elsewhere a running program keeps its old files open and
// the update goes on with a warning.
func (u *Updater) blocksInUse() bool {
	if u.InUseBlocks != nil {
		return *u.InUseBlocks
	}
	return runtime.GOOS == "windows"
}

// waitForFiles finds, before anything is reserved, whether programs hold
// the files the switch replaces or removes. Where that blocks the switch
// (Windows) it asks req.InUse what to do, again until they are closed or
// it says stop; with no InUse it stops at once (exit 9). Elsewhere it
// warns that the running copy keeps the old version until restarted.
func (u *Updater) waitForFiles(ctx context.Context, req Request, plan *Plan) error {
	fs := plan.folder
	var files []string
	for _, p := range fs.sw.Put {
		if path := fs.work.Path(p.Path); fileExists(path) {
			files = append(files, path)
		}
	}
	for _, rel := range fs.sw.Remove {
		files = append(files, fs.work.Path(rel))
	}
	if len(files) == 0 {
		return nil
	}
	for {
		procs, err := u.filesInUse(files)
		if err != nil {
			u.notice("cannot tell whether programs use %s (%v); if one does, the switch fails and nothing is changed or used", plan.Target, err)
			return nil
		}
		procs = notSelf(procs)
		if len(procs) == 0 {
			return nil
		}
		if !u.blocksInUse() {
			u.notice("%s is running from %s (%s); it keeps the old version until it is restarted", plan.Product, plan.Target, ProcessNames(procs))
			return nil
		}
		if req.InUse == nil {
			return InUseError(plan.Target, procs)
		}
		if err := req.InUse(ctx, procs); err != nil {
			return err
		}
	}
}

func notSelf(procs []Process) []Process {
	out := procs[:0]
	for _, p := range procs {
		if p.PID != os.Getpid() {
			out = append(out, p)
		}
	}
	return out
}
