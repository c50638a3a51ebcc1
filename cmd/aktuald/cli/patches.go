package cli

import (
	"fmt"
	"strings"

	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/patches"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// patchFlags are the delta-patch settings both release commands take.
type patchFlags struct {
	minKiB, maxMiB int64
}

func (f *patchFlags) add(fs *pflag.FlagSet) {
	fs.Int64Var(&f.minKiB, "patch-min-kib", patches.DefaultMinSize>>10, "make no patch to a release smaller than this (KiB): a whole download costs about what a patch does")
	fs.Int64Var(&f.maxMiB, "patch-max-mib", patches.DefaultMaxSize>>20, "diff no file larger than this (MiB): a diff needs about 3 times the file's size in memory")
}

func (f *patchFlags) policy(from int) (patches.Policy, error) {
	if f.minKiB < 1 || f.maxMiB < 1 {
		return patches.Policy{}, usagef("--patch-min-kib and --patch-max-mib must be at least 1")
	}
	if from == 0 {
		from = -1 // none
	}
	return patches.Policy{From: from, MinSize: f.minKiB << 10, MaxSize: f.maxMiB << 20}, nil
}

func newPatchesCmd(e *env) *cobra.Command {
	var product string
	var keep int
	var pf patchFlags
	cmd := &cobra.Command{
		Use:   "patches",
		Short: "Make the delta patches to a product's newest releases from the releases before them",
		Long: `patches computes, for each platform of the product, a bsdiff patch from each
of the --keep newest earlier releases to the newest release, as publish does
for a new release: for releases published before, or with other settings.
A patch already stored is kept; one not at least 20% smaller than the
release is not stored. Clients that have one of those releases then download
the patch instead of the whole release, and check its result against the
signed release. Releases served from an origin (--url) get no patches.`,
		Example: `  aktuald release patches --product ledger
  aktuald release patches --product ledger --keep 5 --patch-max-mib 128`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if product == "" {
				return usagef("--product is required")
			}
			if keep < 1 {
				return usagef("--keep must be at least 1")
			}
			pol, err := pf.policy(keep)
			if err != nil {
				return err
			}
			inst, err := e.open()
			if err != nil {
				return err
			}
			defer inst.Close()
			adm := admin.New(inst)
			adm.Patches = pol
			results, err := adm.MakePatches(cmd.Context(), product, nil)
			if err != nil {
				return usagef("%v", err)
			}
			if results == nil {
				results = []patches.Result{}
			}
			text := patchesText(results)
			if len(results) == 0 {
				text = fmt.Sprintf("No patches to make: no release of %s has an earlier stable release on its platform.\n", product)
			}
			e.print(struct {
				Product string           `json:"product"`
				Patches []patches.Result `json:"patches"`
			}{product, results}, text)
			return patchErrors(results)
		},
	}
	f := cmd.Flags()
	f.StringVar(&product, "product", "", "product name")
	f.IntVar(&keep, "keep", patches.DefaultFrom, "how many earlier releases get a patch to the newest")
	pf.add(f)
	return cmd
}

// patchErrors fails the command when a patch could not be made (a missing
// bzip2, a damaged blob): the releases stay published, whole.
func patchErrors(rs []patches.Result) error {
	n := 0
	for _, r := range rs {
		if r.Error != "" {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return &codeError{code: exitFailed, err: fmt.Errorf("%d patch(es) could not be made; clients download those releases whole", n)}
}

// patchesText is a line per patch.
func patchesText(rs []patches.Result) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "Patch %s %s/%s %s → %s: ", r.Product, r.OS, r.Arch, r.FromVersion, r.ToVersion)
		switch {
		case r.Error != "":
			fmt.Fprintf(&b, "FAILED: %s\n", r.Error)
		case r.Skipped != "":
			fmt.Fprintf(&b, "none (%s)\n", r.Skipped)
		case r.Existing:
			fmt.Fprintf(&b, "%d bytes, %s of the release's %d, already stored\n", r.Size, percent(r.Size, r.FullSize), r.FullSize)
		default:
			fmt.Fprintf(&b, "%d bytes, %s of the release's %d (computed in %.1f s)\n", r.Size, percent(r.Size, r.FullSize), r.FullSize, r.Seconds)
		}
	}
	return b.String()
}

func percent(part, whole int64) string {
	if whole <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.2f%%", 100*float64(part)/float64(whole))
}
