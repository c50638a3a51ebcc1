package osapp

import (
	"testing"
	"unsafe"
)

// RM_PROCESS_INFO as restartmanager.h lays it out on every Windows
// architecture: DWORD alignment, 668 bytes.
func TestRMProcessInfoLayout(t *testing.T) {
	var p rmProcessInfo
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"size", unsafe.Sizeof(p), 668},
		{"RM_UNIQUE_PROCESS size", unsafe.Sizeof(p.Process), 12},
		{"ProcessStartTime", unsafe.Offsetof(p.Process.StartTime), 4},
		{"strAppName", unsafe.Offsetof(p.AppName), 12},
		{"strServiceShortName", unsafe.Offsetof(p.ServiceShortName), 12 + 2*256},
		{"ApplicationType", unsafe.Offsetof(p.ApplicationType), 12 + 2*256 + 2*64},
		{"bRestartable", unsafe.Offsetof(p.Restartable), 664},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
}
