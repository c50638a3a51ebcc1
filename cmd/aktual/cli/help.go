package cli

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/aktual/aktual/internal/i18n"
)

// localizeHelp puts cobra's own words — the usage layout, the help and
// completion commands, the --help flag — in the reader's language. It runs
// once every command has been added.
func localizeHelp(root *cobra.Command, P *i18n.Printer) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	root.SetUsageTemplate(usageTemplate(P))
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Short = P.Sprintf("Help about any command")
			c.Long = P.Sprintf("help shows the help of any command: aktual help update is aktual update --help.")
		case "completion":
			localizeCompletion(c, P)
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		if f := c.Flags().Lookup("help"); f != nil {
			f.Usage = P.Sprintf("help for %s", c.Name())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completionExamples: how each shell loads the script.
var completionExamples = map[string]string{
	"bash":       "source <(aktual completion bash)",
	"zsh":        "aktual completion zsh > \"${fpath[1]}/_aktual\"",
	"fish":       "aktual completion fish | source",
	"powershell": "aktual completion powershell | Out-String | Invoke-Expression",
}

func localizeCompletion(c *cobra.Command, P *i18n.Printer) {
	c.Short = P.Sprintf("Write the shell completion script for aktual (bash, zsh, fish or powershell)")
	c.Long = P.Sprintf("completion writes a script on standard output that lets your shell complete aktual's commands and flags (press Tab). Pick your shell's subcommand.")
	// Runnable, so that a shell aktual does not know is an error (exit 2),
	// not the help with exit 0.
	c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	for _, sub := range c.Commands() {
		shell := sub.Name()
		sub.Short = P.Sprintf("Write the completion script for %s", shell)
		if ex, ok := completionExamples[shell]; ok {
			sub.Long = P.Sprintf("Writes the %[1]s completion script for aktual on standard output. To use it in the current shell:\n\n  %[2]s\n\nTo use it in every session, put that line in your shell's start-up file.", shell, ex)
		}
		sub.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "no-descriptions" {
				f.Usage = P.Sprintf("complete without descriptions")
			}
		})
	}
}

// usageTemplate is cobra's default usage layout (without command groups
// and help topics, which aktual does not use), its headings translated.
func usageTemplate(P *i18n.Printer) string {
	return P.Sprintf("Usage:") + `{{if .Runnable}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [command]{{end}}{{if gt (len .Aliases) 0}}

` + P.Sprintf("Aliases:") + `
  {{.NameAndAliases}}{{end}}{{if .HasExample}}

` + P.Sprintf("Examples:") + `
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

` + P.Sprintf("Commands:") + `{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

` + P.Sprintf("Flags:") + `
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

` + P.Sprintf("Global flags:") + `
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableSubCommands}}

` + P.Sprintf("Use \"%s [command] --help\" for more information about a command.", "{{.CommandPath}}") + `{{end}}
`
}
