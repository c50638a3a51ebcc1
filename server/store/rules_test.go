package store

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
)

// wantErr checks err's whole message ("" for no error) and, when is is
// not nil, that it wraps is.
func wantErr(t *testing.T, err error, msg string, is error) {
	t.Helper()
	switch {
	case msg == "" && err != nil:
		t.Errorf("error %q, want none", err)
	case msg == "":
	case err == nil:
		t.Errorf("no error, want %q", msg)
	case err.Error() != msg:
		t.Errorf("error\n got %q\nwant %q", err, msg)
	}
	if is != nil && !errors.Is(err, is) {
		t.Errorf("error %v does not wrap %v", err, is)
	}
}

var t0 = time.Date(2031, 3, 4, 5, 6, 7, 123456789, time.UTC)

func TestOrNow(t *testing.T) {
	if got := OrNow(time.Time{}); got.Location() != time.UTC || time.Since(got) > time.Minute {
		t.Errorf("OrNow(zero) = %v, want the current time in UTC", got)
	}
	local := t0.In(time.FixedZone("EET", 2*60*60))
	if got := OrNow(local); got.Location() != time.UTC || !got.Equal(t0) {
		t.Errorf("OrNow(%v) = %v, want %v", local, got, t0)
	}
}

// Every move keeps purchased = remaining + held + consumed; only a
// purchase changes purchased.
func TestLedgerMovesKeepTheInvariant(t *testing.T) {
	moves := map[string]Counts{LedgerPurchase: Purchase(3)}
	for kind, d := range LedgerMoves {
		moves[kind] = d
	}
	for _, kind := range []string{LedgerPurchase, LedgerReserve, LedgerComplete, LedgerRelease, LedgerExpire, LedgerRetake, LedgerOverdraft} {
		d, ok := moves[kind]
		switch {
		case !ok:
			t.Errorf("%s: no move", kind)
		case d.Purchased != d.Remaining+d.Held+d.Consumed:
			t.Errorf("%s: %+v breaks the invariant", kind, d)
		case kind != LedgerPurchase && d.Purchased != 0:
			t.Errorf("%s: %+v changes purchased", kind, d)
		}
	}
	if len(moves) != 7 {
		t.Errorf("moves for %d kinds, want 7", len(moves))
	}
}

func TestCredentialValidate(t *testing.T) {
	const msg = "a credential needs exactly one of a code hash or a hardware-key serial: unknown credential"
	for _, tc := range []struct {
		name string
		c    Credential
		msg  string
	}{
		{"code", Credential{CodeHash: []byte{1}}, ""},
		{"serial", Credential{HWKeySerial: "HK-1"}, ""},
		{"neither", Credential{}, msg},
		{"both", Credential{CodeHash: []byte{1}, HWKeySerial: "HK-1"}, msg},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var is error
			if tc.msg != "" {
				is = ErrUnknownCredential
			}
			wantErr(t, tc.c.Validate(), tc.msg, is)
		})
	}
}

func TestActivateParamsValidate(t *testing.T) {
	good := ActivateParams{Customer: "Acme", Series: api.SeriesPro, Updates: 1}
	for _, tc := range []struct {
		name   string
		change func(*ActivateParams)
		msg    string
	}{
		{"good", func(*ActivateParams) {}, ""},
		{"classic", func(p *ActivateParams) { p.Series = api.SeriesClassic }, ""},
		{"no customer", func(p *ActivateParams) { p.Customer = "" }, "activating: no customer given"},
		{"no updates", func(p *ActivateParams) { p.Updates = 0 }, "activating for Acme: 0 updates; give at least 1"},
		{"negative", func(p *ActivateParams) { p.Updates = -2 }, "activating for Acme: -2 updates; give at least 1"},
		{"series", func(p *ActivateParams) { p.Series = "gold" }, `activating for Acme: unknown series "gold"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := good
			tc.change(&p)
			wantErr(t, p.Validate(), tc.msg, nil)
		})
	}
}

func TestActivationCredentials(t *testing.T) {
	code, serial := []byte("0123456789abcdef0123456789abcdef"), "HK-1"
	const (
		noSerial = "a classic-series activation takes a hardware-key serial and no code"
		noCode   = "a new Pro-series entitlement takes a code hash and no hardware-key serial"
	)
	for _, tc := range []struct {
		name              string
		c                 Credential
		serialMsg, proMsg string
	}{
		{"code", Credential{CodeHash: code}, noSerial, ""},
		{"serial", Credential{HWKeySerial: serial}, "", noCode},
		{"neither", Credential{}, noSerial, noCode},
		{"both", Credential{CodeHash: code, HWKeySerial: serial}, noSerial, noCode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ActivateParams{Customer: "Acme", Credential: tc.c}
			got, err := p.ClassicSerial()
			wantErr(t, err, tc.serialMsg, nil)
			if err == nil && got != serial {
				t.Errorf("ClassicSerial = %q, want %q", got, serial)
			}
			hash, err := p.NewProCode()
			wantErr(t, err, tc.proMsg, nil)
			if err == nil && string(hash) != string(code) {
				t.Errorf("NewProCode = %x, want %x", hash, code)
			}
		})
	}

	p := ActivateParams{Customer: "Acme", Credential: Credential{HWKeySerial: serial}}
	wantErr(t, p.CheckOwner(Entitlement{Customer: "Acme"}), "", nil)
	wantErr(t, p.CheckOwner(Entitlement{Customer: "Globex"}), "hardware key HK-1 belongs to another customer: conflict", ErrConflict)
}

func TestReleaseConflicts(t *testing.T) {
	r := Release{Product: "studio", Series: api.SeriesPro, SHA256: strings.Repeat("a", 64), Size: 10}
	wantErr(t, r.CheckProductSeries(api.SeriesPro), "", nil)
	wantErr(t, r.CheckProductSeries(api.SeriesClassic), "studio is published as a classic-series product, not pro: conflict", ErrConflict)

	const other = "already published with other contents: conflict"
	wantErr(t, r.CheckSameArtifact(r.SHA256, r.Size), "", nil)
	wantErr(t, r.CheckSameArtifact(strings.Repeat("b", 64), r.Size), other, ErrConflict)
	wantErr(t, r.CheckSameArtifact(r.SHA256, 11), other, ErrConflict)
}

func reserveParams() ReserveParams {
	return ReserveParams{IdempotencyKey: "k", Credential: Credential{CodeHash: []byte{1}}, Series: api.SeriesPro,
		Product: "studio", FromVersion: "1.0.0", ToVersion: "2.0.0", MachineID: "m1", Now: t0}
}

func TestReserveParamsValidate(t *testing.T) {
	const msg = "reserving: idempotency key, series, product, to-version and machine are required"
	for _, tc := range []struct {
		name   string
		change func(*ReserveParams)
		msg    string
	}{
		{"good", func(*ReserveParams) {}, ""},
		{"no from-version", func(p *ReserveParams) { p.FromVersion = "" }, ""},
		{"no key", func(p *ReserveParams) { p.IdempotencyKey = "" }, msg},
		{"no series", func(p *ReserveParams) { p.Series = "" }, msg},
		{"no product", func(p *ReserveParams) { p.Product = "" }, msg},
		{"no to-version", func(p *ReserveParams) { p.ToVersion = "" }, msg},
		{"no machine", func(p *ReserveParams) { p.MachineID = "" }, msg},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := reserveParams()
			tc.change(&p)
			wantErr(t, p.Validate(), tc.msg, nil)
		})
	}
}

func TestNewReservation(t *testing.T) {
	e := Entitlement{ID: 7, Series: api.SeriesPro, Active: true}
	p := reserveParams()
	r, err := p.NewReservation(e, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := Reservation{ID: r.ID, IdempotencyKey: "k", EntitlementID: 7, Product: "studio", FromVersion: "1.0.0",
		ToVersion: "2.0.0", MachineID: "m1", State: api.StateHeld, CreatedAt: t0, UpdatedAt: t0, ExpiresAt: t0.Add(DefaultTTL)}
	if r != want || !strings.HasPrefix(r.ID, "r_") {
		t.Errorf("NewReservation =\n %+v, want\n %+v", r, want)
	}
	p.TTL = time.Hour
	if r, _ := p.NewReservation(e, t0); !r.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("with a TTL of an hour: expires %v", r.ExpiresAt)
	}

	inactive := e
	inactive.Active = false
	_, err = p.NewReservation(inactive, t0)
	wantErr(t, err, "credential inactive", ErrInactive)
	classic := e
	classic.Series = api.SeriesClassic
	_, err = p.NewReservation(classic, t0)
	wantErr(t, err, "studio is a pro-series product, the credential is for the classic series: credential is for another series", ErrWrongSeries)
}

func TestCheckRepeat(t *testing.T) {
	prior := Reservation{EntitlementID: 7, Product: "studio", FromVersion: "1.0.0", ToVersion: "2.0.0", MachineID: "m1"}
	e := Entitlement{ID: 7}
	const (
		otherCredential = "another credential: idempotency key reused with different parameters"
		otherRequest    = "first used for studio 1.0.0→2.0.0 on machine m1: idempotency key reused with different parameters"
	)
	broken := errors.New("database gone")
	for _, tc := range []struct {
		name   string
		change func(*ReserveParams)
		e      Entitlement
		err    error
		msg    string
		is     error
	}{
		{"same", func(*ReserveParams) {}, e, nil, "", nil},
		{"other series and TTL", func(p *ReserveParams) { p.Series, p.TTL = api.SeriesClassic, time.Hour }, e, nil, "", nil},
		{"unknown credential", func(*ReserveParams) {}, Entitlement{}, ErrUnknownCredential, otherCredential, ErrIdempotencyMismatch},
		{"lookup failed", func(*ReserveParams) {}, Entitlement{}, broken, "database gone", broken},
		{"other entitlement", func(*ReserveParams) {}, Entitlement{ID: 8}, nil, otherCredential, ErrIdempotencyMismatch},
		{"other product", func(p *ReserveParams) { p.Product = "other" }, e, nil, otherRequest, ErrIdempotencyMismatch},
		{"other from-version", func(p *ReserveParams) { p.FromVersion = "1.0.1" }, e, nil, otherRequest, ErrIdempotencyMismatch},
		{"other to-version", func(p *ReserveParams) { p.ToVersion = "2.0.1" }, e, nil, otherRequest, ErrIdempotencyMismatch},
		{"other machine", func(p *ReserveParams) { p.MachineID = "m2" }, e, nil, otherRequest, ErrIdempotencyMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := reserveParams()
			tc.change(&p)
			got, err := p.CheckRepeat(prior, tc.e, tc.err)
			wantErr(t, err, tc.msg, tc.is)
			if err == nil && got != tc.e {
				t.Errorf("entitlement %+v, want %+v", got, tc.e)
			}
		})
	}
}

func TestReservationIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newReservationID()
		if len(id) != 28 || !strings.HasPrefix(id, "r_") || strings.Trim(id[2:], "abcdefghijklmnopqrstuvwxyz234567") != "" {
			t.Fatalf("malformed ID %q", id)
		}
		if seen[id] {
			t.Fatalf("ID %q repeated", id)
		}
		seen[id] = true
	}
}

func TestCompleteKind(t *testing.T) {
	broken := errors.New("database gone")
	for _, tc := range []struct {
		name      string
		state     string
		remaining int64
		err       error
		kind, msg string
		is        error
		asks      bool // whether remaining is asked for
	}{
		{"held", api.StateHeld, 0, nil, LedgerComplete, "", nil, false},
		{"consumed", api.StateConsumed, 0, nil, "", "", nil, false},
		{"released", api.StateReleased, 0, nil, "", "the update was given back as never applied: conflict", ErrConflict, false},
		{"expired", api.StateExpired, 1, nil, LedgerRetake, "", nil, true},
		{"expired, none left", api.StateExpired, 0, nil, LedgerOverdraft, "", nil, true},
		{"expired, lookup failed", api.StateExpired, 0, broken, "", "database gone", broken, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked := false
			kind, err := CompleteKind(tc.state, func() (int64, error) { asked = true; return tc.remaining, tc.err })
			wantErr(t, err, tc.msg, tc.is)
			if kind != tc.kind || asked != tc.asks {
				t.Errorf("kind %q (remaining asked: %v), want %q (%v)", kind, asked, tc.kind, tc.asks)
			}
		})
	}
}

func TestReleaseKind(t *testing.T) {
	for _, tc := range []struct {
		state, kind, msg string
		is               error
	}{
		{api.StateHeld, LedgerRelease, "", nil},
		{api.StateReleased, "", "", nil},
		{api.StateExpired, "", "", nil},
		{api.StateConsumed, "", "the update was already reported applied: conflict", ErrConflict},
	} {
		t.Run(tc.state, func(t *testing.T) {
			kind, err := ReleaseKind(tc.state)
			wantErr(t, err, tc.msg, tc.is)
			if kind != tc.kind {
				t.Errorf("kind %q, want %q", kind, tc.kind)
			}
		})
	}
}

func TestCheckConfirm(t *testing.T) {
	for _, tc := range []struct {
		state  string
		change bool
		err    error
	}{
		{api.SessionOpen, true, nil},
		{api.SessionConfirmed, false, nil},
		{api.SessionUsed, false, ErrSessionUsed},
		{api.SessionLocked, false, ErrSessionUsed},
	} {
		t.Run(tc.state, func(t *testing.T) {
			change, err := ClassicSession{State: tc.state}.CheckConfirm()
			if change != tc.change || err != tc.err {
				t.Errorf("CheckConfirm = %v, %v; want %v, %v", change, err, tc.change, tc.err)
			}
		})
	}
}
