// Package staff owns who a staff member is and how they prove it, for the
// admin API (bearer tokens) and the console (cookies) of aktuald: password
// hashing (argon2id), TOTP second factors, API tokens, console session IDs
// and CSRF values, the roles and what each may do, the client's address
// behind a reverse proxy, and the login and request throttling policy.
//
// It is pure policy and cryptography: it keeps no state (beyond a bound
// on the password hashes computed at once) and opens no database. What it
// needs from storage it takes as values (the store.StaffAccount and
// store.APIToken records) or as a small interface (Counter, whose methods
// are store.Staff's), so every rule here is tested without a server. Time
// is always a parameter, never read from the clock, so tests control it.
//
// A console login, as the pieces are meant to fit (the admin API's bearer
// tokens need only ParseBearer, ValidToken, HashToken, TokenPrincipal and
// RequestLimit):
//
//	addr := proxies.ClientAddr(r)
//	ok, wait, err := throttle.Attempt(ctx, st, StepPassword, login, addr, now) // counted first; refuse with Retry-After: wait
//	acc, err := st.StaffAccount(ctx, login)
//	if unknown: DummyCheck(pw); the same "wrong login or password"
//	good, err := CheckPassword(acc.PasswordHash, pw) // false: the same reply
//	throttle.Succeeded(ctx, st, StepPassword, login, addr), then, if acc.TOTPSecret != "",
//	the code as its own step: Attempt(StepCode…), MatchTOTP, store.Staff.UseTOTPStep, Succeeded(StepCode…);
//	NewSessionID and NewCSRF for the session, SessionPrincipal(acc) for each request.
package staff
