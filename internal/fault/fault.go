// Package fault kills the process at a named step, for the crash tests
// that prove no paid update is lost or spent twice. Only a binary built
// with the aktualfault tag can be killed: in every other build Hit does
// nothing. The step is chosen by the environment variable AKTUAL_FAULT.
//
// With AKTUAL_FAULT_MODE=interrupt the armed step does not kill the
// process but interrupts it, as a Ctrl-C pressed at that instant would
// (SIGINT to itself, on Unix; nothing on Windows), for the tests that
// prove a Ctrl-C at any moment stops cleanly and loses nothing.
package fault

// Env names the variable that arms a step in an aktualfault build.
const Env = "AKTUAL_FAULT"

// ModeEnv names the variable that chooses what the armed step does:
// ModeKill (the default, also when unset) or ModeInterrupt.
const ModeEnv = "AKTUAL_FAULT_MODE"

// Modes of an armed step.
const (
	ModeKill      = "kill"      // SIGKILL (TerminateProcess on Windows): a crash
	ModeInterrupt = "interrupt" // SIGINT to itself, then carry on: a Ctrl-C
)

// Steps of the client's update, in order, and of the server.
const (
	MidDownload     = "mid-download"           // half the artifact written, nothing reserved
	AfterIntent     = "after-intent"           // journal at intent, nothing sent
	ReserveSent     = "after-reserve-sent"     // the reserve request is on the wire
	ReserveAnswered = "after-reserve-answered" // the server's answer read, not journalled
	AfterStaging    = "after-staging"          // new file staged and journalled
	BetweenRenames  = "between-renames"        // target renamed aside, new file not yet in place
	AfterSwap       = "after-swap"             // target replaced, not journalled
	DuringHealth    = "during-health-check"    // the new version's check running
	CompleteSent    = "after-complete-sent"    // the completion is on the wire

	ServerAfterReserveCommit = "server-after-reserve-commit" // reserved, not answered
)

// Steps of a folder's update (and first install), hit once per file where
// the step is inside a loop: AKTUAL_FAULT_COUNT=N arms the Nth hit, so a
// test can kill a run at any file of the download, the staging, the
// switch or its undo.
const (
	FolderFetched  = "folder-fetched"  // one more file downloaded (or copied) and verified
	FolderStaged   = "folder-staged"   // one more file staged
	FolderSwitched = "folder-switched" // one more rename of the switch done
	FolderUndone   = "folder-undone"   // one more rename of an undo done
	FolderApplied  = "folder-applied"  // the whole new version in place, health not yet checked
)

// CountEnv names the variable that says at which hit of the armed step
// the process dies (default 1, the first).
const CountEnv = "AKTUAL_FAULT_COUNT"

// FolderSteps lists a folder update's steps in order; with the client's
// reserve and completion steps they cover every instant of a folder's
// update.
var FolderSteps = []string{FolderFetched, FolderStaged, AfterIntent, ReserveSent, ReserveAnswered, FolderSwitched, FolderApplied, DuringHealth, CompleteSent}

// ClientSteps lists the client's steps in order.
var ClientSteps = []string{MidDownload, AfterIntent, ReserveSent, ReserveAnswered, AfterStaging, BetweenRenames, AfterSwap, DuringHealth, CompleteSent}
