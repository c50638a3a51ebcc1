package cli

import (
	"context"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater"
)

// checkEntitlement asks the server how many paid updates the credential
// given to check (--code, or --hwkey for the classic series) has left,
// and says whether installing the available update would use one.
// Nothing is reserved. A mistyped or unknown credential fails as update
// would fail with it (exit 4), so a script can check a code before it
// schedules the update.
func checkEntitlement(ctx context.Context, ios *IOStreams, u *updater.Updater, plan *updater.Plan, o *checkOptions, out *outcome, available bool) error {
	P := ios.P
	key, err := credentialKind(ctx, plan, o.hwkey, api.UpdateCode(o.code))
	if err != nil {
		return err
	}
	var st *api.EntitlementStatus
	if key != nil {
		st, err = u.KeyEntitlement(ctx, plan.Product, key)
	} else {
		st, err = u.Entitlement(ctx, plan.Product, api.Credential{Code: o.code})
	}
	if err != nil {
		return err
	}
	remaining := st.Remaining
	out.Remaining = &remaining
	willUse := available && !plan.Downgrade && st.Active && remaining > 0
	out.WillUse = &willUse

	var left string
	switch {
	case !st.Active:
		left = P.Sprintf("This credential is not active for %s: ask your vendor.", plan.Product)
	case st.Held > 0:
		left = P.Sprintf("Paid updates left: %d (and %d held by an update that has not finished yet).", remaining, st.Held)
	default:
		left = P.Sprintf("Paid updates left: %d.", remaining)
	}
	var use string
	switch {
	case !available || !st.Active:
	case plan.Downgrade:
		use = P.Sprintf("Installing %s %s is free: it uses no paid update.", plan.Product, plan.Latest.Version)
	case remaining > 0:
		use = P.Sprintf("Installing %s %s would use one of them.", plan.Product, plan.Latest.Version)
	default:
		use = P.Sprintf("None is left for installing %s %s: ask your vendor for more updates.", plan.Product, plan.Latest.Version)
	}
	out.Message = joinSentences(out.Message, left, use)
	return nil
}

// joinSentences puts the non-empty sentences on one line.
func joinSentences(parts ...string) string {
	s := ""
	for _, p := range parts {
		switch {
		case p == "":
		case s == "":
			s = p
		default:
			s += " " + p
		}
	}
	return s
}
