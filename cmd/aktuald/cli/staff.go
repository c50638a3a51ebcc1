package cli

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/store"
)

// localCaller is the person at the server's shell: an admin, recorded as
// "local:USER" in the audit log.
func localCaller() admin.Caller {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = cmp.Or(u.Username, name)
	}
	return admin.Local(cmp.Or(name, "unknown"))
}

// staffError makes a refusal of the staff operations a usage error (exit
// 2: the command or its input must change); anything else fails (exit 1).
func staffError(err error) error {
	for _, kind := range []error{admin.ErrInvalid, admin.ErrForbidden, store.ErrNotFound, store.ErrExists,
		store.ErrConflict, store.ErrIdempotencyMismatch, store.ErrWouldGoNegative} {
		if errors.Is(err, kind) {
			return usagef("%v", err)
		}
	}
	return err
}

// withAdmin opens the data folder and runs fn with its admin service.
func (e *env) withAdmin(fn func(*admin.Admin) error) error {
	inst, err := e.open()
	if err != nil {
		return err
	}
	defer inst.Close()
	return staffError(fn(admin.New(inst)))
}

func newStaffCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "staff",
		Short: "Staff accounts of the admin console and API: add, list, disable, reset passwords, make API tokens",
		Long: `Staff accounts of the admin console and API.

Roles: admin (everything, staff accounts included), office (every customer),
distributor (only the customers of its distributor; --distributor NAME),
support (reads only). The first admin is made here, on the server's shell;
the console does the rest. A password or token is shown once: hand it over
at once.`,
	}
	cmd.AddCommand(newStaffAddCmd(e), newStaffListCmd(e), newStaffDisableCmd(e, true), newStaffDisableCmd(e, false),
		newStaffResetCmd(e), newStaffTokenCmd(e), newStaffTokensCmd(e), newStaffRevokeCmd(e), newStaffTOTPCmd(e), newDistributorCmd(e))
	return cmd
}

func newStaffAddCmd(e *env) *cobra.Command {
	var login, role, distributor string
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Add a staff account; prints its first password (shown once)",
		Example: `  aktuald staff add --login maria --role admin
  aktuald staff add --login plovdiv-1 --role distributor --distributor "Пловдив Софт" --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withAdmin(func(adm *admin.Admin) error {
				c := localCaller()
				if role == store.RoleDistributor && distributor != "" {
					// The shell is trusted: a new distributor's first
					// account makes the distributor.
					if err := adm.AddDistributor(cmd.Context(), c, distributor); err != nil {
						return err
					}
				}
				n, err := adm.AddStaff(cmd.Context(), c, login, role, distributor)
				if err != nil {
					return err
				}
				e.print(n, fmt.Sprintf("Staff account %s (%s) added.\nPassword: %s\nGive it to them now: it is stored only as a hash and cannot be shown again.\n",
					n.Login, describeRole(n.StaffView), n.Password))
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&login, "login", "", "the login (letters, digits, '.', '_', '-', '@')")
	_ = cmd.MarkFlagRequired("login")
	f.StringVar(&role, "role", "", "admin, office, distributor or support")
	_ = cmd.MarkFlagRequired("role")
	f.StringVar(&distributor, "distributor", "", "for a distributor account: the distributor it works for (made if new)")
	return cmd
}

func describeRole(v admin.StaffView) string {
	if v.Distributor != "" {
		return v.Role + ", " + v.Distributor
	}
	return v.Role
}

func newStaffListCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List staff accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withAdmin(func(adm *admin.Admin) error {
				all, err := adm.ListStaff(cmd.Context(), localCaller())
				if err != nil {
					return err
				}
				var b strings.Builder
				for _, v := range all {
					state := "active"
					if v.Disabled {
						state = "DISABLED"
					}
					totp := ""
					if v.TOTP {
						totp = ", two-step sign-in"
					}
					fmt.Fprintf(&b, "%-24s %-28s %s%s\n", v.Login, describeRole(v), state, totp)
				}
				if len(all) == 0 {
					b.WriteString("No staff accounts yet: aktuald staff add --login NAME --role admin\n")
				}
				e.print(map[string]any{"staff": all}, b.String())
				return nil
			})
		},
	}
}

func newStaffDisableCmd(e *env, disable bool) *cobra.Command {
	var login, reason string
	use, short := "enable", "Enable a disabled staff account again"
	if disable {
		use, short = "disable", "Disable a staff account: its sessions and tokens stop working at once, on every replica"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withAdmin(func(adm *admin.Admin) error {
				v, err := adm.SetDisabled(cmd.Context(), localCaller(), login, disable, reason)
				if err != nil {
					return err
				}
				e.print(v, fmt.Sprintf("Staff account %s %sd.\n", v.Login, use))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&login, "login", "", "the account's login")
	_ = cmd.MarkFlagRequired("login")
	cmd.Flags().StringVar(&reason, "reason", "", "why (goes in the audit log)")
	return cmd
}

func newStaffResetCmd(e *env) *cobra.Command {
	var login string
	cmd := &cobra.Command{
		Use:   "reset-password",
		Short: "Give a staff account a new password (shown once); its sessions end",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withAdmin(func(adm *admin.Admin) error {
				n, err := adm.ResetPassword(cmd.Context(), localCaller(), login)
				if err != nil {
					return err
				}
				e.print(n, fmt.Sprintf("New password of %s: %s\nGive it to them now: it cannot be shown again.\n", n.Login, n.Password))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&login, "login", "", "the account's login")
	_ = cmd.MarkFlagRequired("login")
	return cmd
}

func newStaffTokenCmd(e *env) *cobra.Command {
	var login, name, role string
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Make an admin API token for a staff account (shown once)",
		Example: `  aktuald staff token --login billing-bot --name invoices --json
  aktuald staff token --login maria --name reports --role support`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withAdmin(func(adm *admin.Admin) error {
				t, err := adm.CreateToken(cmd.Context(), localCaller(), login, name, role)
				if err != nil {
					return err
				}
				e.print(t, fmt.Sprintf("API token %d %q of %s (%s): %s\nSend it as Authorization: Bearer TOKEN. It is stored only as a hash and cannot be shown again.\n",
					t.ID, t.Name, t.Login, t.Role, t.Token))
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&login, "login", "", "the account the token acts for")
	_ = cmd.MarkFlagRequired("login")
	f.StringVar(&name, "name", "", "what uses it, e.g. billing")
	_ = cmd.MarkFlagRequired("name")
	f.StringVar(&role, "role", "", "narrow the token to this role (default: the account's)")
	return cmd
}

func newStaffTokensCmd(e *env) *cobra.Command {
	var login string
	cmd := &cobra.Command{
		Use:   "tokens",
		Short: "List API tokens (never the tokens themselves): id, account, role, last use",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withAdmin(func(adm *admin.Admin) error {
				all, err := adm.Tokens(cmd.Context(), localCaller(), login)
				if err != nil {
					return err
				}
				var b strings.Builder
				for _, t := range all {
					used, state := "never used", "active"
					if t.LastUsedAt != nil {
						used = "last used " + t.LastUsedAt.UTC().Format("2006-01-02 15:04 UTC")
					}
					if t.RevokedAt != nil {
						state = "REVOKED"
					}
					fmt.Fprintf(&b, "%4d  %-20s %-16s %-12s %-8s %s\n", t.ID, t.Name, t.Login, t.Role, state, used)
				}
				if len(all) == 0 {
					b.WriteString("No API tokens: aktuald staff token --login LOGIN --name NAME makes one.\n")
				}
				e.print(map[string]any{"tokens": all}, b.String())
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&login, "login", "", "only this account's")
	return cmd
}

func newStaffRevokeCmd(e *env) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "revoke TOKEN-ID",
		Short: "Revoke an API token at once (the id is in staff tokens / the console)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id < 1 {
				return usagef("the token id must be a whole number, e.g. aktuald staff revoke 3")
			}
			return e.withAdmin(func(adm *admin.Admin) error {
				if err := adm.RevokeToken(cmd.Context(), localCaller(), id, reason); err != nil {
					return err
				}
				e.print(map[string]any{"id": id, "revoked": true}, fmt.Sprintf("Token %d revoked.\n", id))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (goes in the audit log)")
	return cmd
}

func newStaffTOTPCmd(e *env) *cobra.Command {
	var login string
	var off bool
	cmd := &cobra.Command{
		Use:   "totp",
		Short: "Turn on two-step sign-in (an authenticator app's code) for an account; prints the secret once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withAdmin(func(adm *admin.Admin) error {
				s, err := adm.EnableTOTP(cmd.Context(), localCaller(), login, !off)
				if err != nil {
					return err
				}
				text := fmt.Sprintf("Two-step sign-in turned off for %s.\n", login)
				if !off {
					text = fmt.Sprintf("Two-step sign-in is on for %s. Add this to their authenticator app:\n  secret %s\n  %s\n", login, s.Secret, s.URL)
				}
				e.print(s, text)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&login, "login", "", "the account's login")
	_ = cmd.MarkFlagRequired("login")
	cmd.Flags().BoolVar(&off, "off", false, "turn two-step sign-in off instead")
	return cmd
}

func newDistributorCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "distributor", Short: "The regional distributors customers and staff can belong to"}
	cmd.AddCommand(&cobra.Command{
		Use:   "add NAME",
		Short: "Record a distributor",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withAdmin(func(adm *admin.Admin) error {
				if err := adm.AddDistributor(cmd.Context(), localCaller(), args[0]); err != nil {
					return err
				}
				e.print(map[string]string{"name": args[0]}, fmt.Sprintf("Distributor %s recorded.\n", args[0]))
				return nil
			})
		},
	}, &cobra.Command{
		Use:   "list",
		Short: "List the distributors",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withAdmin(func(adm *admin.Admin) error {
				all, err := adm.Distributors(cmd.Context(), localCaller())
				if err != nil {
					return err
				}
				e.print(map[string]any{"distributors": all}, strings.Join(all, "\n")+"\n")
				return nil
			})
		},
	})
	return cmd
}
