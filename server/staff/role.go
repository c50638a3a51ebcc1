package staff

import (
	"fmt"

	"github.com/aktual/aktual/server/store"
)

// Principal is who is acting on a request, as the handlers need it.
type Principal struct {
	Login string
	// Role is the effective role: the account's, or the lesser of the
	// account's and the token's (EffectiveRole).
	Role string
	// Distributor is the distributor whose customers alone this principal
	// sees: set for every principal of a distributor's account, whatever
	// the token's role ("" for everyone else). It is what to put in
	// store.CustomerQuery.Distributor and store.AuditQuery.Distributor.
	Distributor string
	// Token is the API token's name; "" for a console session or the
	// shell.
	Token string
	// Actor is how the audit log names the principal: "staff:LOGIN",
	// "token:NAME@LOGIN" or "local:USER".
	Actor string
}

// rank orders the roles: a higher rank may do everything a lower one may.
// 0 is no role at all.
func rank(role string) int {
	switch role {
	case store.RoleAdmin:
		return 4
	case store.RoleOffice:
		return 3
	case store.RoleDistributor:
		return 2
	case store.RoleSupport:
		return 1
	}
	return 0
}

// EffectiveRole is the role a token acts with: the lesser of its
// account's role and its own (tokenRole "" for a console session: the
// account's). It is "" (no rights at all) for an unknown role, and for a
// distributor token of an account that is not a distributor's: such a
// token has no distributor to be bound to, and would otherwise see every
// customer. CheckTokenRole refuses to make one; this refuses one that an
// account's later change of role left behind.
func EffectiveRole(accountRole, tokenRole string) string {
	if rank(accountRole) == 0 {
		return ""
	}
	if tokenRole == "" {
		return accountRole
	}
	if rank(tokenRole) == 0 {
		return ""
	}
	eff := accountRole
	if rank(tokenRole) < rank(accountRole) {
		eff = tokenRole
	}
	if eff == store.RoleDistributor && accountRole != store.RoleDistributor {
		return ""
	}
	return eff
}

// CheckTokenRole says whether a token of tokenRole may be made for an
// account of accountRole: a token has at most its account's rights, and
// the distributor role only on a distributor's account (the token is
// bound to that distributor). So an admin's or office account's tokens are
// admin/office/support at most its own; a distributor's are distributor
// or support; support's are support.
//
// When a token makes a token (the admin API), pass the principal's
// effective role as accountRole, so a token never makes one above itself.
func CheckTokenRole(accountRole, tokenRole string) error {
	switch {
	case rank(accountRole) == 0:
		return fmt.Errorf("the account's role %q is not one of admin, office, distributor, support", accountRole)
	case rank(tokenRole) == 0:
		return fmt.Errorf("the token's role %q is not one of admin, office, distributor, support", tokenRole)
	case rank(tokenRole) > rank(accountRole):
		return fmt.Errorf("a token cannot have more rights than its account: a %s account's token may be %s at most", accountRole, accountRole)
	case tokenRole == store.RoleDistributor && accountRole != store.RoleDistributor:
		return fmt.Errorf("a distributor token must belong to a distributor's account (it sees only that distributor's customers); a %s account's token may be %s or support", accountRole, accountRole)
	}
	return nil
}

// checkAccount refuses an account no principal may be made of: disabled,
// of an unknown role, or whose distributor does not go with its role
// (store.StaffAccount.Distributor is set exactly for a distributor's).
func checkAccount(acc store.StaffAccount) error {
	switch {
	case acc.Disabled:
		return fmt.Errorf("the account %s is disabled", acc.Login)
	case rank(acc.Role) == 0:
		return fmt.Errorf("the account %s has the unknown role %q", acc.Login, acc.Role)
	case (acc.Role == store.RoleDistributor) != (acc.Distributor != ""):
		return fmt.Errorf("the account %s has role %s and distributor %q: a distributor is set for exactly the distributor role", acc.Login, acc.Role, acc.Distributor)
	}
	return nil
}

// SessionPrincipal is the principal of a console session of acc.
func SessionPrincipal(acc store.StaffAccount) (Principal, error) {
	if err := checkAccount(acc); err != nil {
		return Principal{}, fmt.Errorf("signing in: %w", err)
	}
	return Principal{Login: acc.Login, Role: acc.Role, Distributor: acc.Distributor, Actor: "staff:" + acc.Login}, nil
}

// TokenPrincipal is the principal of an API request with tok, a token of
// acc. It refuses a revoked token, one of another account, and one whose
// effective role is none (see EffectiveRole).
func TokenPrincipal(tok store.APIToken, acc store.StaffAccount) (Principal, error) {
	if err := checkAccount(acc); err != nil {
		return Principal{}, fmt.Errorf("token %s: %w", tok.Name, err)
	}
	switch {
	case tok.Login != acc.Login:
		return Principal{}, fmt.Errorf("token %s is %s's, not %s's", tok.Name, tok.Login, acc.Login)
	case !tok.RevokedAt.IsZero():
		return Principal{}, fmt.Errorf("token %s@%s is revoked", tok.Name, tok.Login)
	}
	// A token's role is never "" (that would be the console's: the
	// account's whole role).
	role := EffectiveRole(acc.Role, tok.Role)
	if tok.Role == "" || role == "" {
		return Principal{}, fmt.Errorf("token %s@%s of role %q gives no rights on a %s account", tok.Name, tok.Login, tok.Role, acc.Role)
	}
	return Principal{
		Login:       acc.Login,
		Role:        role,
		Distributor: acc.Distributor,
		Token:       tok.Name,
		Actor:       "token:" + tok.Name + "@" + acc.Login,
	}, nil
}

// LocalPrincipal is the principal of aktuald run on the server's shell by
// the operating-system user user: an admin, since whoever runs it there
// can read the database anyway.
func LocalPrincipal(user string) Principal {
	return Principal{Login: user, Role: store.RoleAdmin, Actor: "local:" + user}
}

// Action is something a principal may or may not do (Can).
type Action string

// The actions. The customer actions (view to reissue) apply, for a
// distributor's principal, to its own distributor's customers only
// (SeesCustomer); so does the audit log.
const (
	ActView               Action = "view"                // customers, their entitlements and counts
	ActActivate           Action = "activate"            // a new code or key's access
	ActAddUpdates         Action = "add-updates"         // sell more updates to an entitlement
	ActSuspend            Action = "suspend"             // suspend or reinstate
	ActReplaceKey         Action = "replace-key"         // move an entitlement to a new hardware key
	ActReissue            Action = "reissue"             // a new update code for a lost one
	ActCorrect            Action = "correct"             // a ledger correction by hand
	ActViewAudit          Action = "view-audit"          // the audit log
	ActViewReleases       Action = "view-releases"       // the published releases
	ActManageStaff        Action = "manage-staff"        // accounts and other people's tokens
	ActManageDistributors Action = "manage-distributors" // add distributors, move customers between them
	ActControlReleases    Action = "control-releases"    // roll out, halt, resume and withdraw releases
)

// permissions lists each role's actions. The choices beyond "admin: all,
// office: all but staff and distributors, support: read only":
//   - a distributor may not correct: a correction changes what was paid
//     for by hand, with no sale behind it, which is the vendor's office's
//     call (a distributor sells more updates with ActAddUpdates);
//   - releases are public (the update server shows them to anyone), so
//     every role may view them; rolling them out, halting and withdrawing
//     them is the vendor's call (admin and office), never a distributor's.
var permissions = map[string][]Action{
	store.RoleAdmin: {ActView, ActActivate, ActAddUpdates, ActSuspend, ActReplaceKey, ActReissue, ActCorrect,
		ActViewAudit, ActViewReleases, ActManageStaff, ActManageDistributors, ActControlReleases},
	store.RoleOffice: {ActView, ActActivate, ActAddUpdates, ActSuspend, ActReplaceKey, ActReissue, ActCorrect,
		ActViewAudit, ActViewReleases, ActControlReleases},
	store.RoleDistributor: {ActView, ActActivate, ActAddUpdates, ActSuspend, ActReplaceKey, ActReissue,
		ActViewAudit, ActViewReleases},
	store.RoleSupport: {ActView, ActViewAudit, ActViewReleases},
}

// Can reports whether p may do action at all (for a customer, also ask
// SeesCustomer). An unknown role or action may do nothing, and so may a
// distributor principal with no distributor (it would see everyone's).
func Can(p Principal, action Action) bool {
	if p.Role == store.RoleDistributor && p.Distributor == "" {
		return false
	}
	for _, a := range permissions[p.Role] {
		if a == action {
			return true
		}
	}
	return false
}

// SeesCustomer reports whether p may see (and, as far as Can allows, act
// on) a customer sold through customerDistributor ("" for the vendor's own
// customers): a distributor's principal only its own distributor's,
// whatever its token's role; everyone else every customer.
func SeesCustomer(p Principal, customerDistributor string) bool {
	switch {
	case rank(p.Role) == 0:
		return false
	case p.Distributor != "":
		return customerDistributor == p.Distributor
	case p.Role == store.RoleDistributor:
		return false // a distributor with no distributor sees nobody
	}
	return true
}
