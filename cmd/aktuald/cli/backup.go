package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/sqlite"
)

// backupReport is what `admin backup` and `admin restore` print: the
// checked backup file, and (restore) what was replaced.
type backupReport struct {
	Status        string            `json:"status"` // backed-up, restored, or violations
	File          string            `json:"file"`   // the backup
	Size          int64             `json:"size"`
	SHA256        string            `json:"sha256"`
	SchemaVersion int               `json:"schema_version"`
	Integrity     string            `json:"integrity"`
	Entitlements  int64             `json:"entitlements"`
	Releases      int64             `json:"releases"`
	LedgerRows    int64             `json:"ledger_rows"`
	Purchased     int64             `json:"purchased"`
	Remaining     int64             `json:"remaining"`
	Held          int64             `json:"held"`
	Consumed      int64             `json:"consumed"`
	Overdraft     int64             `json:"overdraft"`
	Violations    []store.Violation `json:"violations"`
	// AlsoCopy: the data folder's files a database backup does not hold.
	AlsoCopy []string `json:"also_copy"`
	// Restore only.
	Database           string   `json:"database,omitempty"`
	Kept               string   `json:"kept,omitempty"`
	PreviousLedgerRows *int64   `json:"previous_ledger_rows,omitempty"`
	Warnings           []string `json:"warnings,omitempty"`
}

func newBackupReport(status string, s sqlite.Summary, dir datadir.DataDir) backupReport {
	v := s.Violations
	if v == nil {
		v = []store.Violation{}
	}
	var also []string
	for _, c := range companions(dir) {
		also = append(also, c.path)
	}
	return backupReport{Status: status, File: s.Path, Size: s.Size, SHA256: s.SHA256, SchemaVersion: s.SchemaVersion,
		Integrity: s.Integrity, Entitlements: s.Entitlements, Releases: s.Releases, LedgerRows: s.LedgerRows,
		Purchased: s.Purchased, Remaining: s.Remaining, Held: s.Held, Consumed: s.Consumed, Overdraft: s.Overdraft,
		Violations: v, AlsoCopy: also}
}

// companion is a file or folder of the data folder that a database backup
// does not hold and a restored server needs.
type companion struct{ path, why string }

func companions(dir datadir.DataDir) []companion {
	return []companion{
		{dir.Path("keys") + string(os.PathSeparator), "SECRET: the signing keys and the code secret (without it no update code is recognised); keep the copy as safe as the keys"},
		{dir.BlobDir() + string(os.PathSeparator), "the release files"},
		{dir.Path(datadir.TrustFile), "the public keys clients trust"},
	}
}

func (r backupReport) countsText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %d bytes, sha256 %s\n", r.Size, r.SHA256)
	fmt.Fprintf(&b, "  integrity %s, schema version %d\n", r.Integrity, r.SchemaVersion)
	fmt.Fprintf(&b, "  %d entitlements (purchased %d = remaining %d + held %d + consumed %d), %d releases, %d ledger rows\n",
		r.Entitlements, r.Purchased, r.Remaining, r.Held, r.Consumed, r.Releases, r.LedgerRows)
	if r.Overdraft > 0 {
		fmt.Fprintf(&b, "  overdraft %d\n", r.Overdraft)
	}
	if len(r.Violations) == 0 {
		fmt.Fprintf(&b, "  audit passed: every count matches its ledger\n")
	}
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "VIOLATION entitlement %d (%s): %s\n", v.EntitlementID, v.Customer, v.Problem)
	}
	return b.String()
}

// sqliteOnly returns the SQLite database the global flags name, or the
// refusal, giving the PostgreSQL tool's command line, for any other --db.
func (e *env) sqliteOnly(postgresAdvice func(url string) string) (datadir.DataDir, string, error) {
	dir, err := e.dataDir()
	if err != nil {
		return "", "", err
	}
	path, ok := dir.SQLitePath(e.db)
	if !ok {
		return "", "", usagef("%s", postgresAdvice(e.db))
	}
	return dir, path, nil
}

func newBackupCmd(e *env) *cobra.Command {
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Write a consistent, checked copy of the database while the server runs",
		Long: `Write a consistent copy of the embedded SQLite database to a new file, while
aktuald serve keeps answering (VACUUM INTO: one snapshot, writers are not
stopped). The file appears only once complete and synced; it is then checked
(integrity_check and the audit) and its counts and sha256 are printed.

The backup holds the database only. Copy the data folder's keys/ (secret:
the signing keys and the code secret), blobs/ and trust.json with it: a
restored server needs all of them.

For PostgreSQL (--db postgres://…) use pg_dump; this command prints how.
Exit codes: 0 done; 2 bad input (no --out, the file exists, the folder
cannot be written); 3 the copy has audit violations (so has the database).`,
		Example: `  aktuald admin backup --out /backups/aktuald-$(date +%F).db
  aktuald --db 'postgres://aktual@db/aktual' admin backup --out aktual.dump   # prints the pg_dump command`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, path, err := e.sqliteOnly(func(url string) string { return pgDumpAdvice(url, out) })
			if err != nil {
				return err
			}
			if out == "" {
				return usagef("--out FILE is required: the new file to write the backup to")
			}
			sum, err := sqlite.Backup(cmd.Context(), path, out, force)
			switch {
			case errors.Is(err, sqlite.ErrNoDatabase), errors.Is(err, sqlite.ErrBackupPath), errors.Is(err, sqlite.ErrBackupExists):
				return usagef("%v", err)
			case err != nil:
				return err
			}
			status := "backed-up"
			if len(sum.Violations) > 0 {
				status = "violations"
			}
			rep := newBackupReport(status, sum, dir)
			var b strings.Builder
			fmt.Fprintf(&b, "Backup written: %s\n%s", rep.File, rep.countsText())
			if len(sum.Violations) > 0 {
				fmt.Fprintf(&b, "The backup is a faithful copy: the database itself has these violations; see aktuald admin audit.\n")
			}
			fmt.Fprintf(&b, "This file holds the database only. Copy these from the data folder with it; a restore needs them:\n")
			cs := companions(dir)
			width := 0
			for _, c := range cs {
				width = max(width, len(c.path))
			}
			for _, c := range cs {
				fmt.Fprintf(&b, "  %-*s  %s\n", width, c.path, c.why)
			}
			e.print(rep, b.String())
			if len(sum.Violations) > 0 {
				return &codeError{code: exitViolation}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the backup file to write (must not exist)")
	cmd.Flags().BoolVar(&force, "force", false, "replace --out if it exists")
	return cmd
}

func newRestoreCmd(e *env) *cobra.Command {
	var from string
	var force bool
	cmd := &cobra.Command{
		Use:   "restore --from FILE",
		Short: "Replace the database with a checked backup (the server must be stopped)",
		Long: `Replace the embedded SQLite database with a backup written by aktuald admin
backup. The backup is checked first (integrity_check, a schema version this
aktuald knows, the audit); the database it replaces is kept beside it as
aktuald.db.before-restore-<time>, and the backup is put in place atomically.

Stop every aktuald serve on the data folder first: a restore is refused
while one runs. A database with more ledger rows than the backup (history of
paid updates the backup lacks) is replaced only with --force.

Restore keys/, blobs/ and trust.json of the same backup set into the data
folder too. For PostgreSQL (--db postgres://…) use pg_restore; this command
prints how. Exit codes: 0 done; 2 refused (bad or newer backup, a server
running, history that would be lost); 3 the backup has audit violations.`,
		Example: `  aktuald admin restore --from /backups/aktuald-2031-03-04.db`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, path, err := e.sqliteOnly(func(url string) string { return pgRestoreAdvice(url, from) })
			if err != nil {
				return err
			}
			if from == "" {
				return usagef("--from FILE is required: the backup to restore (written by aktuald admin backup)")
			}
			// Checked before anything is created: a typo must change nothing.
			if fi, err := os.Stat(from); err != nil {
				var pe *fs.PathError
				if errors.As(err, &pe) {
					err = pe.Err
				}
				return usagef("--from %s: %v", from, err)
			} else if fi.IsDir() {
				return usagef("--from %s is a folder; give the backup file", from)
			}
			release, err := datadir.LockDatabase(dir, e.db)
			if errors.Is(err, datadir.ErrDatabaseInUse) {
				return usagef("%v, then run the restore again", err)
			} else if err != nil {
				return err
			}
			defer release()
			res, err := sqlite.Restore(cmd.Context(), from, path, sqlite.RestoreOptions{Force: force})
			switch {
			case errors.Is(err, sqlite.ErrViolations):
				return &codeError{code: exitViolation, err: err}
			case errors.Is(err, sqlite.ErrNotBackup), errors.Is(err, sqlite.ErrNewerSchema), errors.Is(err, sqlite.ErrInUse),
				errors.Is(err, sqlite.ErrWouldLoseLedger), errors.Is(err, fs.ErrNotExist):
				return usagef("nothing was changed: %v", err)
			case err != nil:
				return err
			}
			rep := newBackupReport("restored", res.Backup, dir)
			rep.Database, rep.Kept = path, res.Kept
			if res.Kept != "" {
				rep.PreviousLedgerRows = &res.PreviousLedgerRows
			}
			rep.Warnings = restoreWarnings(dir, res.Backup)
			for _, w := range rep.Warnings {
				fmt.Fprintln(e.errOut, "aktuald: warning:", w)
			}
			e.print(rep, restoredText(rep, path, res))
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the backup file to restore")
	cmd.Flags().BoolVar(&force, "force", false, "replace the database even if it has ledger rows the backup lacks, or cannot be read")
	return cmd
}

// restoredText is what admin restore tells staff.
func restoredText(rep backupReport, path string, res sqlite.RestoreResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Restored %s into %s\n%s", rep.File, path, rep.countsText())
	switch {
	case res.Kept != "" && res.PreviousLedgerRows >= 0:
		fmt.Fprintf(&b, "The database it replaced (%d ledger rows) is kept as %s\n", res.PreviousLedgerRows, res.Kept)
	case res.Kept != "":
		fmt.Fprintf(&b, "The database it replaced (unreadable) is kept as %s\n", res.Kept)
	}
	fmt.Fprintf(&b, "The data folder's keys/, blobs/ and trust.json must be those of the same backup set.\n")
	return b.String()
}

// restoreWarnings names what the data folder lacks for the restored
// database to be served as it was.
func restoreWarnings(dir datadir.DataDir, s sqlite.Summary) []string {
	var w []string
	if _, err := os.Stat(dir.Path("keys", "code-secret")); err != nil {
		w = append(w, fmt.Sprintf("%s has no code secret: copy keys/ from the same backup set before starting the server, or every update code is refused and the server makes new keys that clients do not trust",
			dir))
	}
	if s.Releases > 0 {
		if ents, err := os.ReadDir(dir.BlobDir()); err != nil || len(ents) == 0 {
			w = append(w, fmt.Sprintf("the backup has %d releases but %s is empty: copy blobs/ from the same backup set", s.Releases, dir.BlobDir()))
		}
	}
	return w
}

func pgDumpAdvice(url, out string) string {
	return fmt.Sprintf("aktuald admin backup copies only the embedded SQLite database; back PostgreSQL up with pg_dump (a consistent snapshot while the servers run):\n"+
		"  pg_dump --format=custom --file %s %s\n"+
		"and copy the data folder's keys/ (secret), blobs/ and trust.json with it", shellWord(orPlaceholder(out)), shellQuote(url))
}

func pgRestoreAdvice(url, from string) string {
	return fmt.Sprintf("aktuald admin restore replaces only the embedded SQLite database; for PostgreSQL stop every aktuald serve, then:\n"+
		"  pg_restore --clean --if-exists --dbname %s %s\n"+
		"  aktuald admin audit --db %s\n"+
		"and restore the data folder's keys/, blobs/ and trust.json of the same backup set", shellQuote(url), shellWord(orPlaceholder(from)), shellQuote(url))
}

func orPlaceholder(file string) string {
	if file == "" {
		return "FILE"
	}
	return file
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// shellWord quotes s only when a shell would otherwise split or expand it.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@%+=,") == "" {
		return s
	}
	return shellQuote(s)
}

// holdDatabase takes the database's in-use lock for serve, before it opens
// the database (see datadir.HoldDatabase).
func (e *env) holdDatabase() (release func(), err error) {
	dir, err := e.dataDir()
	if err != nil {
		return nil, err
	}
	return datadir.HoldDatabase(dir, e.db)
}
