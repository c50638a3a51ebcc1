//go:build windows

package swap

// CommitSelf puts a staged aktual in place with selfupdate's swap: Windows
// cannot rename a file over a running program, so the running aktual is
// renamed aside first. A crash between those two renames leaves the old
// aktual beside its path (.aktual.exe.old) and the new one staged
// (.aktual.exe.new); aktual recover, run from a copy of either, finishes
// the swap (docs/scripting.md says so).
func CommitSelf(target, sha256hex string) (rollbackFailed bool, err error) {
	return Commit(target, sha256hex)
}
