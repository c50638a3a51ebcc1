//go:build windows

package cli

import "strings"

const demoProgramName = "demo-app.cmd"

// demoProgram is a tiny batch program that prints its version. The padding
// after `exit` is never read by cmd.exe; it only makes the download long
// enough to watch.
func demoProgram(version string, padding int) []byte {
	var b strings.Builder
	b.WriteString("@echo off\r\necho demo-app " + version + "\r\nexit /b 0\r\n")
	line := "rem " + strings.Repeat("aktual demo padding ", 3) + "\r\n"
	for b.Len() < padding {
		b.WriteString(line)
	}
	return []byte(b.String())
}
