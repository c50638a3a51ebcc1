package staff

import (
	"testing"
	"time"

	"github.com/aktual/aktual/server/store"
)

const (
	admin       = store.RoleAdmin
	office      = store.RoleOffice
	distributor = store.RoleDistributor
	support     = store.RoleSupport
)

// allActions is every action; TestCanEveryRoleAndAction fails if one is
// added to permissions and not here.
var allActions = []Action{ActView, ActActivate, ActAddUpdates, ActSuspend, ActReplaceKey, ActReissue, ActCorrect,
	ActViewAudit, ActViewReleases, ActManageStaff, ActManageDistributors, ActControlReleases}

func principalOf(role string) Principal {
	p := Principal{Login: "someone", Role: role, Actor: "staff:someone"}
	if role == distributor {
		p.Distributor = "Acme Distribution"
	}
	return p
}

func TestCanEveryRoleAndAction(t *testing.T) {
	for _, tc := range []struct {
		act                                 Action
		admin, office, distributor, support bool
	}{
		{ActView, true, true, true, true},
		{ActActivate, true, true, true, false},
		{ActAddUpdates, true, true, true, false},
		{ActSuspend, true, true, true, false},
		{ActReplaceKey, true, true, true, false},
		{ActReissue, true, true, true, false},
		{ActCorrect, true, true, false, false}, // the vendor's call, not a distributor's
		{ActViewAudit, true, true, true, true},
		{ActViewReleases, true, true, true, true}, // releases are public
		{ActManageStaff, true, false, false, false},
		{ActManageDistributors, true, false, false, false},
		{ActControlReleases, true, true, false, false}, // the vendor's call, never a distributor's
		{Action("delete-everything"), false, false, false, false},
		{Action(""), false, false, false, false},
	} {
		for role, want := range map[string]bool{admin: tc.admin, office: tc.office, distributor: tc.distributor, support: tc.support} {
			if got := Can(principalOf(role), tc.act); got != want {
				t.Errorf("Can(%s, %s) = %v, want %v", role, tc.act, got, want)
			}
		}
	}
	for role, acts := range permissions {
		for _, a := range acts {
			found := false
			for _, b := range allActions {
				found = found || a == b
			}
			if !found {
				t.Errorf("%s may %s, an action this test does not know", role, a)
			}
		}
	}
}

func TestCanRefusesBrokenPrincipals(t *testing.T) {
	for _, p := range []Principal{
		{},
		{Login: "x", Role: "root"},
		{Login: "x", Role: "Admin"},     // roles are lower case
		{Login: "x", Role: distributor}, // a distributor with no distributor
	} {
		for _, a := range allActions {
			if Can(p, a) {
				t.Errorf("Can(%+v, %s) = true", p, a)
			}
		}
		if SeesCustomer(p, "") || SeesCustomer(p, "Acme") {
			t.Errorf("SeesCustomer(%+v) = true", p)
		}
	}
}

func TestEffectiveRole(t *testing.T) {
	for _, tc := range []struct{ account, token, want string }{
		{admin, "", admin}, // a console session: the account's role
		{office, "", office},
		{distributor, "", distributor},
		{support, "", support},
		{admin, admin, admin},
		{admin, office, office},
		{admin, distributor, ""}, // no distributor to be bound to
		{admin, support, support},
		{office, admin, office}, // never above the account
		{office, office, office},
		{office, distributor, ""},
		{office, support, support},
		{distributor, admin, distributor},
		{distributor, office, distributor},
		{distributor, distributor, distributor},
		{distributor, support, support},
		{support, admin, support},
		{support, office, support},
		{support, distributor, support}, // the lesser is support: no scope needed
		{support, support, support},
		{"", "", ""},
		{"root", "", ""},
		{"root", support, ""},
		{admin, "root", ""},
		{"", support, ""},
	} {
		if got := EffectiveRole(tc.account, tc.token); got != tc.want {
			t.Errorf("EffectiveRole(%q, %q) = %q, want %q", tc.account, tc.token, got, tc.want)
		}
	}
}

func TestCheckTokenRole(t *testing.T) {
	ok := map[[2]string]bool{
		{admin, admin}: true, {admin, office}: true, {admin, support}: true,
		{office, office}: true, {office, support}: true,
		{distributor, distributor}: true, {distributor, support}: true,
		{support, support}: true,
	}
	all := []string{admin, office, distributor, support, "", "root"}
	for _, account := range all {
		for _, token := range all {
			err := CheckTokenRole(account, token)
			if want := ok[[2]string{account, token}]; (err == nil) != want {
				t.Errorf("CheckTokenRole(%q, %q) = %v, want allowed %v", account, token, err, want)
			}
			// A token that may be made acts with exactly its own role.
			if err == nil {
				if eff := EffectiveRole(account, token); eff != token {
					t.Errorf("a %s token of a %s account acts as %q", token, account, eff)
				}
			}
		}
	}
}

func TestSeesCustomer(t *testing.T) {
	acme := Principal{Login: "d", Role: distributor, Distributor: "Acme"}
	acmeSupport := Principal{Login: "d", Role: support, Distributor: "Acme", Token: "ro"} // a support token of Acme's account
	for _, tc := range []struct {
		p        Principal
		customer string
		want     bool
	}{
		{principalOf(admin), "", true},
		{principalOf(admin), "Acme", true},
		{principalOf(office), "Acme", true},
		{principalOf(support), "Acme", true},
		{principalOf(support), "", true},
		{acme, "Acme", true},
		{acme, "Other", false},
		{acme, "", false}, // the vendor's own customers
		{acme, "acme", false},
		{acmeSupport, "Acme", true},
		{acmeSupport, "Other", false}, // a lesser role keeps its account's scope
		{acmeSupport, "", false},
	} {
		if got := SeesCustomer(tc.p, tc.customer); got != tc.want {
			t.Errorf("SeesCustomer(%s/%s, %q) = %v, want %v", tc.p.Role, tc.p.Distributor, tc.customer, got, tc.want)
		}
	}
}

func TestSessionPrincipal(t *testing.T) {
	for _, tc := range []struct {
		acc  store.StaffAccount
		want Principal
		ok   bool
	}{
		{store.StaffAccount{Login: "ana", Role: admin}, Principal{Login: "ana", Role: admin, Actor: "staff:ana"}, true},
		{store.StaffAccount{Login: "dora", Role: distributor, Distributor: "Acme"},
			Principal{Login: "dora", Role: distributor, Distributor: "Acme", Actor: "staff:dora"}, true},
		{store.StaffAccount{Login: "ana", Role: admin, Disabled: true}, Principal{}, false},
		{store.StaffAccount{Login: "ana", Role: "root"}, Principal{}, false},
		{store.StaffAccount{Login: "dora", Role: distributor}, Principal{}, false},                 // no distributor
		{store.StaffAccount{Login: "olga", Role: office, Distributor: "Acme"}, Principal{}, false}, // a distributor, not of role distributor
	} {
		got, err := SessionPrincipal(tc.acc)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("SessionPrincipal(%+v) = %+v, %v; want %+v", tc.acc, got, err, tc.want)
		}
	}
}

func TestTokenPrincipal(t *testing.T) {
	ana := store.StaffAccount{Login: "ana", Role: admin}
	dora := store.StaffAccount{Login: "dora", Role: distributor, Distributor: "Acme"}
	olga := store.StaffAccount{Login: "olga", Role: office}
	tok := func(login, name, role string) store.APIToken {
		return store.APIToken{ID: 1, Login: login, Name: name, Role: role}
	}
	revoked := tok("ana", "ci", admin)
	revoked.RevokedAt = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		tok  store.APIToken
		acc  store.StaffAccount
		want Principal
		ok   bool
	}{
		{tok("ana", "ci", office), ana, Principal{Login: "ana", Role: office, Token: "ci", Actor: "token:ci@ana"}, true},
		{tok("ana", "ci", admin), ana, Principal{Login: "ana", Role: admin, Token: "ci", Actor: "token:ci@ana"}, true},
		{tok("dora", "shop", distributor), dora,
			Principal{Login: "dora", Role: distributor, Distributor: "Acme", Token: "shop", Actor: "token:shop@dora"}, true},
		{tok("dora", "ro", support), dora, // support, still only Acme's customers
			Principal{Login: "dora", Role: support, Distributor: "Acme", Token: "ro", Actor: "token:ro@dora"}, true},
		{tok("olga", "x", admin), olga, Principal{Login: "olga", Role: office, Token: "x", Actor: "token:x@olga"}, true}, // an account demoted since
		{tok("olga", "x", distributor), olga, Principal{}, false},                                                        // bound to no distributor
		{tok("ana", "x", "root"), ana, Principal{}, false},
		{tok("ana", "x", ""), ana, Principal{}, false},      // not the account's whole role
		{tok("dora", "ci", admin), ana, Principal{}, false}, // another account's token
		{revoked, ana, Principal{}, false},
		{tok("ana", "ci", admin), store.StaffAccount{Login: "ana", Role: admin, Disabled: true}, Principal{}, false},
	} {
		got, err := TokenPrincipal(tc.tok, tc.acc)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("TokenPrincipal(%s %s@%s, %s %s) = %+v, %v; want %+v", tc.tok.Role, tc.tok.Name, tc.tok.Login, tc.acc.Role, tc.acc.Login, got, err, tc.want)
		}
	}
}

func TestLocalPrincipal(t *testing.T) {
	p := LocalPrincipal("root")
	if p != (Principal{Login: "root", Role: admin, Actor: "local:root"}) || !Can(p, ActManageStaff) || !SeesCustomer(p, "Acme") {
		t.Errorf("LocalPrincipal(root) = %+v", p)
	}
}
