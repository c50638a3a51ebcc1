//go:build windows

package osapp

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The Restart Manager (rstrtmgr.dll, Windows Vista on) answers which
// processes hold files open, the question Windows installers ask before
// replacing files that would be locked.
var (
	modRstrtmgr             = windows.NewLazySystemDLL("rstrtmgr.dll")
	procRmStartSession      = modRstrtmgr.NewProc("RmStartSession")
	procRmRegisterResources = modRstrtmgr.NewProc("RmRegisterResources")
	procRmGetList           = modRstrtmgr.NewProc("RmGetList")
	procRmEndSession        = modRstrtmgr.NewProc("RmEndSession")
)

// rmBatch is how many files one RmRegisterResources call registers.
const rmBatch = 1000

// rmTries bounds RmGetList's retries: processes may open the files
// between the call that sizes the list and the one that fills it.
const rmTries = 5

// InUse returns the processes that hold any of files open or run them,
// from the Restart Manager.
func InUse(files []string) ([]Process, error) {
	if err := checkCount(files); err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, nil
	}
	if err := modRstrtmgr.Load(); err != nil {
		return nil, inUseError(err)
	}
	var session uint32
	key := make([]uint16, cchRMSessionKey+1)
	if r, _, _ := procRmStartSession.Call(uintptr(unsafe.Pointer(&session)), 0, uintptr(unsafe.Pointer(&key[0]))); r != 0 {
		return nil, inUseError(windows.Errno(r))
	}
	// An error ending the session leaves nothing to undo: it ends with the process.
	defer procRmEndSession.Call(uintptr(session))

	for start := 0; start < len(files); start += rmBatch {
		batch := files[start:min(start+rmBatch, len(files))]
		names := make([]*uint16, len(batch))
		for i, f := range batch {
			p, err := windows.UTF16PtrFromString(f)
			if err != nil {
				return nil, inUseError(err)
			}
			names[i] = p
		}
		r, _, _ := procRmRegisterResources.Call(uintptr(session),
			uintptr(len(names)), uintptr(unsafe.Pointer(&names[0])), 0, 0, 0, 0)
		if r != 0 {
			return nil, inUseError(windows.Errno(r))
		}
	}
	infos, err := rmList(session)
	if err != nil {
		return nil, inUseError(err)
	}
	return rmProcesses(infos), nil
}

// rmList is RmGetList's answer, asked again with more room while it says
// ERROR_MORE_DATA.
func rmList(session uint32) ([]rmProcessInfo, error) {
	var infos []rmProcessInfo
	for range rmTries {
		var needed, n uint32
		var reasons uint32
		n = uint32(len(infos))
		var p *rmProcessInfo
		if n > 0 {
			p = &infos[0]
		}
		r, _, _ := procRmGetList.Call(uintptr(session), uintptr(unsafe.Pointer(&needed)),
			uintptr(unsafe.Pointer(&n)), uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&reasons)))
		switch err := windows.Errno(r); {
		case r == 0:
			return infos[:min(n, uint32(len(infos)))], nil
		case errors.Is(err, windows.ERROR_MORE_DATA):
			infos = make([]rmProcessInfo, needed+needed/4+1)
		default:
			return nil, err
		}
	}
	return nil, windows.ERROR_MORE_DATA
}

// rmProcesses is the list as Processes, with each one's executable when
// Windows tells it, at most maxFound.
func rmProcesses(infos []rmProcessInfo) []Process {
	var out []Process
	for _, in := range infos[:min(len(infos), maxFound)] {
		out = append(out, Process{
			PID:  int(in.Process.ProcessID),
			Name: windows.UTF16ToString(in.AppName[:]),
			Path: imagePath(in.Process),
		})
	}
	return out
}

// imagePath is the executable of the process p names, or "" when it
// cannot be opened (another user's, exited) or its PID is now another
// process's.
func imagePath(p rmUniqueProcess) string {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, p.ProcessID)
	if err != nil {
		return ""
	}
	defer windows.CloseHandle(h)
	var created, exited, kernel, user windows.Filetime
	if windows.GetProcessTimes(h, &created, &exited, &kernel, &user) != nil ||
		created.LowDateTime != p.StartTime.Low || created.HighDateTime != p.StartTime.High {
		return ""
	}
	buf := make([]uint16, windows.MAX_LONG_PATH)
	n := uint32(len(buf))
	if windows.QueryFullProcessImageName(h, 0, &buf[0], &n) != nil {
		return ""
	}
	return windows.UTF16ToString(buf[:n])
}

// Running is InUse: on Windows a program that holds a file (running it or
// not) stops its replacement, so the whole answer is needed.
func Running(files []string) ([]Process, error) { return InUse(files) }
