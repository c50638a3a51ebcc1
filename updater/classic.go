package updater

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/hwkey"
	"github.com/aktual/aktual/internal/i18n"
)

// EventURL carries the Internet-code page's address (Event.URL).
const EventURL = "url"

// DefaultPollInterval is how often the installer asks whether the customer
// pressed "Continue the update" on the page.
const DefaultPollInterval = 2 * time.Second

// OpenClassicSession proves the hardware key is present (it signs a fresh
// server challenge) and opens the session whose page shows the Internet
// code. It reports the page's URL as an event. A key without site access
// or without updates left is refused here, before anything is typed.
func (u *Updater) OpenClassicSession(ctx context.Context, p *Plan, key hwkey.Key) (*api.ClassicSession, error) {
	lic := key.Licence()
	if err := lic.Check(u.Now.Now(), p.Product); err != nil {
		return nil, fail(ErrCredentialRejected, err, "%v (licence: %s)", err, key.Source())
	}
	machine, err := u.machineID()
	if err != nil {
		return nil, i18n.Errorf("finding this machine's ID: %w", err)
	}
	u.phase(PhaseReserve, "asking the server for an Internet code page with hardware key %s", lic.Serial)
	var ch api.ChallengeResponse
	if err := u.callJSON(ctx, "POST", "/v1/classic/challenges", nil, struct{}{}, &ch); err != nil {
		return nil, credentialError(err)
	}
	sig, err := key.Sign(ctx, ch.Challenge)
	if err != nil {
		return nil, fail(ErrCredentialRejected, err, "the hardware key could not sign (%v); reconnect it and try again", err)
	}
	var sess api.ClassicSession
	err = u.callJSON(ctx, "POST", "/v1/classic/sessions", nil, api.ClassicSessionRequest{
		Licence: key.Envelope(), Challenge: ch.Challenge, Signature: sig,
		Product: p.Product, FromVersion: p.From, ToVersion: p.Latest.Version, MachineID: machine,
	}, &sess)
	if err != nil {
		return nil, credentialError(err)
	}
	switch sess.Problem {
	case api.CodeInactive:
		return nil, fail(ErrCredentialRejected, nil, "%s", sess.Message)
	case api.CodeExhausted:
		return nil, fail(ErrExhausted, nil, "%s", sess.Message)
	}
	u.emit(Event{Event: EventURL, Phase: PhaseReserve, URL: sess.URL,
		Message: i18n.M("open this page to see your Internet code")})
	return &sess, nil
}

// WaitConfirmed polls the session until the customer presses "Continue the
// update" on its page. It returns nil then; an error when the session
// expires, is locked or used, or ctx ends.
func (u *Updater) WaitConfirmed(ctx context.Context, sessionID string, every time.Duration) error {
	if every <= 0 {
		every = DefaultPollInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		var sess api.ClassicSession
		err := u.callJSON(ctx, "GET", "/v1/classic/sessions/"+url.PathEscape(sessionID), nil, nil, &sess)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err == nil && sess.State == api.SessionConfirmed:
			return nil
		case err == nil && sess.State != api.SessionOpen:
			switch sess.State {
			case api.SessionExpired:
				return fail(ErrCredentialRejected, nil, "the Internet code page expired (codes are valid for 15 minutes); start the update again")
			case api.SessionLocked:
				return fail(ErrCredentialRejected, nil, "too many wrong Internet codes were typed; start the update again for a new code")
			case api.SessionUsed:
				return fail(ErrCredentialRejected, nil, "this Internet code page was already used; start the update again")
			}
			return fail(ErrCredentialRejected, nil, "the Internet code page is no longer open (%s); start the update again", sess.State)
		case err != nil && !errors.Is(err, ErrNoConnection):
			return credentialError(err)
		}
		// A dropped poll is tried again: the customer may still type the code.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
