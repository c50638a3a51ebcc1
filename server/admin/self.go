package admin

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// What every staff member does to their own account, whatever their role:
// change their password, and turn on two-step sign-in.

// self is the caller's own account: a signed-in staff member's, never a
// token's (a script has no password to change) nor the shell's.
func (a *Admin) self(ctx context.Context, c Caller) (store.StaffAccount, error) {
	if c.Token != "" || c.Actor != "staff:"+c.Login {
		return store.StaffAccount{}, markKind(ErrForbidden, i18n.Errorf("only a signed-in staff member changes their own account"))
	}
	acc, err := a.Store.StaffAccount(ctx, c.Login)
	if err != nil {
		return store.StaffAccount{}, fmt.Errorf("finding %s: %w", c.Login, err)
	}
	return acc, nil
}

// ChangePassword sets the caller's new password after checking the
// current one. Every session of the account ends (one left open on
// another computer among them); the caller gets a new one.
func (a *Admin) ChangePassword(ctx context.Context, c Caller, current, next string, addr netip.Addr) (Session, error) {
	acc, err := a.self(ctx, c)
	if err != nil {
		return Session{}, err
	}
	now := a.Now.UTC()
	if err := a.attempt(ctx, staff.StepPassword, acc.Login, addr, now); err != nil {
		return Session{}, err
	}
	if ok, err := staff.CheckPassword(acc.PasswordHash, current); err != nil || !ok {
		return Session{}, invalid("the current password is wrong")
	}
	if err := a.Throttle.Succeeded(ctx, a.Store, staff.StepPassword, acc.Login, addr); err != nil {
		return Session{}, err
	}
	if err := staff.CheckNewPassword(next, acc.Login); err != nil {
		return Session{}, newPasswordRefused(err)
	}
	hash, err := staff.HashPassword(next)
	if err != nil {
		return Session{}, err
	}
	checked := acc.PasswordHash
	_, err = a.Store.ChangeStaff(ctx, acc.Login, "staff.password", a.by(c, ""), func(cur *store.StaffAccount) error {
		// What was checked a moment ago must still be so: an account
		// disabled, or given a new password, meanwhile is not changed
		// back by this.
		if cur.Disabled || cur.PasswordHash != checked {
			return markKind(ErrUnauthorized, i18n.Errorf("your account was changed meanwhile; sign in again"))
		}
		cur.PasswordHash = hash
		return nil
	})
	if err != nil {
		return Session{}, fmt.Errorf("changing the password of %s: %w", acc.Login, err)
	}
	return a.openSession(ctx, acc.Login, addr, false, now)
}

// newPasswordRefused says, in the reader's language, why a new password
// will not do.
func newPasswordRefused(err error) error {
	switch {
	case errors.Is(err, staff.ErrPasswordTooShort):
		return invalid("the new password is too short: use at least %d characters (a few words are easy to remember)", staff.MinPasswordChars)
	case errors.Is(err, staff.ErrPasswordTooLong):
		return invalid("the new password is too long: at most %d bytes", staff.MaxPasswordBytes)
	case errors.Is(err, staff.ErrPasswordIsLogin):
		return invalid("the new password must not be the login")
	}
	return invalid("the new password has characters that cannot be typed; use letters, digits, spaces and punctuation")
}

// NewOwnTOTP makes a secret for the caller's authenticator app; nothing is
// stored until ConfirmOwnTOTP proves the app shows its codes.
func (a *Admin) NewOwnTOTP(ctx context.Context, c Caller) (TOTPSetup, error) {
	acc, err := a.self(ctx, c)
	if err != nil {
		return TOTPSetup{}, err
	}
	if acc.TOTPSecret != "" {
		return TOTPSetup{}, errTOTPOn()
	}
	secret, url, err := staff.NewTOTP(acc.Login, "aktual")
	if err != nil {
		return TOTPSetup{}, err
	}
	return TOTPSetup{Login: acc.Login, Secret: secret, URL: url}, nil
}

// errTOTPOn: a session alone (perhaps a stolen one) does not swap the
// authenticator of an account that has one.
func errTOTPOn() error {
	return markKind(store.ErrConflict, i18n.Errorf("two-step sign-in is on already; an admin turns it off (aktuald staff totp --off) before another phone is set up"))
}

// ConfirmOwnTOTP turns on two-step sign-in with secret once code shows the
// caller's app has it. The account's sessions end (those opened before
// may have been opened with a stolen password alone); the caller gets a
// new one.
func (a *Admin) ConfirmOwnTOTP(ctx context.Context, c Caller, secret, code string, addr netip.Addr) (Session, error) {
	acc, err := a.self(ctx, c)
	if err != nil {
		return Session{}, err
	}
	step, ok := staff.MatchTOTP(secret, code, a.Now.UTC())
	if !ok {
		return Session{}, invalid("the code does not match; type the 6 digits the app shows now for aktual")
	}
	_, err = a.Store.ChangeStaff(ctx, acc.Login, "staff.totp-on", a.by(c, ""), func(cur *store.StaffAccount) error {
		if cur.Disabled {
			return markKind(ErrUnauthorized, i18n.Errorf("your account was changed meanwhile; sign in again"))
		}
		if cur.TOTPSecret != "" {
			return errTOTPOn()
		}
		cur.TOTPSecret = secret
		return nil
	})
	if err != nil {
		return Session{}, fmt.Errorf("turning on two-step sign-in for %s: %w", acc.Login, err)
	}
	// The code that proved the app is spent: it cannot sign in as well.
	if _, err := a.Store.UseTOTPStep(ctx, acc.Login, step); err != nil {
		return Session{}, fmt.Errorf("turning on two-step sign-in for %s: %w", acc.Login, err)
	}
	return a.openSession(ctx, acc.Login, addr, false, a.Now.UTC())
}
