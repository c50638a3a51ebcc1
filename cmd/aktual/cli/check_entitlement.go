package cli

import (
	"context"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater"
)

// checkEntitlement: placeholder until the entitlement query lands.
func checkEntitlement(ctx context.Context, ios *IOStreams, u *updater.Updater, plan *updater.Plan, o *checkOptions, out *outcome, available bool) error {
	return usageError(i18n.M("--code and --hwkey are not supported by check yet"))
}
