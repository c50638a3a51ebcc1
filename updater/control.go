package updater

import (
	"net/url"
	"slices"

	"github.com/aktual/aktual/api"
)

// Release control (issue 20): the installer asks the latest question with
// proto=2, naming its channel, its machine (the protected ID a reserve
// sends: the server derives its place in staged rollouts from it and the
// product), the version it knows it has, and --force. The server's signed
// answer then carries the release notes, whether the release is critical,
// the rollout's decision, the versions it withholds and the required
// path. An older server ignores the question's new parameters and sends
// none of these.

// latestParams are the release control parameters of a latest question.
type latestParams struct {
	channel string // "" for stable
	machine string
	from    string
	force   bool
}

// latestQuery finds the parameters for req: the channel asked for, else
// the one the install record remembers; the version the install record
// or --from-version names.
func (u *Updater) latestQuery(req CheckRequest, target string, fs *folderState) latestParams {
	lq := latestParams{channel: req.Channel, from: req.FromVersion, force: req.Force}
	rec := (*InstallRecord)(nil)
	if fs != nil {
		rec = fs.record
	} else if r, err := u.state().InstallRecord(target); err == nil {
		rec = r
	}
	if rec != nil && rec.Product == req.Product {
		if lq.channel == "" {
			lq.channel = rec.Channel
		}
		if lq.from == "" {
			lq.from = rec.Version
		}
	}
	if lq.channel == "stable" {
		lq.channel = ""
	}
	if id, err := u.machineID(); err == nil {
		lq.machine = id
	}
	return lq
}

// set adds the parameters to a latest question's query.
func (lq latestParams) set(q url.Values) {
	q.Set("proto", api.LatestProto)
	if lq.channel != "" {
		q.Set("channel", lq.channel)
	}
	if lq.machine != "" {
		q.Set("machine", lq.machine)
	}
	if lq.from != "" {
		q.Set("from", lq.from)
	}
	if lq.force {
		q.Set("force", "1")
	}
}

// controlPlan copies the signed answer's release control fields to the
// plan. Notes are verified with the release keys (they are signed at
// publish time, like the release) and must be this release's: notes that
// are not are not shown, and the update goes on (they install nothing).
func (u *Updater) controlPlan(plan *Plan, st *api.LatestStatement, ks *api.KeySet) {
	plan.Critical, plan.Rollout, plan.Path = st.Critical, st.Rollout, st.Path
	if st.Notes == nil {
		return
	}
	var n api.NotesStatement
	if err := st.Notes.VerifyInto(api.PayloadNotes, ks.ReleaseKeys, &n); err != nil {
		u.notice("the release notes of %s %s are not signed by a trusted release key (%v); they are not shown", plan.Product, plan.Latest.Version, err)
		return
	}
	if n.Product != plan.Product || api.CompareVersions(n.Version, plan.Latest.Version) != 0 {
		u.notice("the server sent the release notes of %s %s with %s %s; they are not shown", n.Product, n.Version, plan.Product, plan.Latest.Version)
		return
	}
	for lang, text := range n.Notes {
		if !slices.Contains(api.NotesLanguages, lang) || len(text) > api.MaxNotesSize {
			delete(n.Notes, lang)
		}
	}
	if len(n.Notes) > 0 {
		plan.Notes = &n
	}
}

// withheld reports whether the signed answer says the server withholds
// version v from this installation (halted, withdrawn, not yet rolled
// out to it, another channel's, beyond a required step): an older answer
// after v was offered is then no replay. It does not make the older
// release installable: only a signed downgrade does.
func withheld(st *api.LatestStatement, v string) bool {
	return slices.ContainsFunc(st.Withheld, func(w string) bool { return api.CompareVersions(w, v) == 0 })
}

// rememberChannel writes the channel asked for into target's install
// record, if aktual keeps one and it says another.
func (u *Updater) rememberChannel(target, product, channel string) {
	if channel == "stable" {
		channel = ""
	}
	rec, err := u.state().InstallRecord(target)
	if err != nil || rec.Product != product || rec.Channel == channel {
		return
	}
	rec.Channel = channel
	if err := u.state().WriteInstallRecord(*rec); err != nil {
		u.notice("could not remember the channel in the install record (%v); pass --channel again next time", err)
	}
}
