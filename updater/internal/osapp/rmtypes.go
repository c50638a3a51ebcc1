package osapp

// The Restart Manager's structures (restartmanager.h), laid out as
// Windows lays them out. They build on every OS so a test checks their
// size where it runs; only inuse_windows.go passes them to Windows.

const (
	cchRMSessionKey = 32  // CCH_RM_SESSION_KEY: a GUID in hex
	cchRMMaxAppName = 255 // CCH_RM_MAX_APP_NAME
	cchRMMaxSvcName = 63  // CCH_RM_MAX_SVC_NAME
)

// rmFiletime is FILETIME: two DWORDs, aligned on four bytes.
type rmFiletime struct {
	Low, High uint32
}

// rmUniqueProcess is RM_UNIQUE_PROCESS: a PID and its start time, which
// tell a process from a later one given the same PID.
type rmUniqueProcess struct {
	ProcessID uint32
	StartTime rmFiletime
}

// rmProcessInfo is RM_PROCESS_INFO, 668 bytes.
type rmProcessInfo struct {
	Process          rmUniqueProcess
	AppName          [cchRMMaxAppName + 1]uint16
	ServiceShortName [cchRMMaxSvcName + 1]uint16
	ApplicationType  uint32 // RM_APP_TYPE
	AppStatus        uint32
	TSSessionID      uint32
	Restartable      int32 // BOOL
}
