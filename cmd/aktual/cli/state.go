package cli

import (
	"path/filepath"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater"
)

// leftState says, after an update failed or was interrupted, what it left
// behind and how to go on: the journal and a kept download tell.
func leftState(P *i18n.Printer, u *updater.Updater, target string, err error) string {
	switch exitCode(err) {
	case ExitOK, ExitUsage, ExitNotReported:
		return "" // nothing started, or the message says it all
	}
	if u == nil || target == "" {
		return ""
	}
	abs, aerr := filepath.Abs(target)
	if aerr != nil {
		return ""
	}
	if real, rerr := filepath.EvalSymlinks(abs); rerr == nil {
		abs = real
	}
	if st, serr := u.ReadStatus(); serr == nil {
		for _, j := range st.Pending {
			if j.Target != abs {
				continue
			}
			switch j.State {
			case updater.StateIntent:
				return P.Sprintf("The server may hold one of your updates for %s %s; the next aktual update settles it (or it is given back by itself within 7 days). Nothing is lost.", j.Product, j.To)
			case updater.StateApplied:
				return P.Sprintf("%s %s is installed; the server is told the next time aktual runs (or run aktual recover). Nothing is lost.", j.Product, j.To)
			default:
				return P.Sprintf("The update of %s to %s was under way; the next run of aktual (or aktual recover) finishes or undoes it. Nothing is lost.", j.Product, j.To)
			}
		}
	}
	if have, total, ok := updater.PartialDownload(abs); ok && have == total {
		return P.Sprintf("%s is unchanged and no update was used. The verified download (%s) is kept: running the update again uses it without downloading it again.",
			abs, sizeText(P, total))
	} else if ok {
		return P.Sprintf("%s is unchanged and no update was used. The download is kept (%s of %s): running the update again continues it.",
			abs, sizeText(P, have), sizeText(P, total))
	}
	return P.Sprintf("%s is unchanged and no update was used.", abs)
}
