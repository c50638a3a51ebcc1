package testenv

import "golang.org/x/sys/windows"

// UnderWine reports whether this Windows program runs under Wine: Wine's
// ntdll exports wine_get_version, which Windows' does not.
func UnderWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
