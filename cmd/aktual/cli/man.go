package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater"
)

// newManCmd writes aktual's manual pages, generated from the commands
// themselves, so they never disagree with --help. They are written in the
// language aktual speaks (--lang bg gives the Bulgarian pages).
func newManCmd(ios *IOStreams) *cobra.Command {
	P := ios.P
	var dir string
	cmd := &cobra.Command{
		Use:   "man",
		Short: P.Sprintf("Write aktual's manual pages (man 1) into a folder"),
		Example: `  aktual man --dir /usr/local/share/man/man1
  aktual man --lang bg --dir /usr/local/share/man/bg/man1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return usageError(i18n.M("--dir is required: the folder to write the pages into, e.g. --dir /usr/local/share/man/man1"))
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return &updater.Error{Kind: updater.ErrUsage, Err: err, Msg: i18n.M("cannot create %s (%v); pass a writable --dir", dir, err)}
			}
			// Each page is titled by its command (AKTUAL-UPDATE).
			header := manHeader{Section: "1", Source: "aktual " + version(), Manual: P.Sprintf("aktual manual")}
			if err := writeManTree(cmd.Root(), header, dir); err != nil {
				return &updater.Error{Kind: updater.ErrUsage, Err: err, Msg: i18n.M("writing the manual pages into %s failed (%v)", dir, err)}
			}
			if !ios.Quiet {
				fmt.Fprintln(ios.ErrOut, P.Sprintf("Manual pages written to %s; read one with: man %s/aktual-update.1", dir, dir))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", P.Sprintf("folder to write the pages into"))
	return cmd
}
