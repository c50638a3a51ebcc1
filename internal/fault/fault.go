// Package fault kills the process at a named step, for the crash tests
// that prove no paid update is lost or spent twice. Only a binary built
// with the aktualfault tag can be killed: in every other build Hit does
// nothing. The step is chosen by the environment variable AKTUAL_FAULT.
package fault

// Env names the variable that arms a step in an aktualfault build.
const Env = "AKTUAL_FAULT"

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
