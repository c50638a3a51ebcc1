package updater

import (
	"path/filepath"

	"github.com/aktual/aktual/updater/internal/journal"
)

// Journal states, in order. The journal of a target is on disk before each
// step that the next one depends on, so a crash at any instant leaves a
// record that recovery can finish.
const (
	StateIntent   = journal.StateIntent   // idempotency key chosen; reserve may or may not have reached the server
	StateReserved = journal.StateReserved // the server holds one update for us
	StateStaged   = journal.StateStaged   // the new file is written beside the target
	StateApplied  = journal.StateApplied  // the target is the new version; completion not yet acknowledged
	StateReported = journal.StateReported // the server counted the update: nothing left to do
)

// Journal is the record of one target's update in progress.
type Journal = journal.Journal

// InstallRecord remembers what aktual installed at a target: the fallback
// for finding the installed version when the server's catalogue does not
// know the target's hash.
type InstallRecord = journal.InstallRecord

// state is the state directory's journals, records and memory.
func (u *Updater) state() journal.Store {
	return journal.Store{StateDir: u.StateDir, Now: u.Now}
}

// save writes the journal atomically.
func (u *Updater) save(j *Journal) error { return u.state().Save(j) }

// loadJournal reads a target's journal: (nil, nil) when there is none.
func (u *Updater) loadJournal(target string) (*Journal, error) {
	return u.state().Load(target)
}

// forgetJournal removes the journal of an update that holds nothing (it
// was refused, given back, or never reached the server). Failing to only
// leaves work the next run does again, which every caller says is safe;
// it is said, not returned, as the update's own outcome is already known.
func (u *Updater) forgetJournal(target string) {
	if err := u.state().Remove(target); err != nil {
		u.notice("could not remove the update journal %s (%v); the next run of aktual finishes it again, which uses no update", u.state().Path(target), err)
	}
}

// finished forgets the journal of an update that is done: the server
// counted it, or it was free. Left at "applied", the journal would make
// the next run report the update again: the server answers a repeated
// completion with its first answer, so nothing is spent twice, but the
// customer would be told twice. So when it cannot be removed it is marked
// "reported", which recovery drops silently; only if that write fails too
// does the next run report it again (counted once all the same).
func (u *Updater) finished(j *Journal) {
	err := u.state().Remove(j.Target)
	if err == nil {
		return
	}
	done := *j
	done.State = StateReported
	if serr := u.save(&done); serr != nil {
		u.notice("could not remove the finished update's journal %s (%v); the next run of aktual tells the server again, which counts the update only once", u.state().Path(j.Target), err)
		return
	}
	u.notice("could not remove the finished update's journal %s (%v); it is marked done, and the next run of aktual removes it", u.state().Path(j.Target), err)
}

// recordInstall writes the install record of a finished update. It is
// only the fallback for telling the installed version when the server's
// catalogue does not know the file, so failing to write it is said, not
// returned: the update itself is done and counted.
func (u *Updater) recordInstall(j *Journal) {
	if j.Kind == journal.KindFolder {
		u.recordFolder(j)
		return
	}
	r := InstallRecord{Target: j.Target, Product: j.Product, Version: j.To, SHA256: j.NewSHA256, Channel: j.Channel}
	if prev, err := u.state().InstallRecord(j.Target); err == nil && r.Channel == "" {
		r.Channel = prev.Channel
	}
	if err := u.state().WriteInstallRecord(r); err != nil {
		u.notice("%s %s is installed, but aktual could not note it in %s (%v); if a later check cannot tell the installed version, pass --from-version %s",
			j.Product, j.To, filepath.Dir(u.state().RecordPath(j.Target)), err, j.To)
	}
}
