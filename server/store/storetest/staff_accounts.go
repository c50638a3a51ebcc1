package storetest

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aktual/aktual/server/store"
)

// Staff accounts, their console sessions and their API tokens.

func testStaffAccounts(t *testing.T, s store.Store) {
	addDistributor(t, s, "D1")
	anna := createStaff(t, s, "anna", store.RoleAdmin, "")
	createStaff(t, s, "dora", store.RoleDistributor, "D1")
	createStaff(t, s, "bob", store.RoleSupport, "")
	for _, bad := range []store.StaffAccount{
		account("", store.RoleAdmin, ""), account("x", "boss", ""),
		account("x", store.RoleDistributor, ""), account("x", store.RoleOffice, "D1"),
	} {
		if err := s.CreateStaff(t.Context(), bad, admin); err == nil {
			t.Errorf("CreateStaff(%+v) was accepted", bad)
		}
	}
	err := s.CreateStaff(t.Context(), account("x", store.RoleDistributor, "D9"), admin)
	wantErr(t, "CreateStaff under an unknown distributor", err, store.ErrNotFound)
	err = s.CreateStaff(t.Context(), account("anna", store.RoleSupport, ""), admin)
	wantErr(t, "CreateStaff of a taken login", err, store.ErrExists)

	got, err := s.StaffAccount(t.Context(), "anna")
	if err != nil || got.Login != "anna" || got.Role != store.RoleAdmin || got.PasswordHash != anna.PasswordHash ||
		got.TOTPSecret != "" || got.Disabled || !got.CreatedAt.Equal(t0) || !got.UpdatedAt.Equal(t0) {
		t.Errorf("StaffAccount(anna) = %+v, %v", got, err)
	}
	_, err = s.StaffAccount(t.Context(), "nobody")
	wantErr(t, "StaffAccount(nobody)", err, store.ErrNotFound)
	all, err := s.StaffAccounts(t.Context())
	var logins []string
	for _, a := range all {
		logins = append(logins, a.Login)
	}
	if want := []string{"anna", "bob", "dora"}; err != nil || !slices.Equal(logins, want) {
		t.Errorf("StaffAccounts = %q, %v; want %q", logins, err, want)
	}
	if all[2].Distributor != "D1" || all[2].Role != store.RoleDistributor {
		t.Errorf("dora: %+v", all[2])
	}

	bob := all[1]
	bob.Role, bob.TOTPSecret, bob.UpdatedAt = store.RoleOffice, "JBSWY3DPEHPK3PXP", t0.Add(time.Hour)
	if err := s.UpdateStaff(t.Context(), bob, "staff.role", admin); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.StaffAccount(t.Context(), "bob"); got.Role != store.RoleOffice || got.TOTPSecret != bob.TOTPSecret ||
		!got.UpdatedAt.Equal(bob.UpdatedAt) || !got.CreatedAt.Equal(t0) {
		t.Errorf("bob after UpdateStaff: %+v", got)
	}
	err = s.UpdateStaff(t.Context(), account("nobody", store.RoleSupport, ""), "staff.role", admin)
	wantErr(t, "UpdateStaff(nobody)", err, store.ErrNotFound)
	if err := s.UpdateStaff(t.Context(), account("bob", "boss", ""), "staff.role", admin); err == nil {
		t.Error("UpdateStaff to an unknown role was accepted")
	}
	evs := wantActions(t, s, store.AuditQuery{Actor: admin.Name}, "distributor.add", "staff.add", "staff.add", "staff.add", "staff.role")
	for _, ev := range evs {
		if strings.Contains(ev.Detail, "argon2") || strings.Contains(ev.Detail, bob.TOTPSecret) || ev.Address != admin.Address {
			t.Errorf("event %+v shows a secret or lost the address", ev)
		}
	}
}

// testDisablingEndsSessions: disabling an account, a new password or a
// new TOTP secret ends its sessions (one opened with a stolen password
// alone must not outlive two-step sign-in); another change does not.
func testDisablingEndsSessions(t *testing.T, s store.Store) {
	anna := createStaff(t, s, "anna", store.RoleOffice, "")
	createStaff(t, s, "bob", store.RoleOffice, "")
	live := func(id string) bool {
		_, _, err := s.StaffSession(t.Context(), session(id, "").IDHash, t0.Add(time.Minute))
		return err == nil
	}
	for _, id := range []string{"a1", "a2"} {
		if err := s.CreateStaffSession(t.Context(), session(id, "anna")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateStaffSession(t.Context(), session("b1", "bob")); err != nil {
		t.Fatal(err)
	}
	anna.Role = store.RoleSupport
	if err := s.UpdateStaff(t.Context(), anna, "staff.role", admin); err != nil {
		t.Fatal(err)
	}
	if !live("a1") {
		t.Error("a change of role ended the sessions")
	}
	anna.TOTPSecret = "JBSWY3DPEHPK3PXP"
	if err := s.UpdateStaff(t.Context(), anna, "staff.totp", admin); err != nil {
		t.Fatal(err)
	}
	if live("a1") || live("a2") {
		t.Error("a new TOTP secret left the sessions open")
	}
	for _, id := range []string{"a1", "a2"} {
		if err := s.CreateStaffSession(t.Context(), session(id, "anna")); err != nil {
			t.Fatal(err)
		}
	}
	anna.PasswordHash += "-new"
	if err := s.UpdateStaff(t.Context(), anna, "staff.password", admin); err != nil {
		t.Fatal(err)
	}
	if live("a1") || live("a2") || !live("b1") {
		t.Errorf("after a new password: sessions a1 %v, a2 %v, b1 %v; want only b1", live("a1"), live("a2"), live("b1"))
	}
	if err := s.CreateStaffSession(t.Context(), session("a3", "anna")); err != nil {
		t.Fatal(err)
	}
	anna.Disabled = true
	if err := s.UpdateStaff(t.Context(), anna, "staff.disable", admin); err != nil {
		t.Fatal(err)
	}
	anna.Disabled = false
	if err := s.UpdateStaff(t.Context(), anna, "staff.enable", admin); err != nil {
		t.Fatal(err)
	}
	if live("a3") {
		t.Error("a session outlived its account's disabling")
	}
}

func testStaffSessions(t *testing.T, s store.Store) {
	anna := createStaff(t, s, "anna", store.RoleOffice, "")
	err := s.CreateStaffSession(t.Context(), session("x", "nobody"))
	wantErr(t, "a session of an unknown login", err, store.ErrNotFound)
	want := session("s1", "anna")
	if err := s.CreateStaffSession(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	err = s.CreateStaffSession(t.Context(), want)
	wantErr(t, "a session ID again", err, store.ErrExists)

	// A use a minute after the last returns that last use, and records
	// this one; a use within the minute records nothing.
	seen := t0.Add(time.Minute)
	got, acc, err := s.StaffSession(t.Context(), want.IDHash, seen)
	if err != nil || !bytes.Equal(got.IDHash, want.IDHash) || got.Login != "anna" || got.CSRF != want.CSRF ||
		got.Address != want.Address || !got.Pending || !got.CreatedAt.Equal(t0) || !got.SeenAt.Equal(want.SeenAt) ||
		!got.ExpiresAt.Equal(want.ExpiresAt) || acc.Login != "anna" || acc.PasswordHash != anna.PasswordHash {
		t.Fatalf("StaffSession = %+v, %+v, %v", got, acc, err)
	}
	if again, _, err := s.StaffSession(t.Context(), want.IDHash, seen.Add(30*time.Second)); err != nil || !again.SeenAt.Equal(seen) {
		t.Errorf("the next use: SeenAt %v, %v; want the use before, %v", again.SeenAt, err, seen)
	}
	_, _, err = s.StaffSession(t.Context(), want.IDHash, want.ExpiresAt)
	wantErr(t, "an expired session", err, store.ErrNotFound)
	_, _, err = s.StaffSession(t.Context(), codeHash("unknown"), seen)
	wantErr(t, "an unknown session", err, store.ErrNotFound)

	upd := want
	upd.Pending, upd.CSRF, upd.ExpiresAt = false, "csrf-2", t0.Add(8*time.Hour)
	if err := s.UpdateStaffSession(t.Context(), upd); err != nil {
		t.Fatal(err)
	}
	got, _, err = s.StaffSession(t.Context(), want.IDHash, want.ExpiresAt)
	if err != nil || got.Pending || got.CSRF != "csrf-2" || !got.ExpiresAt.Equal(upd.ExpiresAt) || !got.SeenAt.Equal(seen) {
		t.Errorf("after UpdateStaffSession: %+v, %v", got, err)
	}
	err = s.UpdateStaffSession(t.Context(), session("x", "anna"))
	wantErr(t, "UpdateStaffSession(unknown)", err, store.ErrNotFound)

	// A disabled account's session is refused by the lookup itself, not
	// only ended by the disabling.
	anna.Disabled = true
	if err := s.UpdateStaff(t.Context(), anna, "staff.disable", admin); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateStaffSession(t.Context(), session("s2", "anna")); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.StaffSession(t.Context(), session("s2", "").IDHash, seen)
	wantErr(t, "a disabled account's session", err, store.ErrNotFound)

	for range 2 {
		if err := s.EndStaffSession(t.Context(), session("s2", "").IDHash); err != nil {
			t.Fatalf("EndStaffSession: %v", err)
		}
	}
	anna.Disabled = false
	if err := s.UpdateStaff(t.Context(), anna, "staff.enable", admin); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.StaffSession(t.Context(), session("s2", "").IDHash, seen)
	wantErr(t, "an ended session", err, store.ErrNotFound)
}

func testTokens(t *testing.T, s store.Store) {
	anna := createStaff(t, s, "anna", store.RoleOffice, "")
	createStaff(t, s, "bob", store.RoleSupport, "")
	tok := func(login, name string) store.APIToken {
		return store.APIToken{Login: login, Name: name, Role: store.RoleSupport, Hash: codeHash("token " + login + name), CreatedAt: t0}
	}
	_, err := s.CreateToken(t.Context(), tok("nobody", "ci"), admin)
	wantErr(t, "a token of an unknown login", err, store.ErrNotFound)
	ci, err := s.CreateToken(t.Context(), tok("anna", "ci"), admin)
	if err != nil {
		t.Fatal(err)
	}
	again := tok("anna", "ci")
	again.Hash = codeHash("another")
	_, err = s.CreateToken(t.Context(), again, admin)
	wantErr(t, "a token name the login has", err, store.ErrExists)
	bobs, err := s.CreateToken(t.Context(), tok("bob", "ci"), admin)
	if err != nil || bobs <= ci {
		t.Fatalf("bob's token %d, %v (anna's is %d)", bobs, err, ci)
	}
	if _, err := s.CreateToken(t.Context(), store.APIToken{Login: "anna", Name: "x", Role: "boss", Hash: []byte{1}}, admin); err == nil {
		t.Error("a token of an unknown role was accepted")
	}

	used := t0.Add(time.Minute)
	got, acc, err := s.TokenByHash(t.Context(), tok("anna", "ci").Hash, used)
	if err != nil || got.ID != ci || got.Login != "anna" || got.Name != "ci" || got.Role != store.RoleSupport ||
		!got.CreatedAt.Equal(t0) || !got.LastUsedAt.Equal(used) || !got.RevokedAt.IsZero() || acc.Role != store.RoleOffice {
		t.Fatalf("TokenByHash = %+v, %+v, %v", got, acc, err)
	}
	list, err := s.Tokens(t.Context(), "")
	if err != nil || len(list) != 2 || list[0].ID != ci || list[1].ID != bobs || !list[0].LastUsedAt.Equal(used) || !list[1].LastUsedAt.IsZero() {
		t.Errorf("Tokens(\"\") = %+v, %v", list, err)
	}
	if list, err := s.Tokens(t.Context(), "bob"); err != nil || len(list) != 1 || list[0].ID != bobs {
		t.Errorf("Tokens(bob) = %+v, %v", list, err)
	}

	anna.Disabled = true
	if err := s.UpdateStaff(t.Context(), anna, "staff.disable", admin); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.TokenByHash(t.Context(), tok("anna", "ci").Hash, used)
	wantErr(t, "a disabled account's token", err, store.ErrNotFound)
	anna.Disabled = false
	if err := s.UpdateStaff(t.Context(), anna, "staff.enable", admin); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.RevokeToken(t.Context(), ci, admin); err != nil {
			t.Fatalf("RevokeToken: %v", err)
		}
	}
	_, _, err = s.TokenByHash(t.Context(), tok("anna", "ci").Hash, used)
	wantErr(t, "a revoked token", err, store.ErrNotFound)
	err = s.RevokeToken(t.Context(), bobs+1000, admin)
	wantErr(t, "RevokeToken(unknown)", err, store.ErrNotFound)
	if list, _ := s.Tokens(t.Context(), "anna"); len(list) != 1 || list[0].RevokedAt.IsZero() {
		t.Errorf("anna's tokens after revoking: %+v", list)
	}
	// A revoked token's name may be given again.
	if _, err := s.CreateToken(t.Context(), again, admin); err != nil {
		t.Errorf("a revoked token's name again: %v", err)
	}
	wantActions(t, s, store.AuditQuery{Actor: admin.Name, Limit: 4}, "staff.disable", "staff.enable", "token.revoke", "token.add")
}

// testTOTPStepUsedOnce: a TOTP code's time step signs in once; an older
// step is refused too, and two sign-ins racing with one code let one in.
func testTOTPStepUsedOnce(t *testing.T, s store.Store) {
	createStaff(t, s, "anna", store.RoleAdmin, "")
	use := func(login string, step int64) bool {
		t.Helper()
		ok, err := s.UseTOTPStep(t.Context(), login, step)
		if err != nil {
			t.Fatalf("UseTOTPStep(%s, %d): %v", login, step, err)
		}
		return ok
	}
	if !use("anna", 1000) || use("anna", 1000) || use("anna", 999) || !use("anna", 1001) {
		t.Error("a step was accepted twice, an older one after a newer, or a newer one refused")
	}
	if use("nobody", 5000) {
		t.Error("a step of an unknown login was accepted")
	}
	var wg sync.WaitGroup
	var won atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, err := s.UseTOTPStep(t.Context(), "anna", 2000); err == nil && ok {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Errorf("%d of 8 racing sign-ins with one code got in, want 1", won.Load())
	}
}

// testChangeStaff: a change is made from the account as it is in the
// transaction; a change that refuses changes nothing and records nothing.
func testChangeStaff(t *testing.T, s store.Store) {
	createStaff(t, s, "anna", store.RoleOffice, "")
	events := func() int {
		evs, _, err := s.Events(t.Context(), store.AuditQuery{Actor: admin.Name})
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	before := events()
	refused := errors.New("the account was disabled meanwhile")
	_, err := s.ChangeStaff(t.Context(), "anna", "staff.password", admin, func(cur *store.StaffAccount) error {
		cur.PasswordHash = "changed"
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("ChangeStaff with a refusing change = %v", err)
	}
	if acc, _ := s.StaffAccount(t.Context(), "anna"); acc.PasswordHash == "changed" || events() != before {
		t.Errorf("a refused change was stored (%+v) or recorded", acc)
	}
	acc, err := s.ChangeStaff(t.Context(), "anna", "staff.disable", admin, func(cur *store.StaffAccount) error {
		cur.Disabled = true
		return nil
	})
	if err != nil || !acc.Disabled || acc.Role != store.RoleOffice {
		t.Fatalf("ChangeStaff(disable) = %+v, %v", acc, err)
	}
	_, err = s.ChangeStaff(t.Context(), "nobody", "staff.disable", admin, func(*store.StaffAccount) error { return nil })
	wantErr(t, "ChangeStaff(nobody)", err, store.ErrNotFound)
	// Unhit takes one hit back, and the last one with its row.
	for range 2 {
		if _, err := s.Hit(t.Context(), "addr:x", time.Minute, t0); err != nil {
			t.Fatal(err)
		}
	}
	for want := 1; want >= 0; want-- {
		if err := s.Unhit(t.Context(), "addr:x"); err != nil {
			t.Fatal(err)
		}
		if r, _ := s.Throttle(t.Context(), "addr:x", t0); r.Count != want {
			t.Errorf("after Unhit: count %d, want %d", r.Count, want)
		}
	}
	if err := s.Unhit(t.Context(), "addr:none"); err != nil {
		t.Errorf("Unhit of an unknown key: %v", err)
	}
}
