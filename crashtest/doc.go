// Package crashtest kills aktual and aktuald with SIGKILL at every step of
// an update, and in a long random soak, and checks the promise each time:
// a paid update is consumed if and only if it was applied.
package crashtest
