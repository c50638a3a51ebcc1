package cli

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/patches"
)

func newAdminCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "admin", Short: "Activate updates, look at counts, audit the ledger, back up and restore"}
	cmd.AddCommand(newActivateCmd(e), newShowCmd(e), newAuditCmd(e), newHWKeyCmd(e))
	cmd.AddCommand(newBackupCmd(e), newRestoreCmd(e))
	return cmd
}

func newActivateCmd(e *env) *cobra.Command {
	var r admin.ActivateRequest
	cmd := &cobra.Command{
		Use:   "activate",
		Short: "Give a customer paid updates (pro: prints a new update code; classic: enables a hardware key)",
		Example: `  aktuald admin activate --customer "Acme Ltd" --series pro --updates 3
  aktuald admin activate --customer "Acme Ltd" --series classic --hwkey HK-0042 --updates 2
  aktuald admin activate --customer "ЕТ Иванов" --series pro --updates 1 --distributor "Пловдив Софт" --idempotency-key INV-2026-0113`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case r.Series == api.SeriesPro && r.HWKey != "":
				return usagef("--hwkey is for the classic series; Pro-series updates get an update code")
			case r.Series == api.SeriesClassic && r.HWKey == "":
				return usagef("--hwkey SERIAL is required for the classic series")
			case !api.ValidSeries(r.Series):
				return usagef("--series must be pro or classic")
			case strings.TrimSpace(r.Customer) == "":
				return usagef("--customer is required: the customer's name (up to 200 characters)")
			case r.Updates < 1 || r.Updates > 10000:
				return usagef("--updates must be between 1 and 10000")
			}
			return e.withAdmin(func(adm *admin.Admin) error {
				c := localCaller()
				if r.Distributor != "" {
					// The shell is trusted: naming a new distributor makes it.
					if err := adm.AddDistributor(cmd.Context(), c, r.Distributor); err != nil {
						return err
					}
				}
				out, err := adm.Activate(cmd.Context(), c, r)
				if err != nil {
					return err
				}
				e.print(out, activationText(out))
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&r.Customer, "customer", "", "customer's name")
	f.StringVar(&r.Series, "series", "", "pro or classic")
	f.StringVar(&r.HWKey, "hwkey", "", "classic series: the hardware key's serial")
	f.Int64Var(&r.Updates, "updates", 0, "number of paid updates to add")
	f.StringVar(&r.Distributor, "distributor", "", "put a new customer under this regional distributor (made if new)")
	f.StringVar(&r.VAT, "vat", "", "a new customer's VAT or company number (for search)")
	f.StringVar(&r.IdempotencyKey, "idempotency-key", "", "the invoice number: run again with the same key, the updates are added once")
	f.StringVar(&r.Reason, "reason", "", "a note for the audit log")
	return cmd
}

func activationText(o admin.Outcome) string {
	a := o.Activation
	var b strings.Builder
	if o.Replayed {
		fmt.Fprintf(&b, "This invoice (idempotency key) was already activated: nothing was added now.\n")
	}
	switch {
	case a.Code != "":
		fmt.Fprintf(&b, "Update code for %s: %s\n", a.Customer, a.Code)
		fmt.Fprintf(&b, "Give it to the customer now: it is stored only as a hash and cannot be shown again.\n")
	case a.Series == api.SeriesPro:
		fmt.Fprintf(&b, "Added %d updates to %s's existing update code (…-%s).\n", a.Added, a.Customer, a.CodeHint)
	case a.Created:
		fmt.Fprintf(&b, "Site access enabled for hardware key %s (%s).\n", a.HWKeySerial, a.Customer)
	default:
		fmt.Fprintf(&b, "Added %d updates to hardware key %s (%s).\n", a.Added, a.HWKeySerial, a.Customer)
	}
	fmt.Fprintf(&b, "Remaining updates: %d (purchased %d, held %d, consumed %d)\n", a.Remaining, a.Purchased, a.Held, a.Consumed)
	return b.String()
}

func newShowCmd(e *env) *cobra.Command {
	var code, hwkey string
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show purchased, remaining, held and consumed updates of a code or hardware key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (code == "") == (hwkey == "") {
				return usagef("give exactly one of --code CODE or --hwkey SERIAL")
			}
			inst, err := e.open()
			if err != nil {
				return err
			}
			defer inst.Close()
			adm := admin.New(inst)
			var st admin.Standing
			if code != "" {
				st, err = adm.ShowCode(cmd.Context(), code)
			} else {
				st, err = adm.ShowHWKey(cmd.Context(), hwkey)
			}
			if err != nil {
				return usagef("%v", err)
			}
			id := "hardware key " + st.HWKeySerial
			if st.CodeHint != "" {
				id = "update code …-" + st.CodeHint
			}
			text := fmt.Sprintf("%s (%s series, %s)\npurchased %d\nremaining %d\nheld      %d\nconsumed  %d\n",
				st.Customer, st.Series, id, st.Purchased, st.Remaining, st.Held, st.Consumed)
			if st.Overdraft > 0 {
				text += fmt.Sprintf("overdraft %d (completions that arrived after their reservation expired with none left)\n", st.Overdraft)
			}
			e.print(st, text)
			return nil
		},
	}
	cmd.Flags().StringVar(&code, "code", "", "a Pro-series update code")
	cmd.Flags().StringVar(&hwkey, "hwkey", "", "a hardware key's serial")
	return cmd
}

func newAuditCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "audit",
		Short: "Check purchased = remaining + held + consumed and the ledger for every entitlement (exit 3 on a violation)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			inst, err := e.open()
			if err != nil {
				return err
			}
			defer inst.Close()
			rep, err := admin.New(inst).Audit(cmd.Context())
			if err != nil {
				return err
			}
			var b strings.Builder
			if rep.OK() {
				fmt.Fprintf(&b, "Audit passed: %d entitlements, every count matches its ledger.\n", rep.Entitlements)
			}
			for _, v := range rep.Violations {
				fmt.Fprintf(&b, "VIOLATION entitlement %d (%s): %s\n", v.EntitlementID, v.Customer, v.Problem)
			}
			e.print(rep, b.String())
			if !rep.OK() {
				return &codeError{code: exitViolation}
			}
			return nil
		},
	}
}

// publishOptions are release publish's flags.
type publishOptions struct {
	p            admin.PublishParams
	file, health string
	dir, main    string
	preserve     []string
	patchFrom    int
	pf           patchFlags
	cf           controlFlags
}

func newReleaseCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "release", Short: "Publish releases and control how they are offered"}
	o := &publishOptions{}
	publish := &cobra.Command{
		Use:   "publish",
		Short: "Store a release file or folder and sign its release statement with the release key",
		Example: `  aktuald release publish --product ledger --series pro --version 2.0.0 --os linux --arch amd64 --file dist/ledger
  aktuald release publish --product ledger --series pro --version 2.0.0 --os linux --arch amd64 \
      --url https://cdn.example.com/ledger/2.0.0/ledger-linux-amd64
  aktuald release publish --product ledger --series pro --version 2.0.0 --os windows --arch amd64 \
      --dir dist/ledger-windows.zip --main ledger.exe --preserve 'data/**' --preserve '*.ini'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctl, err := o.cf.params(cmd.Flags())
			if err != nil {
				return err
			}
			o.p.Control = ctl
			return runPublish(cmd.Context(), e, o)
		},
	}
	f := publish.Flags()
	f.StringVar(&o.p.Product, "product", "", "product name")
	f.StringVar(&o.p.Series, "series", "", "pro or classic")
	f.StringVar(&o.p.Version, "version", "", "version, e.g. 2.0.0")
	f.StringVar(&o.p.OS, "os", runtime.GOOS, "operating system (GOOS names: linux, windows, darwin)")
	f.StringVar(&o.p.Arch, "arch", runtime.GOARCH, "architecture (GOARCH names: amd64, arm64)")
	f.StringVar(&o.file, "file", "", "the release's file (stored in the data folder's artifact store, unless --url is given)")
	f.StringVar(&o.dir, "dir", "", "publish a whole program folder: the folder, or a .zip, .tar.gz or .tgz of it (one top folder alone in an archive is its root); not with --file or --url")
	f.StringArrayVar(&o.preserve, "preserve", nil, "with --dir: the customer's files, never overwritten by an update (a pattern like data/** or *.ini; repeat the flag for more)")
	f.StringVar(&o.main, "main", "", "with --dir: the program, relative to the folder (e.g. bin/ledger.exe); the health check runs it")
	f.StringVar(&o.p.URL, "url", "", "serve the release's bytes from this external origin or CDN: they are read once to sign their sha256 and size (and must equal --file if given), and clients are redirected there")
	f.StringVar(&o.health, "health-check", "auto", `after installing, run the program with these arguments; it must exit 0 or the old version is put back ("auto": --version for a program, none for a data file; "none")`)
	f.StringSliceVar(&o.p.DowngradeFrom, "downgrade-from", nil, "withdraw these newer versions: they are no longer offered, and their installations move back to this release free of charge (comma-separated)")
	f.IntVar(&o.patchFrom, "patches", patches.DefaultFrom, "make a delta patch to this release from each of this many earlier releases (0: none); see aktuald release patches")
	o.pf.add(f)
	o.cf.add(f)
	cmd.AddCommand(publish, newPatchesCmd(e), newReleaseStatusCmd(e))
	cmd.AddCommand(newControlCmds(e)...)
	return cmd
}

func runPublish(ctx context.Context, e *env, o *publishOptions) error {
	switch {
	case o.dir != "" && (o.file != "" || o.p.URL != ""):
		return usagef("--dir publishes a folder, --file and --url a single file: give one of them")
	case o.dir == "" && (len(o.preserve) > 0 || o.main != ""):
		return usagef("--preserve and --main are for a folder: give --dir with them")
	case o.dir != "":
	case o.file == "" && o.p.URL == "":
		return usagef("--file, --url or --dir is required: the release's file, where an origin or CDN serves it, or the program's folder")
	case o.file != "":
		f, err := os.Open(o.file)
		if err != nil {
			return usagef("cannot read --file: %v", err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			return usagef("--file %s is a folder; give the release's file", o.file)
		}
		o.p.File = f
	}
	switch o.health {
	case "auto":
		o.p.AutoHealthCheck = true
	case "none", "":
	default:
		o.p.HealthCheck = strings.Fields(o.health)
	}
	if o.patchFrom < 0 {
		return usagef("--patches must be 0 (none) or more")
	}
	pol, err := o.pf.policy(o.patchFrom)
	if err != nil {
		return err
	}
	made := []patches.Result{}
	o.p.OnPatch = func(r patches.Result) { made = append(made, r) }
	inst, err := e.open()
	if err != nil {
		return err
	}
	defer inst.Close()
	adm := admin.New(inst)
	adm.Patches = pol
	if o.dir != "" {
		return runPublishFolder(ctx, e, adm, o)
	}
	st, err := adm.Publish(ctx, o.p)
	if err != nil {
		return usagef("%v", err)
	}
	text := publishedText(st, o.p.URL, made) + controlSummary(o.p.Control)
	if perr := patchErrors(made); perr != nil {
		fmt.Fprintln(e.errOut, "aktuald: warning: the release is published, but", perr)
	}
	// The statement's fields as before, where the bytes are, and
	// the delta patches made to it.
	e.print(struct {
		api.ReleaseStatement
		URL     string           `json:"url,omitempty"`
		Patches []patches.Result `json:"patches"`
	}{st, o.p.URL, made}, text)
	return nil
}

// publishedText is what release publish tells staff of a release.
func publishedText(st api.ReleaseStatement, url string, made []patches.Result) string {
	check := "none"
	if len(st.HealthCheck) > 0 {
		check = "run it with " + strings.Join(st.HealthCheck, " ")
	}
	text := fmt.Sprintf("Published %s %s (%s series) for %s/%s: %d bytes, sha256 %s\nHealth check after install: %s\n",
		st.Product, st.Version, st.Series, st.OS, st.Arch, st.Size, st.SHA256, check)
	if url != "" {
		text += fmt.Sprintf("Served from: %s (clients asking this server are redirected there)\n", url)
	}
	if len(st.DowngradeFrom) > 0 {
		text += fmt.Sprintf("Withdrawn: %s (no longer offered; installations of them move back to %s free of charge)\n",
			strings.Join(st.DowngradeFrom, ", "), st.Version)
	}
	return text + patchesText(made)
}

// runPublishFolder publishes --dir: a whole program folder.
func runPublishFolder(ctx context.Context, e *env, adm *admin.Admin, o *publishOptions) error {
	st, m, err := adm.PublishFolder(ctx, admin.FolderParams{PublishParams: o.p, Dir: o.dir, Preserve: o.preserve, Main: o.main})
	if err != nil {
		return usagef("%v", err)
	}
	text := publishedText(st, "", nil) + controlSummary(o.p.Control)
	text += fmt.Sprintf("A folder: %d files, %d bytes in all (the signed sha256 and size above are its manifest's)\n", st.Files, st.TotalSize)
	if m.Main != "" {
		text += fmt.Sprintf("Program: %s\n", m.Main)
	}
	if len(m.Preserve) > 0 {
		text += fmt.Sprintf("Preserved (the customer's, never overwritten): %s\n", strings.Join(m.Preserve, ", "))
	}
	var filePatches int
	var patchBytes, patchedBytes int64
	for _, f := range m.Files {
		for _, p := range f.Patches {
			filePatches++
			patchBytes += p.Size
			patchedBytes += f.Size
		}
	}
	if filePatches > 0 {
		text += fmt.Sprintf("File patches from earlier versions: %d (%d bytes instead of %d)\n", filePatches, patchBytes, patchedBytes)
	}
	e.print(struct {
		api.ReleaseStatement
		Main        string           `json:"main,omitempty"`
		Preserve    []string         `json:"preserve,omitempty"`
		Patches     []patches.Result `json:"patches"`
		FilePatches int              `json:"file_patches"`
	}{st, m.Main, m.Preserve, []patches.Result{}, filePatches}, text)
	return nil
}
