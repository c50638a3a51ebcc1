package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/store"
)

// controlFlags are release publish's flags for how the version is offered
// (issue 20): channels, a staged rollout, critical, a required version,
// the automatic brake and the release notes.
type controlFlags struct {
	channels                []string
	percent                 int
	critical                bool
	requires                string
	brakeAfter              int
	brakeRate               int
	notes, notesBG, notesEN string
}

func (c *controlFlags) add(f *pflag.FlagSet) {
	f.StringSliceVar(&c.channels, "channel", nil, "publish to these channels (comma-separated; default stable): an installation on channel beta is offered beta's releases and the stable ones")
	f.IntVar(&c.percent, "rollout", 100, "offer the release to this percent of installations first (a staged rollout; raise it with aktuald release rollout)")
	f.BoolVar(&c.critical, "critical", false, "a critical release: offered to everyone at once (no stages), and the installer says so")
	f.StringVar(&c.requires, "requires", "", "installations older than this version update to it first (one paid update for the whole path)")
	f.IntVar(&c.brakeAfter, "brake-after", 0, "the automatic brake: watch the first N installations that try the release (0: no brake)")
	f.IntVar(&c.brakeRate, "brake-rate", 20, "with --brake-after: halt the release when more than this percent of them failed or were rolled back")
	f.StringVar(&c.notes, "notes", "", "release notes in Markdown: a folder with bg.md and/or en.md, or one file named NAME.bg.md or NAME.en.md")
	f.StringVar(&c.notesBG, "notes-bg", "", "release notes in Bulgarian (a Markdown file)")
	f.StringVar(&c.notesEN, "notes-en", "", "release notes in English (a Markdown file)")
}

// params turns the flags given into admin.ControlParams (a flag not given
// leaves what is stored).
func (c *controlFlags) params(f *pflag.FlagSet) (admin.ControlParams, error) {
	var p admin.ControlParams
	if f.Changed("channel") {
		p.Channels = c.channels
	}
	if f.Changed("rollout") {
		p.Percent = &c.percent
	}
	if f.Changed("critical") {
		p.Critical = &c.critical
	}
	if f.Changed("requires") {
		p.Requires = &c.requires
	}
	if f.Changed("brake-after") || f.Changed("brake-rate") {
		p.BrakeAfter, p.BrakeRate = &c.brakeAfter, &c.brakeRate
	}
	notes, err := c.readNotes()
	if err != nil {
		return p, err
	}
	p.Notes = notes
	p.Actor = store.Actor{Name: localCaller().Actor}
	return p, nil
}

// readNotes reads --notes, --notes-bg and --notes-en: nil when none is
// given.
func (c *controlFlags) readNotes() (map[string]string, error) {
	files := map[string]string{}
	if c.notes != "" {
		fi, err := os.Stat(c.notes)
		if err != nil {
			return nil, usagef("cannot read --notes: %v", err)
		}
		if fi.IsDir() {
			for _, lang := range api.NotesLanguages {
				if p := filepath.Join(c.notes, lang+".md"); fileExists(p) {
					files[lang] = p
				}
			}
			if len(files) == 0 {
				return nil, usagef("--notes %s has neither bg.md nor en.md: put the notes there, one file per language", c.notes)
			}
		} else {
			lang := notesLanguage(c.notes)
			if lang == "" {
				return nil, usagef("--notes %s: say its language with --notes-bg or --notes-en, or name it NAME.bg.md or NAME.en.md", c.notes)
			}
			files[lang] = c.notes
		}
	}
	for lang, p := range map[string]string{"bg": c.notesBG, "en": c.notesEN} {
		if p != "" {
			files[lang] = p
		}
	}
	if len(files) == 0 {
		return nil, nil
	}
	notes := map[string]string{}
	for lang, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, usagef("cannot read the %s release notes: %v", lang, err)
		}
		if strings.TrimSpace(string(b)) == "" {
			return nil, usagef("the %s release notes %s are empty", lang, p)
		}
		notes[lang] = string(b)
	}
	return notes, nil
}

// notesLanguage is the language a notes file's name says (NAME.bg.md).
func notesLanguage(name string) string {
	for _, lang := range api.NotesLanguages {
		if strings.HasSuffix(strings.ToLower(name), "."+lang+".md") {
			return lang
		}
	}
	return ""
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// controlOptions are the flags of rollout, halt, resume and yank.
type controlOptions struct {
	product, version, reason string
	percent                  int
}

func (o *controlOptions) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.product, "product", "", "product name")
	f.StringVar(&o.version, "version", "", "the release's version")
	f.StringVar(&o.reason, "reason", "", "why (the audit log and the release's status show it)")
	for _, name := range []string{"product", "version", "reason"} {
		_ = cmd.MarkFlagRequired(name)
	}
}

// newControlCmds are aktuald release rollout, halt, resume and yank.
func newControlCmds(e *env) []*cobra.Command {
	ro := &controlOptions{}
	rollout := &cobra.Command{
		Use:   "rollout",
		Short: "Offer a staged release to more (or fewer) installations",
		Long: `rollout sets how far a staged release reaches: the percent of installations
offered it. Each installation has a stable place derived from its machine and
the product, so raising 10 to 25 keeps the first 10% in and adds 15%.`,
		Example: `  aktuald release rollout --product ledger --version 2.1.0 --percent 25 --reason "no failures in the first 10%"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runControl(cmd.Context(), e, func(ctx context.Context, adm *admin.Admin) (admin.Control, error) {
				return adm.Rollout(ctx, localCaller(), ro.product, ro.version, ro.percent, ro.reason)
			})
		},
	}
	ro.add(rollout)
	rollout.Flags().IntVar(&ro.percent, "percent", 0, "percent of installations offered the release (0 to 100)")
	_ = rollout.MarkFlagRequired("percent")
	return []*cobra.Command{rollout, haltCmd(e, "halt"), haltCmd(e, "resume"), yankCmd(e)}
}

func haltCmd(e *env, which string) *cobra.Command {
	o := &controlOptions{}
	cmd := &cobra.Command{
		Use:     which,
		Short:   "Stop offering a release at once (every replica); no update to it is reserved until resumed",
		Example: `  aktuald release halt --product ledger --version 2.1.0 --reason "crashes on start with old printers"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runControl(cmd.Context(), e, func(ctx context.Context, adm *admin.Admin) (admin.Control, error) {
				if which == "resume" {
					return adm.Resume(ctx, localCaller(), o.product, o.version, o.reason)
				}
				return adm.Halt(ctx, localCaller(), o.product, o.version, o.reason)
			})
		},
	}
	if which == "resume" {
		cmd.Short = "Offer a halted release again, as far as its rollout reached"
		cmd.Example = `  aktuald release resume --product ledger --version 2.1.0 --reason "the printer fix is in the notes"`
	}
	o.add(cmd)
	return cmd
}

func yankCmd(e *env) *cobra.Command {
	o := &controlOptions{}
	cmd := &cobra.Command{
		Use:   "yank",
		Short: "Withdraw a release for good; its installations move back to the previous release free of charge",
		Long: `yank withdraws a release for good: it is never offered again and no update to
it is reserved. On each platform the newest older release is signed anew (with
the release key) as a downgrade from it, so installations of the withdrawn
version are offered that release free of charge, as publish --downgrade-from
does. It cannot be undone: publish a new version instead.`,
		Example: `  aktuald release yank --product ledger --version 2.1.0 --reason "corrupts the stock ledger"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			inst, err := e.open()
			if err != nil {
				return err
			}
			defer inst.Close()
			y, err := admin.New(inst).Yank(cmd.Context(), localCaller(), o.product, o.version, o.reason)
			if err != nil {
				return staffError(err)
			}
			text := controlText(y.Control)
			for _, d := range y.Downgrades {
				if d.Version == "" {
					text += fmt.Sprintf("%s/%s: no older release to move back to; its installations stay until a new version is published\n", d.OS, d.Arch)
				} else {
					text += fmt.Sprintf("%s/%s: installations move back to %s free of charge\n", d.OS, d.Arch, d.Version)
				}
			}
			e.print(admin.ViewOfYank(y), text)
			return nil
		},
	}
	o.add(cmd)
	return cmd
}

func runControl(ctx context.Context, e *env, do func(context.Context, *admin.Admin) (admin.Control, error)) error {
	inst, err := e.open()
	if err != nil {
		return err
	}
	defer inst.Close()
	c, err := do(ctx, admin.New(inst))
	if err != nil {
		return staffError(err)
	}
	e.print(admin.ViewOf(c), controlText(c))
	return nil
}

// controlText is one line on how a version is offered now.
func controlText(c admin.Control) string {
	reach := fmt.Sprintf("%d%% of installations", c.Percent)
	if c.Critical {
		reach = "everyone (critical)"
	}
	return fmt.Sprintf("%s %s: %s, channels %s, offered to %s (%s by %s)\n",
		c.Product, c.Version, c.State, strings.Join(c.Channels, ","), reach, c.Reason, c.ChangedBy)
}

// controlSummary says how a version just published is offered, when
// publish was told.
func controlSummary(p admin.ControlParams) string {
	var parts []string
	if p.Channels != nil {
		parts = append(parts, "channels "+strings.Join(store.ParseChannels(strings.Join(p.Channels, ",")), ","))
	}
	if p.Critical != nil && *p.Critical {
		parts = append(parts, "critical: everyone at once")
	} else if p.Percent != nil {
		parts = append(parts, fmt.Sprintf("staged rollout to %d%% (aktuald release rollout raises it)", *p.Percent))
	}
	if p.Requires != nil && *p.Requires != "" {
		parts = append(parts, "older installations pass through "+*p.Requires+" first")
	}
	if p.BrakeAfter != nil && *p.BrakeAfter > 0 {
		parts = append(parts, fmt.Sprintf("halts itself if over %d%% of its first %d installations fail", *p.BrakeRate, *p.BrakeAfter))
	}
	for _, lang := range api.NotesLanguages {
		if p.Notes[lang] != "" {
			parts = append(parts, "release notes in "+lang)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Offered: " + strings.Join(parts, "; ") + "\n"
}
