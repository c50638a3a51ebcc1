// Package buildinfo names the version of the running binary.
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// Version returns set (a version stamped at build time with -ldflags -X),
// else the module version Go recorded, else "dev".
func Version(set string) string {
	if set != "" {
		return set
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return strings.TrimPrefix(bi.Main.Version, "v")
	}
	return "dev"
}
