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

// ClientSteps lists the client's steps in order.
var ClientSteps = []string{MidDownload, AfterIntent, ReserveSent, ReserveAnswered, AfterStaging, BetweenRenames, AfterSwap, DuringHealth, CompleteSent}
