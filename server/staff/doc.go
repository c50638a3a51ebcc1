// Package staff owns who a staff member is and how they prove it, for the
// admin API (bearer tokens) and the console (cookies) of aktuald: password
// hashing (argon2id), TOTP second factors, API tokens, console session IDs
// and CSRF values, the roles and what each may do, the client's address
// behind a reverse proxy, and the login and request throttling policy.
//
// It is pure policy and cryptography: it keeps no state and opens no
// database. What it needs from storage it takes as values (the
// store.StaffAccount and store.APIToken records) or as a small interface
// (Counter, which store.Store implements), so every rule here is tested
// without a server. Time is always a parameter, never read from the clock,
// so tests control it.
package staff
