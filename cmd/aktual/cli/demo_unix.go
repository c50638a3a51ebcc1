//go:build !windows

package cli

import "strings"

const demoProgramName = "demo-app"

// demoProgram is a tiny shell program that prints its version. The padding
// after `exit` is never read by the shell; it only makes the download long
// enough to watch.
func demoProgram(version string, padding int) []byte {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# aktual demo program\necho \"demo-app " + version + "\"\nexit 0\n")
	line := "# " + strings.Repeat("aktual demo padding ", 3) + "\n"
	for b.Len() < padding {
		b.WriteString(line)
	}
	return []byte(b.String())
}
