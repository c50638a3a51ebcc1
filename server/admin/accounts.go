package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

// StaffView is a staff account as an admin sees it: never its hashes.
type StaffView struct {
	Login       string    `json:"login"`
	Role        string    `json:"role"`
	Distributor string    `json:"distributor,omitempty"`
	Disabled    bool      `json:"disabled"`
	TOTP        bool      `json:"totp"`
	CreatedAt   time.Time `json:"created_at"`
}

func staffView(acc store.StaffAccount) StaffView {
	return StaffView{Login: acc.Login, Role: acc.Role, Distributor: acc.Distributor, Disabled: acc.Disabled,
		TOTP: acc.TOTPSecret != "", CreatedAt: acc.CreatedAt}
}

// NewStaff is a new account and its first password, shown once.
type NewStaff struct {
	StaffView
	Password string `json:"password"`
}

// validLogin: what a login may be (an e-mail address or a short name).
func validLogin(login string) error {
	if login == "" || len(login) > 64 || strings.HasPrefix(login, "local:") {
		return invalid("the login must be 1 to 64 characters: letters, digits, '.', '_', '-' or '@'")
	}
	for _, r := range login {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@", r)
		if !ok {
			return invalid("the login must be 1 to 64 characters: letters, digits, '.', '_', '-' or '@'")
		}
	}
	return nil
}

// AddStaff makes a staff account with a generated password, shown once.
// A distributor account is bound to a distributor, which must exist.
func (a *Admin) AddStaff(ctx context.Context, c Caller, login, role, distributor string) (NewStaff, error) {
	if err := c.allow(staff.ActManageStaff); err != nil {
		return NewStaff{}, err
	}
	login = strings.TrimSpace(login)
	if err := validLogin(login); err != nil {
		return NewStaff{}, err
	}
	if err := a.checkRole(ctx, role, distributor); err != nil {
		return NewStaff{}, err
	}
	pw := staff.GeneratePassword()
	hash, err := staff.HashPassword(pw)
	if err != nil {
		return NewStaff{}, err
	}
	now := a.Now.UTC()
	acc := store.StaffAccount{Login: login, Role: role, Distributor: distributor, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := a.Store.CreateStaff(ctx, acc, a.by(c, "")); errors.Is(err, store.ErrExists) {
		return NewStaff{}, markKind(store.ErrExists, i18n.Errorf("the login %q is taken; choose another", login))
	} else if err != nil {
		return NewStaff{}, fmt.Errorf("adding %s: %w", login, err)
	}
	return NewStaff{StaffView: staffView(acc), Password: pw}, nil
}

func (a *Admin) checkRole(ctx context.Context, role, distributor string) error {
	switch {
	case !store.ValidRole(role):
		return invalid("the role must be admin, office, distributor or support")
	case role == store.RoleDistributor && distributor == "":
		return invalid("a distributor account needs its distributor (--distributor NAME)")
	case role != store.RoleDistributor && distributor != "":
		return invalid("only a distributor account is bound to a distributor; leave the distributor out")
	case role == store.RoleDistributor:
		return a.knownDistributor(ctx, distributor)
	}
	return nil
}

// ListStaff lists every account.
func (a *Admin) ListStaff(ctx context.Context, c Caller) ([]StaffView, error) {
	if err := c.allow(staff.ActManageStaff); err != nil {
		return nil, err
	}
	all, err := a.Store.StaffAccounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing staff: %w", err)
	}
	out := make([]StaffView, 0, len(all))
	for _, acc := range all {
		out = append(out, staffView(acc))
	}
	return out, nil
}

// account finds an account for an admin's change of it.
func (a *Admin) account(ctx context.Context, c Caller, login string) (store.StaffAccount, error) {
	if err := c.allow(staff.ActManageStaff); err != nil {
		return store.StaffAccount{}, err
	}
	acc, err := a.Store.StaffAccount(ctx, login)
	if errors.Is(err, store.ErrNotFound) {
		return store.StaffAccount{}, markKind(store.ErrNotFound, i18n.Errorf("no staff account %q", login))
	} else if err != nil {
		return store.StaffAccount{}, fmt.Errorf("finding %s: %w", login, err)
	}
	return acc, nil
}

// SetDisabled disables an account (its sessions and tokens stop working
// at once, on every replica) or enables it again.
func (a *Admin) SetDisabled(ctx context.Context, c Caller, login string, disabled bool, reason string) (StaffView, error) {
	if _, err := a.account(ctx, c, login); err != nil { // the role's check, and the words for an unknown login
		return StaffView{}, err
	}
	if disabled && c.Actor == "staff:"+login {
		return StaffView{}, invalid("you cannot disable your own account; ask another admin")
	}
	action := "staff.enable"
	if disabled {
		action = "staff.disable"
	}
	acc, err := a.Store.ChangeStaff(ctx, login, action, a.by(c, reason), func(cur *store.StaffAccount) error {
		cur.Disabled = disabled
		return nil
	})
	if err != nil {
		return StaffView{}, fmt.Errorf("changing %s: %w", login, err)
	}
	return staffView(acc), nil
}

// ResetPassword gives an account a new generated password, shown once,
// and ends its sessions.
func (a *Admin) ResetPassword(ctx context.Context, c Caller, login string) (NewStaff, error) {
	if _, err := a.account(ctx, c, login); err != nil {
		return NewStaff{}, err
	}
	pw := staff.GeneratePassword()
	hash, err := staff.HashPassword(pw)
	if err != nil {
		return NewStaff{}, err
	}
	acc, err := a.Store.ChangeStaff(ctx, login, "staff.reset-password", a.by(c, ""), func(cur *store.StaffAccount) error {
		cur.PasswordHash = hash
		return nil
	})
	if err != nil {
		return NewStaff{}, fmt.Errorf("changing %s: %w", login, err)
	}
	return NewStaff{StaffView: staffView(acc), Password: pw}, nil
}

// TOTPSetup is what an authenticator app needs: shown once.
type TOTPSetup struct {
	Login  string `json:"login"`
	Secret string `json:"secret"`
	URL    string `json:"otpauth_url"`
}

// EnableTOTP turns on two-step sign-in for an account (a new secret each
// time) and ends its sessions; off turns it off.
func (a *Admin) EnableTOTP(ctx context.Context, c Caller, login string, on bool) (TOTPSetup, error) {
	acc, err := a.account(ctx, c, login)
	if err != nil {
		return TOTPSetup{}, err
	}
	setup := TOTPSetup{Login: acc.Login}
	action := "staff.totp-off"
	if on {
		if setup.Secret, setup.URL, err = staff.NewTOTP(acc.Login, "aktual"); err != nil {
			return TOTPSetup{}, err
		}
		action = "staff.totp-on"
	}
	_, err = a.Store.ChangeStaff(ctx, login, action, a.by(c, ""), func(cur *store.StaffAccount) error {
		cur.TOTPSecret = setup.Secret
		return nil
	})
	if err != nil {
		return TOTPSetup{}, fmt.Errorf("changing %s: %w", login, err)
	}
	return setup, nil
}

// TokenView is an API token as listed: never the token itself.
type TokenView struct {
	ID         int64      `json:"id"`
	Login      string     `json:"login"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

func tokenView(t store.APIToken) TokenView {
	v := TokenView{ID: t.ID, Login: t.Login, Name: t.Name, Role: t.Role, CreatedAt: t.CreatedAt}
	if !t.LastUsedAt.IsZero() {
		v.LastUsedAt = &t.LastUsedAt
	}
	if !t.RevokedAt.IsZero() {
		v.RevokedAt = &t.RevokedAt
	}
	return v
}

// NewToken is a new API token, shown once.
type NewToken struct {
	TokenView
	Token string `json:"token"`
}

// CreateToken makes an API token for an account, scoped to role ("": the
// account's own role).
func (a *Admin) CreateToken(ctx context.Context, c Caller, login, name, role string) (NewToken, error) {
	acc, err := a.account(ctx, c, login)
	if err != nil {
		return NewToken{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 || strings.ContainsAny(name, "@:") {
		return NewToken{}, invalid("the token needs a name that says what uses it (up to 100 characters, no '@' or ':'), e.g. \"billing\"")
	}
	if role == "" {
		role = acc.Role
	}
	if err := staff.CheckTokenRole(acc.Role, role); err != nil {
		return NewToken{}, invalid("%v", err)
	}
	tok, hash := staff.NewToken()
	t := store.APIToken{Login: login, Name: name, Role: role, Hash: hash, CreatedAt: a.Now.UTC()}
	if t.ID, err = a.Store.CreateToken(ctx, t, a.by(c, "")); errors.Is(err, store.ErrExists) {
		return NewToken{}, markKind(store.ErrExists, i18n.Errorf("%s already has a token named %q; revoke it or choose another name", login, name))
	} else if err != nil {
		return NewToken{}, fmt.Errorf("making a token for %s: %w", login, err)
	}
	return NewToken{TokenView: tokenView(t), Token: tok}, nil
}

// Tokens lists the tokens of login ("": everyone's).
func (a *Admin) Tokens(ctx context.Context, c Caller, login string) ([]TokenView, error) {
	if err := c.allow(staff.ActManageStaff); err != nil {
		return nil, err
	}
	all, err := a.Store.Tokens(ctx, login)
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	out := make([]TokenView, 0, len(all))
	for _, t := range all {
		out = append(out, tokenView(t))
	}
	return out, nil
}

// RevokeToken stops a token working at once.
func (a *Admin) RevokeToken(ctx context.Context, c Caller, id int64, reason string) error {
	if err := c.allow(staff.ActManageStaff); err != nil {
		return err
	}
	err := a.Store.RevokeToken(ctx, id, a.by(c, reason))
	if errors.Is(err, store.ErrNotFound) {
		return markKind(store.ErrNotFound, i18n.Errorf("no token %d", id))
	}
	return err
}

// Distributors lists the distributors (a distributor's staff see their own).
func (a *Admin) Distributors(ctx context.Context, c Caller) ([]string, error) {
	if err := c.allow(staff.ActView); err != nil {
		return nil, err
	}
	if c.Distributor != "" {
		return []string{c.Distributor}, nil
	}
	return a.Store.Distributors(ctx)
}

// AddDistributor records a distributor staff and customers can be put under.
func (a *Admin) AddDistributor(ctx context.Context, c Caller, name string) error {
	if err := c.allow(staff.ActManageDistributors); err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return invalid("the distributor's name is required (up to 200 characters)")
	}
	return a.Store.AddDistributor(ctx, name, a.by(c, ""))
}
