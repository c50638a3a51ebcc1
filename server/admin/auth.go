package admin

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// ErrUnauthorized: no credentials, or wrong, expired or revoked ones (HTTP
// 401). The words never say which, so they reveal no login.
var ErrUnauthorized = errors.New("unauthorized")

// ErrThrottled: too many failed sign-ins (HTTP 429); RetryAfter says when
// to try again.
type ErrThrottled struct{ RetryAfter time.Duration }

func (e *ErrThrottled) Error() string {
	return fmt.Sprintf("too many failed sign-ins; try again in %s", e.RetryAfter.Round(time.Second))
}

// SessionLifetime is how long a console session lasts: a working day.
const SessionLifetime = 10 * time.Hour

// SessionIdle ends a session left alone this long (a computer left signed
// in over lunch at a distributor's shop counter). The store records a
// session's last use at most once a minute, which is precision enough.
const SessionIdle = 2 * time.Hour

// pendingLifetime is how long a session waits for its TOTP code.
const pendingLifetime = 5 * time.Minute

// Session is a console session as the console needs it: the cookie's
// value (never stored), the CSRF token its forms carry, and whether it
// still waits for a TOTP code.
type Session struct {
	ID        string
	CSRF      string
	Pending   bool
	ExpiresAt time.Time
}

func badLogin() error {
	return markKind(ErrUnauthorized, i18n.Errorf("wrong login or password"))
}

// Login checks a staff member's password and opens a session (pending,
// when the account has TOTP on). Attempts are counted per account and per
// address in the database before the password is checked, so the limit
// holds across replicas and against a burst; an unknown login costs and
// answers the same as a wrong password.
func (a *Admin) Login(ctx context.Context, login, password string, addr netip.Addr) (Session, error) {
	now := a.Now.UTC()
	if err := a.attempt(ctx, staff.StepPassword, login, addr, now); err != nil {
		return Session{}, err
	}
	acc, err := a.Store.StaffAccount(ctx, login)
	if errors.Is(err, store.ErrNotFound) {
		staff.DummyCheck(password)
		return Session{}, a.failedLogin(ctx, login, addr, now)
	} else if err != nil {
		return Session{}, err
	}
	if ok, err := staff.CheckPassword(acc.PasswordHash, password); err != nil || !ok {
		return Session{}, a.failedLogin(ctx, login, addr, now)
	}
	if acc.Disabled {
		_ = a.Store.RecordEvent(ctx, store.AuditEvent{At: now, Actor: "staff:" + login, Address: addr.String(), Action: "login.disabled"})
		return Session{}, markKind(ErrUnauthorized, i18n.Errorf("this account is disabled; ask an admin"))
	}
	if err := a.Throttle.Succeeded(ctx, a.Store, staff.StepPassword, login, addr); err != nil {
		return Session{}, err
	}
	s, err := a.openSession(ctx, acc.Login, addr, acc.TOTPSecret != "", now)
	if err != nil {
		return Session{}, err
	}
	if !s.Pending {
		_ = a.Store.RecordEvent(ctx, store.AuditEvent{At: now, Actor: "staff:" + login, Address: addr.String(), Action: "login"})
	}
	return s, nil
}

// attempt counts a sign-in attempt before it is checked (staff.Throttle):
// ErrThrottled when it may not be checked.
func (a *Admin) attempt(ctx context.Context, step, login string, addr netip.Addr, now time.Time) error {
	ok, wait, err := a.Throttle.Attempt(ctx, a.Store, step, login, addr, now)
	if err != nil {
		return err
	}
	if !ok {
		return &ErrThrottled{RetryAfter: wait}
	}
	return nil
}

// failedLogin records a wrong password (the attempt is counted already).
func (a *Admin) failedLogin(ctx context.Context, login string, addr netip.Addr, now time.Time) error {
	_ = a.Store.RecordEvent(ctx, store.AuditEvent{At: now, Actor: "anonymous", Address: addr.String(), Action: "login.failed", Detail: "login " + fmt.Sprintf("%.64q", login)})
	return badLogin()
}

func (a *Admin) openSession(ctx context.Context, login string, addr netip.Addr, pending bool, now time.Time) (Session, error) {
	id, hash := staff.NewSessionID()
	life := SessionLifetime
	if pending {
		life = pendingLifetime
	}
	s := store.StaffSession{IDHash: hash, Login: login, CSRF: staff.NewCSRF(), Address: addr.String(), Pending: pending,
		CreatedAt: now, SeenAt: now, ExpiresAt: now.Add(life)}
	if err := a.Store.CreateStaffSession(ctx, s); err != nil {
		return Session{}, fmt.Errorf("opening a session: %w", err)
	}
	return Session{ID: id, CSRF: s.CSRF, Pending: pending, ExpiresAt: s.ExpiresAt}, nil
}

// LoginTOTP finishes a pending session's sign-in with the code of the
// authenticator app: the pending session ends and a new one begins (a new
// cookie, so a session id seen before sign-in is worth nothing after).
func (a *Admin) LoginTOTP(ctx context.Context, pendingID, code string, addr netip.Addr) (Session, error) {
	now := a.Now.UTC()
	s, acc, err := a.Store.StaffSession(ctx, staff.HashSessionID(pendingID), now)
	if err != nil || !s.Pending {
		return Session{}, markKind(ErrUnauthorized, i18n.Errorf("the sign-in has expired; sign in again"))
	}
	if err := a.attempt(ctx, staff.StepCode, acc.Login, addr, now); err != nil {
		return Session{}, err
	}
	step, ok := staff.MatchTOTP(acc.TOTPSecret, code, now)
	if ok {
		// A code is good once: one seen over a shoulder, or replayed,
		// is refused as a wrong one.
		if ok, err = a.Store.UseTOTPStep(ctx, acc.Login, step); err != nil {
			return Session{}, err
		}
	}
	if !ok {
		return Session{}, markKind(ErrUnauthorized, i18n.Errorf("wrong code; type the 6 digits your authenticator app shows now"))
	}
	if err := a.Store.EndStaffSession(ctx, s.IDHash); err != nil {
		return Session{}, err
	}
	if err := a.Throttle.Succeeded(ctx, a.Store, staff.StepCode, acc.Login, addr); err != nil {
		return Session{}, err
	}
	_ = a.Store.RecordEvent(ctx, store.AuditEvent{At: now, Actor: "staff:" + acc.Login, Address: addr.String(), Action: "login"})
	return a.openSession(ctx, acc.Login, addr, false, now)
}

// SessionCaller is who a console request's session cookie says: an
// unknown, expired or pending session, or one whose account was disabled
// since, is ErrUnauthorized. The CSRF token is returned for the check of
// a form.
func (a *Admin) SessionCaller(ctx context.Context, id string, addr netip.Addr) (Caller, string, error) {
	if id == "" {
		return Caller{}, "", markKind(ErrUnauthorized, i18n.Errorf("sign in first"))
	}
	now := a.Now.UTC()
	s, acc, err := a.Store.StaffSession(ctx, staff.HashSessionID(id), now)
	if err == nil && now.Sub(s.SeenAt) > SessionIdle {
		_ = a.Store.EndStaffSession(ctx, s.IDHash)
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && s.Pending) {
		return Caller{}, "", markKind(ErrUnauthorized, i18n.Errorf("your session has ended; sign in again"))
	} else if err != nil {
		return Caller{}, "", err
	}
	p, err := staff.SessionPrincipal(acc)
	if err != nil {
		return Caller{}, "", markKind(ErrUnauthorized, i18n.Errorf("your session has ended; sign in again"))
	}
	return Caller{Principal: p, Address: addr.String()}, s.CSRF, nil
}

// Logout ends a console session.
func (a *Admin) Logout(ctx context.Context, id string) error {
	return a.Store.EndStaffSession(ctx, staff.HashSessionID(id))
}

// TokenCaller is who an API request's bearer token says: an unknown or
// revoked token, or one whose account is disabled, is ErrUnauthorized.
// The token's role is the lesser of its own and its account's.
func (a *Admin) TokenCaller(ctx context.Context, token string, addr netip.Addr) (Caller, error) {
	t, acc, err := a.Store.TokenByHash(ctx, staff.HashToken(token), a.Now.UTC())
	if errors.Is(err, store.ErrNotFound) {
		return Caller{}, markKind(ErrUnauthorized, i18n.Errorf("the token is unknown, revoked, or its account is disabled"))
	} else if err != nil {
		return Caller{}, err
	}
	p, err := staff.TokenPrincipal(t, acc)
	if err != nil {
		return Caller{}, markKind(ErrUnauthorized, i18n.Errorf("the token is unknown, revoked, or its account is disabled"))
	}
	return Caller{Principal: p, Address: addr.String()}, nil
}
